// The file-backed JetStream outbox (nats-xs/outbox-file) on the XS engine under the ESP32 budget,
// nats-xs, nats-xs/jetstream and nats-xs/outbox-file preloaded. Run twice by
// test/xs-outbox-file.test.ts with the same NATS_XS_DEVICE_DIR (the device's files kept):
//
//   phase=fill    connected                <- the test stops the server
//                 accepted <n>                n readings accepted while the server is away
//                 memory {...}                heap with them pending (stage "pending")
//                 (exits: the power goes)
//   phase=drain   restored <n> corrupt=0      the next boot found them in the file
//                 memory {...}                heap before and after jetstream() restored them
//                 drained acked=<n> failed=0  all sent (with their Nats-Msg-Id) and acked
//                 done
import config from "mc/config";
import { memory } from "xs:memory";
import { exit } from "xs:host";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { jetstream } from "nats-xs/jetstream";
import { fileStore } from "nats-xs/outbox-file";

const N = config.count ?? 50;
const dog = watchdog(config.timeout ?? 25000);

function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

async function fill() {
  const nc = await connect({ servers: config.server, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  const js = jetstream(nc, { outboxStore: fileStore("outbox", { maxBytes: 16384 }), outboxBytes: 64 * 640 });
  stage("base");
  say("connected");
  await until(() => nc.getServer() === "", 15000, "the server to go away", 20);
  let accepted = 0;
  const ignore = () => {};
  for (let i = 0; i < N; i++) {
    const before = js.outboxStatus().published;
    js.publish(config.subject, `{"reading":${i},"celsius":21.5}`, { msgID: `xs-${i}` }).then(ignore, ignore);
    if (js.outboxStatus().published > before) accepted++;
  }
  say(`accepted ${accepted}`);
  stage("pending");
  exit(0); // the power goes: nothing is closed
}

async function drain() {
  const nc = await connect({ servers: config.server, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  // what the journal's index of N entries costs alone (kept while measuring)
  const probe = fileStore("outbox", { maxBytes: 16384 });
  stage("probe");
  const keys = probe.open();
  stage("probed");
  probe.close();
  say(`probe keys=${keys.length}`);
  const store = fileStore("outbox", { maxBytes: 16384 });
  stage("before");
  const js = jetstream(nc, { outboxStore: store, outboxBytes: 64 * 640 });
  const s = js.outboxStatus();
  say(`restored ${s.restored} corrupt=${s.corrupt}`);
  stage("restored");
  await js.outboxIdle();
  const d = js.outboxStatus();
  say(`drained acked=${d.acked} failed=${d.failed} duplicates=${d.duplicates}`);
  say(`file bytes=${store.status().bytes}`);
  stage("drained");
  await nc.close();
}

(config.phase === "fill" ? fill() : drain()).then(
  () => {
    Timer.clear(dog);
    say("done");
  },
  (e) => fail(`${e?.name}: ${e?.message}`),
);
import Timer from "timer";
