// End to end on the XS engine, under the ESP32 creation budget with the library preloaded (as a
// device manifest preloads it), against a real nats-server. Driven by test/xs.test.ts, which runs
// the nats.js responder, restarts the server and publishes after the restart.
//
//   npm run xs -- test/xs/e2e.mjs --preload nats-xs server=nats://127.0.0.1:4222 prefix=e2e
//
// Lines on stdout, in order (the test waits for the ones marked <-):
//   connected                                  10 subscriptions made and confirmed by a flush
//   messages sent=10000 received=10000 bad=0   every message came back through its subscription
//   requests ok=100 bad=0                      round trips against the responder on <prefix>.echo
//   restart                                 <- the test restarts the server now
//   resubscribed                            <- reconnected and the server confirmed the SUBs:
//                                              the test publishes "after <k>" to every subject
//   resumed 10                                 one message after the restart on each subscription
//   memory {...}                               heap figures (after a forced collection) per stage
//   done
// Anything wrong prints `FAIL <why>` and exits 1; a watchdog exits 9 after `timeout` ms.
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { status } from "nats-xs/status";

const SUBS = 10;
const MESSAGES = 10000;
const REQUESTS = 100;
/** Publishes between flushes: 250 frames of about 40 bytes stay well inside maxPendingBytes. */
const BATCH = 250;
const prefix = config.prefix ?? "e2e";
const subjects = [];
for (let k = 0; k < SUBS; k++) subjects.push(`${prefix}.s.${k}`);

const dog = watchdog(config.timeout ?? 25000);

/** Heap figures of this stage, as one line. */
function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

// phase 1: message i carries i in its first 4 bytes and (i + j) & 255 in byte j; it goes to
// subscription i % 10, which must see 0..9999 of its own in order. Phase 2: text "after <k>".
let phase = 1;
let received = 0;
let bad = 0;
let after = 0;
let reconnects = 0;
const expected = new Int32Array(SUBS);

function subscribeAll(nc) {
  for (let k = 0; k < SUBS; k++) {
    expected[k] = k;
    nc.subscribe(subjects[k], {
      callback: (err, msg) => {
        if (err !== null) {
          bad++;
          return;
        }
        const d = msg.data;
        if (phase === 1) {
          const i = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
          let ok = d.length === 16 && i === expected[k] && msg.subject === subjects[k];
          for (let j = 4; ok && j < 16; j++) ok = d[j] === ((i + j) & 255);
          if (!ok) bad++;
          expected[k] = i + SUBS;
          received++;
        } else if (msg.string() === `after ${k}`) after++;
        else bad++;
      },
    });
  }
}

async function watchStatus(nc) {
  for await (const s of status(nc)) {
    if (s.type === "reconnect") reconnects++;
  }
}

async function main() {
  const nc = await connect({
    servers: config.server,
    name: "xs-e2e",
    noRandomize: true,
    reconnectTimeWait: 100,
    reconnectJitter: 0,
    maxReconnectAttempts: -1,
  });
  watchStatus(nc).catch((e) => fail(`status: ${e.message}`));
  subscribeAll(nc);
  await nc.flush();
  stage("connected");
  say("connected");

  const payload = new Uint8Array(16);
  for (let i = 0; i < MESSAGES; i++) {
    payload[0] = i >>> 24;
    payload[1] = (i >>> 16) & 255;
    payload[2] = (i >>> 8) & 255;
    payload[3] = i & 255;
    for (let j = 4; j < 16; j++) payload[j] = (i + j) & 255;
    nc.publish(subjects[i % SUBS], payload);
    if ((i + 1) % BATCH === 0) await nc.flush();
  }
  // the server answers the last PING after it delivered every message sent before it
  await nc.flush();
  say(`messages sent=${MESSAGES} received=${received} bad=${bad}`);
  stage("messages");

  let ok = 0;
  let wrong = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const reply = await nc.request(`${prefix}.echo`, `q${i}`, { timeout: 5000 });
    if (reply.string() === `re:q${i}`) ok++;
    else wrong++;
  }
  say(`requests ok=${ok} bad=${wrong}`);
  stage("requests");

  phase = 2;
  say("restart");
  await until(() => reconnects > 0, 15000, "the reconnect after the server restart");
  // the SUBs went out ahead of this PING: once it is answered the server has them
  await nc.flush();
  say("resubscribed");
  await until(() => after === SUBS, 10000, `"after <k>" on all ${SUBS} subscriptions (${after} so far)`);
  say(`resumed ${after}`);
  stage("resumed");
  if (bad !== 0) fail(`${bad} messages were wrong`);
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
