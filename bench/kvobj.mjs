#!/usr/bin/env node
// `npm run bench:kvobj`: nats-xs/kv and nats-xs/obj against @nats-io/kv and @nats-io/obj 3.x in one
// run, against one real nats-server (JetStream, memory storage, so that the disk does not set the
// pace): KV put and get per second (one at a time, 64-byte values), and Object Store put and get in
// MB/s (a 4 MB object; nats.js's default 128 KiB chunks for both). The clients take turns in one
// process (nats-xs through the host simulator's module resolution), each figure the median of
// BENCH_RUNS runs (default 5; BENCH_QUICK=1: small counts, 3 runs). Prints a table and writes
// bench/kvobj-results.json. `npm run bench` runs it too (`--json`: prints the results as one JSON
// line on stdout and writes no file; the main table shows them with the core's figures).
//
//   npm run bench:kvobj
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..");

if (!process.execArgv.some((a) => a.includes("register.js"))) {
  const r = spawnSync(process.execPath, ["--import", "./host-sim/register.js", fileURLToPath(import.meta.url), ...process.argv.slice(2)], { cwd: ROOT, stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { startServer } = await import("../tools/nats-server.mjs");
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 5));
const JSON_OUT = process.argv.includes("--json");
const say = (text) => (JSON_OUT ? process.stderr : process.stdout).write(text);
const q = (full, quick) => (QUICK ? quick : full);
const KV_N = q(2_000, 200);
const OBJ_BYTES = q(4 << 20, 1 << 20);
const value = new Uint8Array(64);
const object = new Uint8Array(OBJ_BYTES).map((_, i) => (i * 31) & 255);

async function clients() {
  const xs = await import("nats-xs");
  const xkv = await import("nats-xs/kv");
  const xobj = await import("nats-xs/obj");
  const njs = await import("@nats-io/transport-node");
  const nkv = await import("@nats-io/kv");
  const nobj = await import("@nats-io/obj");
  return [
    {
      id: "natsjs",
      label: "nats.js",
      connect: (url) => njs.connect({ servers: url }),
      kv: (nc, name) => new nkv.Kvm(nc).create(name, { storage: "memory" }),
      os: (nc, name) => new nobj.Objm(nc).create(name, { storage: "memory" }),
      put: (os, name) => os.putBlob({ name }, object),
      get: async (os, name) => (await os.getBlob(name)).length,
    },
    {
      id: "natsxs",
      label: "nats-xs",
      connect: (url) => xs.connect({ servers: url }),
      kv: (nc, name) => new xkv.Kvm(nc).create(name, { storage: "memory" }),
      os: (nc, name) => new xobj.Objm(nc).create(name, { storage: "memory" }),
      put: (os, name) => os.putBlob({ name }, object),
      // into a sink that counts: what a device does with an object larger than its memory
      get: async (os, name) => {
        let n = 0;
        await os.get(name, { write: (v) => (n += v.length) });
        return n;
      },
    },
  ];
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

let serial = 0;

async function kvPut(c, nc) {
  const kv = await c.kv(nc, `bput${++serial}`);
  const t0 = performance.now();
  for (let i = 0; i < KV_N; i++) await kv.put(`k${i % 100}`, value);
  return KV_N / ((performance.now() - t0) / 1000);
}

async function kvGet(c, nc) {
  const kv = await c.kv(nc, `bget${++serial}`);
  for (let i = 0; i < 100; i++) await kv.put(`k${i}`, value);
  const t0 = performance.now();
  for (let i = 0; i < KV_N; i++) if ((await kv.get(`k${i % 100}`)) === null) throw new Error("a value is missing");
  return KV_N / ((performance.now() - t0) / 1000);
}

async function objPut(c, nc) {
  const os = await c.os(nc, `bop${++serial}`);
  const t0 = performance.now();
  await c.put(os, "o");
  return OBJ_BYTES / 1e6 / ((performance.now() - t0) / 1000);
}

async function objGet(c, nc) {
  const os = await c.os(nc, `bog${++serial}`);
  await c.put(os, "o");
  const t0 = performance.now();
  const n = await c.get(os, "o");
  if (n !== OBJ_BYTES) throw new Error(`read ${n} bytes`);
  return OBJ_BYTES / 1e6 / ((performance.now() - t0) / 1000);
}

const FIGURES = [
  { id: "kvPut", title: "KV put, one at a time", unit: "/s", run: kvPut },
  { id: "kvGet", title: "KV get, one at a time", unit: "/s", run: kvGet },
  { id: "objPut", title: `Object Store put ${OBJ_BYTES >> 20} MB`, unit: "MB/s", run: objPut },
  { id: "objGet", title: `Object Store get ${OBJ_BYTES >> 20} MB`, unit: "MB/s", run: objGet },
];

async function main() {
  const server = await startServer({ jetstream: true });
  const list = await clients();
  const results = { runs: RUNS, quick: QUICK, figures: {} };
  try {
    for (const f of FIGURES) {
      const per = {};
      for (const c of list) per[c.id] = [];
      for (let r = 0; r < RUNS; r++) {
        for (const c of list) {
          const nc = await c.connect(server.url);
          per[c.id].push(await f.run(c, nc));
          await nc.close();
        }
      }
      const row = { title: f.title, unit: f.unit };
      for (const c of list) row[c.id] = Math.round(median(per[c.id]) * 10) / 10;
      row.ratio = Math.round((row.natsxs / row.natsjs) * 100) / 100;
      results.figures[f.id] = row;
      say(`${f.title.padEnd(28)} nats.js ${String(row.natsjs).padStart(8)} ${f.unit.padEnd(4)}  nats-xs ${String(row.natsxs).padStart(8)} ${f.unit.padEnd(4)}  ratio ${row.ratio}\n`);
    }
  } finally {
    await server.stop();
  }
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(results)}\n`);
  else writeFileSync(path.join(HERE, QUICK ? "kvobj-results-quick.json" : "kvobj-results.json"), JSON.stringify(results, null, 2) + "\n");
}

await main();
