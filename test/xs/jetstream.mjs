// nats-xs/jetstream on the XS engine, under the ESP32 creation budget with nats-xs and
// nats-xs/jetstream preloaded (as manifests/nats-xs-jetstream preloads them), against a real
// nats-server with file storage. Driven by test/xs-jetstream.test.ts, which restarts the server,
// publishes with nats.js and reads the stream back with nats.js.
//
//   npm run xs -- test/xs/jetstream.mjs --preload nats-xs --preload nats-xs/jetstream server=nats://127.0.0.1:4222
//
// Lines on stdout, in order (the test acts on the ones marked <-):
//   ready                                     stream XSJS and durable "dev" made by the device
//   hostile refused JetStreamResponseError    a reply nested 1,500 deep (from the test's responder)
//   published acked=100 dup=0                 100 publishes with ack, 20 in flight at a time
//   fetched 100 bad=0                         the durable's fetch of them, each acked
//   restart                                <- the test restarts the server (same store)
//   outbox waiting=<n>                        publishes made meanwhile wait in the outbox
//   resumed acked=20                          they were acked after the restart
//   refetched 20 bad=0                        fetched with the durable after the restart, ackAck'd
//   consume                                <- the test publishes N messages with nats.js
//   consumed <N> bad=0                        consume() with a callback saw them all, acked
//   memory {...}                              heap figures per stage (after a forced collection)
//   done
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { jetstream, jetstreamManager } from "nats-xs/jetstream";

const prefix = config.prefix ?? "xsjs";
const N = config.consume ?? 2000;
const dog = watchdog(config.timeout ?? 50000);
const figures = {};

function stage(name) {
  const m = memory();
  figures[name] = m;
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, m))}`);
}

async function main() {
  const nc = await connect({ servers: config.server, name: "xs-js", reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  stage("connected");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "XSJS", subjects: [`${prefix}.>`], storage: "file" });
  await jsm.consumers.add("XSJS", { durable_name: "dev", ack_policy: "explicit", filter_subject: `${prefix}.r` });
  const js = jetstream(nc, { timeout: 2000 });
  const c = await js.consumers.get("XSJS", "dev");
  say("ready");
  stage("ready");

  // a hostile API reply nested 1,500 deep (3 KB): refused by the byte scan before JSON.parse,
  // which would overflow the 512-slot stack; the connection goes on
  const hostileJsm = await jetstreamManager(nc, { apiPrefix: `$BAD${prefix}.API`, checkAPI: false });
  try {
    await hostileJsm.streams.info("X");
    fail("a deeply nested reply was accepted");
  } catch (e) {
    say(`hostile refused ${e.name}`);
  }

  // 100 acked publishes, 20 in flight at a time
  let acked = 0;
  let dup = 0;
  for (let i = 0; i < 100; i += 20) {
    const batch = [];
    for (let k = i; k < i + 20; k++) batch.push(js.publish(`${prefix}.r`, `r${k}`));
    for (const a of await Promise.all(batch)) {
      acked++;
      if (a.duplicate) dup++;
    }
  }
  say(`published acked=${acked} dup=${dup}`);
  stage("published");

  let n = 0;
  let bad = 0;
  for await (const m of await c.fetch({ max_messages: 100, expires: 5000 })) {
    if (m.string() !== `r${n}` || m.info.streamSequence !== n + 1) bad++;
    m.ack();
    n++;
  }
  say(`fetched ${n} bad=${bad}`);
  stage("fetched");

  // the server goes away and comes back: publishes made meanwhile wait in the outbox
  const reconnects = nc.stats().reconnects;
  say("restart");
  await until(() => nc.getServer() === "", 10000, "the disconnect");
  const later = [];
  for (let k = 100; k < 120; k++) later.push(js.publish(`${prefix}.r`, `r${k}`));
  say(`outbox waiting=${js.outboxStatus().waiting}`);
  stage("outbox");
  await until(() => nc.stats().reconnects > reconnects, 20000, "the reconnect");
  const acks = await Promise.all(later);
  say(`resumed acked=${acks.length}`);

  n = 0;
  bad = 0;
  for await (const m of await c.fetch({ max_messages: 20, expires: 5000 })) {
    if (m.string() !== `r${100 + n}`) bad++;
    if (!(await m.ackAck())) bad++;
    n++;
  }
  say(`refetched ${n} bad=${bad}`);
  stage("resumed");

  // a consume loop: one JsMsg per message, no promise or closure
  let got = 0;
  bad = 0;
  const msgs = await c.consume({
    max_messages: 100,
    callback: (m) => {
      if (m.data.length !== 16) bad++;
      m.ack();
      got++;
      if (got === N >> 2) stage("consume-quarter");
    },
  });
  say("consume");
  await until(() => got >= N, 30000, `${N} consumed messages (${got} so far)`);
  say(`consumed ${got} bad=${bad}`);
  stage("consumed");
  await msgs.close();
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
