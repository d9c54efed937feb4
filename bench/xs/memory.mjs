// XS heap figures of the nats-xs client, taken on the XS engine under the ESP32 creation budget with
// the library preloaded (as a device manifest preloads it). Driven by bench/memory.mjs, which
// starts nats-server, runs this module once per scenario, and publishes the 1 MB message.
//
//   npm run xs -- bench/xs/memory.mjs --preload nats-xs server=nats://127.0.0.1:4222 scenario=main
//
// Every checkpoint prints one line `M {"at":name,"slots","slotsPeak","chunkBytes","chunkBytesPeak",...}`
// taken by memory() (a forced, compacting collection first). Everything the module itself needs
// (subjects, payload, callbacks) is allocated before the first checkpoint, so that differences
// between checkpoints are the client's own state.
//
// config: server, scenario (main | chunked | options), prefix, sample (chunked: collect at every
// chunk), readbuf / recvbuf / outbuf (connection buffer options), messages (main: per round).
import config from "mc/config";
import Timer from "timer";
import { budget, memory } from "xs:memory";
import { exit } from "xs:host";
import { connect } from "nats-xs";

const scenario = config.scenario ?? "main";
const prefix = config.prefix ?? "xsmem";
const MESSAGES = config.messages ?? 10000;
const BATCH = 250;
const SUBS = 10;

function options() {
  const o = { servers: config.server, name: "xs-memory", noRandomize: true };
  if (config.readbuf !== undefined) o.readBufferBytes = config.readbuf;
  if (config.recvbuf !== undefined) o.receiveBufferBytes = config.recvbuf;
  if (config.outbuf !== undefined) o.outboundBufferBytes = config.outbuf;
  return o;
}

function at(name, extra) {
  const m = memory();
  trace(`M ${JSON.stringify(Object.assign({ at: name }, m, extra))}\n`);
  return m;
}

/** Resolves on a later turn of the event loop. */
function tick() {
  return new Promise((resolve) => Timer.set(resolve, 0));
}

function fail(why) {
  trace(`FAIL ${why}\n`);
  exit(1);
}

// ---- main: import, connect, subscriptions, 3 x 10,000 messages ----------------------------------

async function main() {
  const subjects = [];
  for (let k = 0; k < 2 * SUBS; k++) subjects.push(`${prefix}.s.${k}`);
  const payload = new Uint8Array(16);
  let received = 0;
  let bad = 0;
  const expected = new Int32Array(SUBS);
  for (let k = 0; k < SUBS; k++) expected[k] = k;
  const onMsg = (err, msg) => {
    if (err !== null) {
      bad++;
      return;
    }
    const d = msg.data;
    const i = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
    const k = i % SUBS;
    if (d.length !== 16 || i !== expected[k] || d[15] !== ((i + 15) & 255)) bad++;
    expected[k] = i + SUBS;
    received++;
  };
  const subs = [];
  let nc = null;
  async function round(from) {
    for (let i = from; i < from + MESSAGES; i++) {
      payload[0] = i >>> 24;
      payload[1] = (i >>> 16) & 255;
      payload[2] = (i >>> 8) & 255;
      payload[3] = i & 255;
      for (let j = 4; j < 16; j++) payload[j] = (i + j) & 255;
      nc.publish(subjects[i % SUBS], payload);
      if ((i + 1) % BATCH === 0) await nc.flush();
    }
    await nc.flush();
  }

  // afterImport: one turn after this module's top level ran, once the records of module loading
  // (about 5 KB of chunks) are garbage; measured in the same frame as the checkpoints after it
  await tick();
  at("afterImport");
  nc = await connect(options());
  at("afterConnect");
  for (let k = 0; k < SUBS; k++) subs.push(nc.subscribe(subjects[k], { callback: onMsg }));
  await nc.flush();
  at("after10Subs");
  for (let k = SUBS; k < 2 * SUBS; k++) subs.push(nc.subscribe(subjects[k], { callback: onMsg }));
  await nc.flush();
  at("after20Subs");
  for (let k = SUBS; k < 2 * SUBS; k++) subs[k].unsubscribe();
  subs.length = SUBS;
  await nc.flush();
  at("afterUnsubscribe10");
  await round(0);
  at("after10k", { received, bad });
  await round(MESSAGES);
  at("after20k", { received, bad });
  await round(2 * MESSAGES);
  at("after30k", { received, bad });
  if (received !== 3 * MESSAGES || bad !== 0) fail(`received ${received} of ${3 * MESSAGES}, ${bad} bad`);
  await nc.close();
  at("afterClose");
}

// ---- chunked: one large message through a { chunks: true } subscription -------------------------

async function chunked() {
  const subject = `${prefix}.big`;
  const sample = config.sample === true;
  let bytes = 0;
  let pieces = 0;
  let sum = 0;
  let offsetErrors = 0;
  let size = 0;
  let maxSlots = 0;
  let maxChunkBytes = 0;
  let finished = null;
  const done = new Promise((resolve) => (finished = resolve));
  const onChunk = (err, c) => {
    if (err !== null) return fail(`chunk error ${err.message}`);
    if (c.offset !== bytes) offsetErrors++;
    const d = c.data;
    for (let i = 0; i < d.length; i++) sum = (sum + d[i]) % 65521;
    bytes += d.length;
    pieces++;
    size = c.size;
    if (sample) {
      // a collection in the middle of the transfer: what the client holds live at this point
      const m = memory();
      if (m.slots > maxSlots) maxSlots = m.slots;
      if (m.chunkBytes > maxChunkBytes) maxChunkBytes = m.chunkBytes;
    }
    if (c.last) finished();
  };

  // afterImport: one turn after this module's top level ran, once the records of module loading
  // (about 5 KB of chunks) are garbage; measured in the same frame as the checkpoints after it
  await tick();
  at("afterImport");
  const nc = await connect(options());
  nc.subscribe(subject, { chunks: true, callback: onChunk });
  await nc.flush();
  at("beforeTransfer");
  trace(`READY ${subject}\n`);
  await done;
  at("afterTransfer", { bytes, pieces, sum, size, offsetErrors, maxLiveSlots: maxSlots, maxLiveChunkBytes: maxChunkBytes });
  await nc.close();
}

// ---- options: what each buffer costs once allocated --------------------------------------------

async function bufferOptions() {
  const subject = `${prefix}.split`;
  let got = 0;
  let finished = null;
  const done = new Promise((resolve) => (finished = resolve));
  const onMsg = (err, msg) => {
    if (err === null && msg.data.length === 2000) got++;
    finished();
  };
  const payload = new Uint8Array(2000);
  // afterImport: one turn after this module's top level ran, once the records of module loading
  // (about 5 KB of chunks) are garbage; measured in the same frame as the checkpoints after it
  await tick();
  at("afterImport");
  const nc = await connect(options());
  nc.subscribe(subject, { callback: onMsg });
  await nc.flush();
  at("afterConnect");
  // 2000 bytes arrive in more than one read of the 1024-byte read buffer: the frame is assembled
  // in the receive buffer, which is allocated on this first need
  nc.publish(subject, payload);
  await done;
  at("afterSplitMessage", { got });
  await nc.close();
}

trace(`B ${JSON.stringify(budget())}\n`);
const run = scenario === "chunked" ? chunked : scenario === "options" ? bufferOptions : main;
run().then(
  () => trace("DONE\n"),
  (e) => fail(`${e?.name}: ${e?.message}`),
);
