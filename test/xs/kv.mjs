// nats-xs/kv on the XS engine, under the ESP32 creation budget with nats-xs, nats-xs/jetstream and
// nats-xs/kv preloaded (as manifests/nats-xs-kv preloads them), against a real nats-server. Driven by
// test/xs-kv.test.ts, which writes with @nats-io/kv and reads back what the device wrote.
//
//   npm run xs -- test/xs/kv.mjs --preload nats-xs --preload nats-xs/jetstream --preload nats-xs/kv server=nats://127.0.0.1:4222
//
// Lines on stdout, in order (the test acts on the ones marked <-):
//   ready                       bucket XSKV made by the device
//   put rev=<n> get=<value>     a put and a direct get
//   cas conflict=10071          an update with a stale revision refused
//   peer                     <- the test reads "device.state" and writes "peer.cfg" with nats.js
//   peer.cfg=<value>            the device read what nats.js wrote
//   watch                    <- the test writes N updates of "feed.<i % 10>" with nats.js
//   watched <N> bad=0           a watch with a callback saw them all, in order
//   restart                  <- the test restarts the server and writes "after" with nats.js
//   after restart=yes resets=true   a watch made before the restart saw it
//   memory {...}                heap figures per stage (after a forced collection)
//   done
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { Kvm } from "nats-xs/kv";

const N = config.updates ?? 1000;
const dog = watchdog(config.timeout ?? 50000);

function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

function until(test, ms, what) {
  return new Promise((resolve, reject) => {
    let waited = 0;
    const t = Timer.repeat(() => {
      if (test()) {
        Timer.clear(t);
        resolve();
      } else if ((waited += 20) >= ms) {
        Timer.clear(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

async function main() {
  const nc = await connect({ servers: config.server, name: "xs-kv", reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  stage("connected");
  const kv = await new Kvm(nc).create("XSKV", { history: 2 });
  say("ready");
  stage("ready");

  const rev = await kv.put("device.state", "on");
  const e = await kv.get("device.state");
  say(`put rev=${rev} get=${e.string()}`);
  await kv.update("device.state", "off", rev);
  try {
    await kv.update("device.state", "stale", rev);
    fail("a stale update was accepted");
  } catch (err) {
    say(`cas conflict=${err.code}`);
  }
  stage("kv");

  say("peer");
  let cfg = null;
  for (let i = 0; i < 250 && cfg === null; i++) {
    cfg = await kv.get("peer.cfg");
    if (cfg === null) await new Promise((r) => Timer.set(r, 20));
  }
  if (cfg === null) fail("peer.cfg never came");
  say(`peer.cfg=${cfg.string()}`);

  let got = 0;
  let bad = 0;
  const w = await kv.watch({
    key: "feed.>",
    include: "updates",
    callback: (entry) => {
      if (entry.key !== `feed.${got % 10}` || entry.value.length !== 16) bad++;
      got++;
      if (got === N >> 2) stage("watch-quarter");
    },
  });
  stage("watching");
  say("watch");
  await until(() => got >= N, 40000, `${N} watched updates (${got} so far)`);
  say(`watched ${got} bad=${bad} dropped=${w.status().dropped}`);
  stage("watched");
  w.stop();

  // a watch across a server restart: the consumer is made again and sees what comes after
  let after = null;
  const w2 = await kv.watch({ key: "after", include: "updates", heartbeat: 300, callback: (entry) => (after = entry.string()) });
  say("restart");
  await until(() => after !== null, 30000, "the update after the restart");
  say(`after restart=${after} resets=${w2.status().resets > 0}`);
  w2.stop();
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e.name}: ${e.message}`));
