#!/usr/bin/env node
// `npm run bench:jetstream`: nats-xs/jetstream against @nats-io/jetstream 3.x in one run, against
// one real nats-server (JetStream, memory storage, so that the disk does not set the pace): acked
// publishes one at a time and with 32 in flight, and a pull consumer's consume() rate with acks.
// The clients take turns in one process (nats-xs through the host simulator's module resolution),
// each figure the median of BENCH_RUNS runs (default 5; BENCH_QUICK=1: small counts, 3 runs).
// Prints a table and writes bench/jetstream-results.json.
//
//   npm run bench:jetstream
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..");

if (!process.execArgv.some((a) => a.includes("register.js"))) {
  // nats-xs resolves its device modules through the host simulator: run again under it
  const r = spawnSync(process.execPath, ["--import", "./host-sim/register.js", fileURLToPath(import.meta.url)], { cwd: ROOT, stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { startServer } = await import("../tools/nats-server.mjs");
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 5));
const q = (full, quick) => (QUICK ? quick : full);
const SEQ_N = q(2_000, 300);
const WIN_N = q(20_000, 2_000);
const CONSUME_N = q(20_000, 2_000);
const WINDOW = 32;
const payload = new Uint8Array(128);

async function clients() {
  const xs = await import("nats-xs");
  const xsjs = await import("nats-xs/jetstream");
  const njs = await import("@nats-io/transport-node");
  const njsjs = await import("@nats-io/jetstream");
  return [
    {
      id: "natsjs",
      label: "nats.js",
      connect: (url) => njs.connect({ servers: url }),
      js: (nc) => njsjs.jetstream(nc),
      jsm: (nc) => njsjs.jetstreamManager(nc),
    },
    {
      id: "natsxs",
      label: "nats-xs",
      connect: (url) => xs.connect({ servers: url }),
      // the outbox bounds what waits: give it room for the window
      js: (nc) => xsjs.jetstream(nc, { outboxBytes: 65536, maxInFlight: WINDOW }),
      jsm: (nc) => xsjs.jetstreamManager(nc),
    },
  ];
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function fresh(jsm, name) {
  await jsm.streams.delete(name).catch(() => {});
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: "memory" });
}

async function pubSeq(c, nc, jsm) {
  await fresh(jsm, "BSEQ");
  const js = c.js(nc);
  const t0 = performance.now();
  for (let i = 0; i < SEQ_N; i++) await js.publish("BSEQ.a", payload);
  return SEQ_N / ((performance.now() - t0) / 1000);
}

async function pubWindow(c, nc, jsm) {
  await fresh(jsm, "BWIN");
  const js = c.js(nc);
  const t0 = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    const more = () => {
      while (sent < WIN_N && sent - done < WINDOW) {
        sent++;
        js.publish("BWIN.a", payload).then(() => {
          if (++done === WIN_N) resolve();
          else more();
        }, reject);
      }
    };
    more();
  });
  return WIN_N / ((performance.now() - t0) / 1000);
}

async function consume(c, nc, jsm, loader) {
  await fresh(jsm, "BCON");
  // loaded by nats.js on a connection of its own, the same for both clients
  const lj = (await import("@nats-io/jetstream")).jetstream(loader);
  for (let i = 0; i < CONSUME_N; i += 1000) {
    const batch = [];
    for (let k = i; k < Math.min(i + 1000, CONSUME_N); k++) batch.push(lj.publish("BCON.a", payload));
    await Promise.all(batch);
  }
  await jsm.consumers.add("BCON", { durable_name: "b", ack_policy: "explicit" });
  const cons = await c.js(nc).consumers.get("BCON", "b");
  let got = 0;
  const t0 = performance.now();
  let msgs;
  await new Promise((resolve) => {
    cons
      .consume({
        max_messages: 256,
        callback: (m) => {
          m.ack();
          if (++got === CONSUME_N) resolve();
        },
      })
      .then((x) => (msgs = x));
  });
  const rate = CONSUME_N / ((performance.now() - t0) / 1000);
  await msgs?.close();
  return rate;
}

const FIGURES = [
  { id: "jsPubSeq", title: "acked publish, one at a time", run: pubSeq, n: SEQ_N },
  { id: "jsPubWin", title: `acked publish, ${WINDOW} in flight`, run: pubWindow, n: WIN_N },
  { id: "jsConsume", title: "consume() with ack", run: consume, n: CONSUME_N },
];

async function main() {
  const server = await startServer({ jetstream: true });
  const list = await clients();
  const njs = await import("@nats-io/transport-node");
  const loader = await njs.connect({ servers: server.url });
  const results = { runs: RUNS, quick: QUICK, figures: {} };
  try {
    for (const f of FIGURES) {
      const per = {};
      for (const c of list) per[c.id] = [];
      for (let r = 0; r < RUNS; r++) {
        // the clients take turns within each round, so that a slow spell of the machine hits both
        for (const c of list) {
          const nc = await c.connect(server.url);
          const jsm = await c.jsm(nc);
          per[c.id].push(await f.run(c, nc, jsm, loader));
          await nc.close();
        }
      }
      const row = { title: f.title, n: f.n };
      for (const c of list) row[c.id] = Math.round(median(per[c.id]));
      row.ratio = Math.round((row.natsxs / row.natsjs) * 100) / 100;
      results.figures[f.id] = row;
      process.stdout.write(`${f.title.padEnd(34)} nats.js ${String(row.natsjs).padStart(7)}/s   nats-xs ${String(row.natsxs).padStart(7)}/s   ratio ${row.ratio}\n`);
    }
  } finally {
    await loader.close();
    await server.stop();
  }
  writeFileSync(path.join(HERE, QUICK ? "jetstream-results-quick.json" : "jetstream-results.json"), JSON.stringify(results, null, 2) + "\n");
}

await main();
