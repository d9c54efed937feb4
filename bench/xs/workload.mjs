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

/** nats-xs, with a shared callback or a for-await loop per subscription. */
function natsxs() {
  let nc = null;
  return {
    async connect() {
      nc = await connect({ servers: config.server, name: "workload", noRandomize: true });
    },
    subscribe(subject) {
      if (api !== "iterators") return nc.subscribe(subject, { callback: onMsg });
      const sub = nc.subscribe(subject);
      (async () => {
        for await (const m of sub) check(m.data);
        loopsEnded++;
      })();
      return sub;
    },
    publish: (subject) => nc.publish(subject, payload),
    flush: () => nc.flush(),
    request: async () => (await nc.request(echo, payload, { timeout: 5000 })).data.length,
    close: () => nc.close(),
    /** Buffer bytes the connection still holds (nc.bufferBytes(), when the build has it). */
    closed: () => ({ loopsEnded, held: typeof nc.bufferBytes === "function" ? nc.bufferBytes() : -1 }),
  };
}

/** The floor client (bench/xs/floor.js), callbacks only. */
function floor() {
  let fc = null;
  return {
    async connect() {
      const url = String(config.server);
      const hostPort = url.substring(url.lastIndexOf("/") + 1).split(":");
      fc = new Floor(hostPort[0], Number(hostPort[1]));
      await fc.ready();
    },
    subscribe: (subject) => fc.subscribe(subject, onRaw),
    publish: (subject) => fc.publish(subject, payload),
    flush: () => fc.flush(),
    request: async () => (await fc.request(echo, payload)).length,
    close: () => fc.close(),
    closed: () => ({}),
  };
}

const subs = [];

async function run(c) {
  allInPromise = new Promise((resolve) => (allIn = resolve));
  await tick();
  at("afterImport");
  await c.connect();
  at("afterConnect");
  // the app keeps its subscriptions, as an app does
  for (let k = 0; k < SUBS; k++) subs.push(c.subscribe(subjects[k]));
  await c.flush();
  at("after10Subs");
  const gc0 = collections();
  for (let i = 0; i < MESSAGES; i++) {
    fill(i);
    c.publish(subjects[i % SUBS]);
    if ((i + 1) % BATCH === 0) await c.flush();
  }
  await allInPromise;
  const gc1 = collections();
  at("after1000Messages", { received, bad });
  const gc2 = collections();
  for (let i = 0; i < REQUESTS; i++) if ((await c.request()) !== 16) bad++;
  const gc3 = collections();
  at("after10Requests");
  await c.close();
  at("afterClose", c.closed());
  trace(`G ${JSON.stringify({ phase: "messages", collections: gc1 - gc0, messages: MESSAGES })}\n`);
  trace(`G ${JSON.stringify({ phase: "requests", collections: gc3 - gc2, requests: REQUESTS })}\n`);
  if (received !== MESSAGES || bad !== 0) throw new Error(`received ${received} of ${MESSAGES}, ${bad} bad`);
}

for (let k = 0; k < SUBS; k++) expected[k] = k;
run(client === "floor" ? floor() : natsxs()).then(
  () => trace("DONE\n"),
  (e) => trace(`FAIL ${e?.name}: ${e?.message}\n`),
);
