// Issue 14's workload, the same on the XS host and on Moddable's Linux runtime: connect, 10
// subscriptions, 1,000 messages in (published by the client to its own subscriptions, so 1,000 out
// too), 10 request/reply against a peer's responder, close. Driven by bench/memory.mjs
// (bench/lib/workload.mjs), which starts nats-server and the responder.
//
//   npm run xs -- bench/xs/workload.mjs --preload nats-xs --alias bench-probe=bench/xs/probe-xs.js \
//     server=nats://127.0.0.1:4222 api=callbacks
//
// config: server (nats://127.0.0.1:port), client (nats-xs | floor), api (callbacks | iterators),
// prefix (subjects). Prints `W {"at",slots,chunkBytes,...}` after each step, read right after a
// forced collection (bench-probe), `G {"phase",collections,messages}` for the collections a phase
// ran, then DONE; FAIL <why> on any error. Everything the module keeps (subjects, payload,
// callbacks) is made before the first reading, so readings differ by the client's state only.
import config from "mc/config";
import Timer from "timer";
import { collections, reading } from "bench-probe";
import { connect } from "nats-xs";
import { Floor } from "./floor.js";

const SUBS = 10;
const MESSAGES = 1000;
const REQUESTS = 10;
const BATCH = 100;
const prefix = config.prefix ?? "wl";
const client = config.client ?? "nats-xs";
const api = config.api ?? "callbacks";

const subjects = [];
for (let k = 0; k < SUBS; k++) subjects.push(`${prefix}.s.${k}`);
const echo = `${prefix}.echo`;
const payload = new Uint8Array(16);
const expected = new Int32Array(SUBS);
let received = 0;
let bad = 0;
let loopsEnded = 0;
let allIn = null;
let allInPromise = null;

function check(d) {
  const i = ((d[0] << 8) | d[1]) >>> 0;
  const k = i % SUBS;
  if (d.length !== 16 || i !== expected[k] || d[15] !== ((i + 15) & 255)) bad++;
  expected[k] = i + SUBS;
  if (++received === MESSAGES) allIn();
}
const onMsg = (err, msg) => {
  if (err !== null) bad++;
  else check(msg.data);
};
const onRaw = (data) => check(data);

function at(name, extra) {
  const m = reading();
  trace(`W ${JSON.stringify(Object.assign({ at: name, client, api }, m, extra))}\n`);
}

function tick() {
  return new Promise((resolve) => Timer.set(resolve, 0));
}

function fill(i) {
  payload[0] = (i >>> 8) & 255;
  payload[1] = i & 255;
  for (let j = 2; j < 16; j++) payload[j] = (i + j) & 255;
}

async function natsxs() {
  allInPromise = new Promise((resolve) => (allIn = resolve));
  await tick();
  at("afterImport");
  const nc = await connect({ servers: config.server, name: "workload", noRandomize: true });
  at("afterConnect");
  const subs = [];
  for (let k = 0; k < SUBS; k++) {
    if (api === "iterators") {
      const sub = nc.subscribe(subjects[k]);
      subs.push(sub);
      (async () => {
        for await (const m of sub) check(m.data);
        loopsEnded++;
      })();
    } else subs.push(nc.subscribe(subjects[k], { callback: onMsg }));
  }
  await nc.flush();
  at("after10Subs");
  const gc0 = collections();
  for (let i = 0; i < MESSAGES; i++) {
    fill(i);
    nc.publish(subjects[i % SUBS], payload);
    if ((i + 1) % BATCH === 0) await nc.flush();
  }
  await allInPromise;
  const gc1 = collections();
  at("after1000Messages", { received, bad });
  const gc2 = collections();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await nc.request(echo, payload, { timeout: 5000 });
    if (r.data.length !== 16) bad++;
  }
  const gc3 = collections();
  at("after10Requests");
  await nc.close();
  at("afterClose", { loopsEnded, held: heldBytes(nc) });
  trace(`G ${JSON.stringify({ phase: "messages", collections: gc1 - gc0, messages: MESSAGES })}\n`);
  trace(`G ${JSON.stringify({ phase: "requests", collections: gc3 - gc2, requests: REQUESTS })}\n`);
  if (received !== MESSAGES || bad !== 0) throw new Error(`received ${received} of ${MESSAGES}, ${bad} bad`);
}

/** Buffer bytes the connection still holds, when the build says (nc.bufferBytes(), if it has one). */
function heldBytes(nc) {
  return typeof nc.bufferBytes === "function" ? nc.bufferBytes() : -1;
}

async function floor() {
  allInPromise = new Promise((resolve) => (allIn = resolve));
  const url = String(config.server);
  const hostPort = url.substring(url.lastIndexOf("/") + 1).split(":");
  await tick();
  at("afterImport");
  const fc = new Floor(hostPort[0], Number(hostPort[1]));
  await fc.ready();
  at("afterConnect");
  for (let k = 0; k < SUBS; k++) fc.subscribe(subjects[k], onRaw);
  await fc.flush();
  at("after10Subs");
  const gc0 = collections();
  for (let i = 0; i < MESSAGES; i++) {
    fill(i);
    fc.publish(subjects[i % SUBS], payload);
    if ((i + 1) % BATCH === 0) await fc.flush();
  }
  await allInPromise;
  const gc1 = collections();
  at("after1000Messages", { received, bad });
  const gc2 = collections();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await fc.request(echo, payload);
    if (r.length !== 16) bad++;
  }
  const gc3 = collections();
  at("after10Requests");
  await fc.close();
  at("afterClose");
  trace(`G ${JSON.stringify({ phase: "messages", collections: gc1 - gc0, messages: MESSAGES })}\n`);
  trace(`G ${JSON.stringify({ phase: "requests", collections: gc3 - gc2, requests: REQUESTS })}\n`);
  if (received !== MESSAGES || bad !== 0) throw new Error(`received ${received} of ${MESSAGES}, ${bad} bad`);
}

for (let k = 0; k < SUBS; k++) expected[k] = k;
(client === "floor" ? floor() : natsxs()).then(
  () => trace("DONE\n"),
  (e) => trace(`FAIL ${e?.name}: ${e?.message}\n`),
);
