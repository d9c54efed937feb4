// NATSBridge's published dialects and streamed Arrow tables on the XS engine, under the ESP32
// creation budget with nats-xs, nats-xs/bridge and nats-xs/bridge/arrow preloaded (as
// manifests/nats-xs-bridge-arrow preloads them). Driven by test/xs-bridge.test.ts,
// which runs nats-server and the link file server and publishes the envelopes.
//
// (a) fixtures: every dialect fixture (test/shared/bridge-fixtures.mjs) arrives on <prefix>.fix;
//     each envelope (or its typed error) is reported as `env {...}`: fields and payloads, bytes as
//     length and Adler-32, Arrow tables read by arrowColumns() as rows.
// (b) Arrow tables streamed: on `ready-arrow <i>` the test sends envelope i on <prefix>.arrow (0:
//     direct, 1: by link), an arrowtable read through arrowColumns({ onColumn }) so that each
//     column is handed over and dropped as soon as it is complete. A forced collection (memory()
//     of xs:memory) inside the sink's write (the first 8 views, then every `every`th) and at each
//     column measures the peak live heap above the state right before the envelope: `arrow {...}`.
// (c) device to peer: one envelope with a payload of every kind (an Arrow table written on the
//     device among them) to <prefix>.out, in the current specification's dialect, and the same in
//     the earlier one (dialect "v0") to <prefix>.out0, which the test checks against the
//     specification with its own peer: `sent`.
// Then `done`. `FAIL <why>` and exit 1 on anything wrong; a watchdog exits 9.
import config from "mc/config";
import Timer from "timer";
import { budget, memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe } from "nats-xs/bridge";
import { arrowColumns, ArrowTable } from "nats-xs/bridge/arrow";

const prefix = config.prefix ?? "xsdialects";
const FIXTURES = config.fixtures ?? 0;
const ARROWS = config.arrows ?? 2;
const EVERY = config.every ?? 4;
const dog = watchdog(config.timeout ?? 20000);

function tick() {
  return new Promise((resolve) => Timer.set(resolve, 0));
}

function adler32(b) {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

function plain(v) {
  return typeof v === "bigint" ? String(v) : v;
}

function summary(v) {
  if (v instanceof Uint8Array) return { bytes: v.length, adler32: adler32(v) };
  if (v instanceof ArrowTable) {
    const rows = [];
    for (let r = 0; r < v.numRows; r++) rows.push(v.columns.map((c) => plain(c.get(r))));
    return { arrow: v.fields.map((f) => `${f.name}:${f.type}`), rows };
  }
  return v;
}

// ---- (a) fixtures -----------------------------------------------------------------------------

let fixturesSeen = 0;
let fixturesDone = null;
const fixtures = new Promise((resolve) => (fixturesDone = resolve));
const fixtureOptions = {
  max_size: 65536,
  sink: arrowColumns(),
  callback: (err, env) => {
    if (err !== null) say(`env ${JSON.stringify({ error: err.name, message: err.message })}`);
    else {
      const out = { correlation_id: env.correlation_id, msg_id: env.msg_id, timestamp: env.timestamp, send_to: env.send_to, msg_purpose: env.msg_purpose,
        sender_name: env.sender_name, sender_id: env.sender_id, receiver_name: env.receiver_name, receiver_id: env.receiver_id, reply_to: env.reply_to,
        reply_to_msg_id: env.reply_to_msg_id, broker_url: env.broker_url, metadata: env.metadata, payloads: [] };
      for (const p of env.payloads) out.payloads.push({ dataname: p.dataname, type: p.type, format: p.format, transport: p.transport, size: p.size, data: summary(p.data) });
      say(`env ${JSON.stringify(out)}`);
    }
    if (++fixturesSeen === FIXTURES) fixturesDone();
  },
};

// ---- (b) Arrow tables, streamed as columns ------------------------------------------------------

let samples = 0;
let maxSlots = 0;
let maxChunkBytes = 0;
let writes = 0;
let columns = [];
let arrowError = null;
let arrowDone = null;

function sample() {
  const m = memory();
  samples++;
  if (m.slots > maxSlots) maxSlots = m.slots;
  if (m.chunkBytes > maxChunkBytes) maxChunkBytes = m.chunkBytes;
}

const inner = arrowColumns({
  max_rows: 4096,
  onColumn: (c) => {
    columns.push(`${c.name}:${c.type}:${c.length}:${c.nullCount}:${String(c.get(c.length - 1))}`);
    sample();
  },
});
const sinkObject = {
  reader: null,
  write(view) {
    this.reader.write(view);
    writes++;
    if (EVERY > 0 && (writes <= 8 || writes % EVERY === 0)) sample();
  },
  end(p) {
    this.reader.end(p);
  },
  abort(e) {
    this.reader.abort(e);
  },
};
let last = null;
const arrowOptions = {
  max_size: 1 << 20,
  sink: (p, env) => {
    const r = inner(p, env);
    if (r === undefined) return undefined;
    sinkObject.reader = r;
    return sinkObject;
  },
  callback: (err, env) => {
    if (err !== null) arrowError = err;
    else last = env.payloads[0];
    arrowDone();
  },
};

async function main() {
  say(`budget ${JSON.stringify(budget())}`);
  const nc = await connect({ servers: config.server, name: "xs-bridge-dialects", noRandomize: true });
  smartsubscribe(nc, `${prefix}.fix`, fixtureOptions);
  smartsubscribe(nc, `${prefix}.arrow`, arrowOptions);
  await nc.flush();
  await tick();
  say(`ready ${prefix}.fix`);
  if (FIXTURES > 0) await fixtures;

  for (let i = 0; i < ARROWS; i++) {
    await tick();
    samples = writes = 0;
    columns = [];
    last = null;
    const done = new Promise((resolve) => (arrowDone = resolve));
    const before = memory();
    maxSlots = before.slots;
    maxChunkBytes = before.chunkBytes;
    say(`ready-arrow ${i}`);
    await done;
    const after = memory();
    if (arrowError !== null) fail(`arrow ${i}: ${arrowError.name}: ${arrowError.message}`);
    say(
      `arrow ${JSON.stringify({
        index: i,
        transport: last.transport,
        ipcBytes: last.size,
        rows: last.data.numRows,
        columns,
        writes,
        samples,
        before: { slots: before.slots, chunkBytes: before.chunkBytes },
        rise: { slots: maxSlots - before.slots, chunkBytes: maxChunkBytes - before.chunkBytes },
        after: { slots: after.slots, chunkBytes: after.chunkBytes, slotsPeak: after.slotsPeak, chunkBytesPeak: after.chunkBytesPeak },
      })}`,
    );
  }
  await tick();
  const out = [
    { dataname: "note", type: "text", data: "température ✓" },
    { dataname: "state", type: "dictionary", data: { mode: "eco", setpoint: 21.5 } },
    { dataname: "readings", type: "table", data: [{ name: "n", type: "int32", values: [1, 2, 3] }, { name: "s", type: "utf8", values: ["a", null, "ç"] }] },
    { dataname: "rows", type: "jsontable", data: [{ t: 1, v: 20.5 }] },
    { dataname: "blob", type: "binary", data: new Uint8Array([0, 1, 2, 255]) },
  ];
  await smartsend(nc, `${prefix}.out`, out, { msg_purpose: "telemetry" });
  await smartsend(nc, `${prefix}.out0`, out, { msg_purpose: "telemetry", dialect: "v0" });
  await nc.flush();
  say("sent");
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
