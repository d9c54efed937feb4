#!/usr/bin/env node
// `npm run bench`: nats-xs against nats.js v3 and the raw-socket limit, in one run, against one real
// nats-server on loopback. Prints a table and writes bench/results.json (BENCH_QUICK=1: a short smoke
// run written to bench/results-quick.json instead). See bench/README.md for what each figure means.
//
// Environment:
//   BENCH_QUICK=1            small counts, 3 runs: a smoke run in well under a minute
//   BENCH_ONLY=pub16,sub16   only these figures (ids as in the table); skips bundle and XS parts
//                            unless named too ("bundle", "xs", "kvobj": KV and Object Store, bench/kvobj.mjs)
//   BENCH_RUNS=n             measured runs per figure (default 9; quick 3)
//   BENCH_PROFILE=natsxs     also write a V8 CPU profile of that client's process per figure to
//                            bench/profiles/ (open in Chrome DevTools or `node bench/profile.mjs`)
import { fork, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { findNatsServer, startServer } from "../tools/nats-server.mjs";
import { bundleSizes } from "./lib/bundle.mjs";
import { payloadOf, RawConn, rawPublish } from "./lib/raw.mjs";
import { xsFigures } from "./lib/xs.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..");
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 9));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const PROFILE = process.env.BENCH_PROFILE ?? "";
const OP_TIMEOUT_MS = 120_000;

const CLIENTS = [
  { id: "limit", label: "raw limit" },
  { id: "natsjs", label: "nats.js" },
  { id: "natsxs", label: "nats-xs" },
];

/** Messages (or requests) per run: one run of the slowest client takes about 0.2-1.5 s here. */
const q = (full, quick) => (QUICK ? quick : full);
const FIGURES = [
  { id: "pub16", title: "publish 16 B", op: "pub", args: { size: 16, n: q(400_000, 40_000) }, unit: "msgs/s", mb: true },
  { id: "pub128", title: "publish 128 B", op: "pub", args: { size: 128, n: q(300_000, 40_000) }, unit: "msgs/s", mb: true },
  { id: "pub1k", title: "publish 1 KB", op: "pub", args: { size: 1024, n: q(100_000, 10_000) }, unit: "msgs/s", mb: true },
  { id: "pub64k", title: "publish 64 KB", op: "pub", args: { size: 65536, n: q(3_000, 400) }, unit: "msgs/s", mb: true },
  { id: "sub16", title: "subscribe 16 B", op: "sub", args: { size: 16, n: q(400_000, 40_000) }, unit: "msgs/s" },
  { id: "e2e16", title: "pub→sub 16 B", op: "e2e", args: { size: 16, n: q(200_000, 20_000) }, unit: "msgs/s" },
  // round-trip latency on this kind of virtual machine flips between two levels (about 40 and
  // 160 µs) every second or so: many short rounds let every client sample both alike
  { id: "reqSeq", title: "request, sequential", op: "reqSeq", args: { size: 16, n: q(1_000, 500) }, runs: q(25, 5), unit: "req/s", latency: true },
  { id: "reqPar", title: "request, 16 in flight", op: "reqPar", args: { size: 16, n: q(40_000, 4_000), inflight: 16 }, unit: "req/s" },
];

const wanted = (id) => ONLY === null || ONLY.has(id);

function median(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A client process under the host simulator's module resolution, speaking over IPC. */
async function startChild(client, url, figureId) {
  const execArgv = ["--import", pathToFileURL(path.join(ROOT, "host-sim", "register.js")).href];
  if (PROFILE.split(",").includes(client.id)) {
    const dir = path.join(HERE, "profiles");
    mkdirSync(dir, { recursive: true });
    execArgv.push("--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", `${client.id}-${figureId}.cpuprofile`);
  }
  const child = fork(path.join(HERE, "child.mjs"), [client.id, url], { cwd: ROOT, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let seq = 0;
  const waiting = new Map();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error(`${client.label} process exited`));
  });
  const ready = new Promise((resolve, reject) => {
    child.once("message", (m) => (m.ready ? resolve() : reject(new Error(String(m)))));
    exited.then(() => reject(new Error(`${client.label} process exited before it was ready`)));
  });
  child.on("message", (m) => {
    const w = waiting.get(m.id);
    if (w === undefined) return;
    if (m.ready) return w.onReady?.();
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(`${client.label}: ${m.error}`));
    else w.resolve(m.result);
  });
  await ready;
  return {
    /** Runs one operation; `onReady` fires when a subscriber is in place. */
    run(op, args, onReady) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          child.kill("SIGKILL");
          reject(new Error(`${client.label}: ${op} did not finish within ${OP_TIMEOUT_MS / 1000} s`));
        }, OP_TIMEOUT_MS);
        waiting.set(id, {
          onReady,
          resolve: (r) => (clearTimeout(timer), resolve(r)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ id, op, args });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ op: "exit" });
        const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Turns one operation's result into the figure's numbers. */
function figuresOf(fig, r) {
  const out = {};
  if (fig.op === "sub") out.rate = (r.msgs / r.ms) * 1000;
  else out.rate = (fig.args.n / r.ms) * 1000;
  if (fig.mb) out.mbps = (out.rate * fig.args.size) / 1e6;
  if (r.p50 !== undefined) {
    out.p50us = r.p50;
    out.p99us = r.p99;
  }
  return out;
}

async function measure(fig, url, publisher, log) {
  const children = [];
  for (const c of CLIENTS) children.push(await startChild(c, url, fig.id));
  const runs = Object.fromEntries(CLIENTS.map((c) => [c.id, []]));
  const errors = {};
  try {
    // round 0 is the warm-up: same work, not counted
    const rounds = fig.runs !== undefined && process.env.BENCH_RUNS === undefined ? fig.runs : RUNS;
    for (let round = 0; round <= rounds; round++) {
      for (let k = 0; k < CLIENTS.length; k++) {
        const c = CLIENTS[k];
        if (errors[c.id] !== undefined) continue;
        const args = { ...fig.args, subject: `bench.${fig.id}.${round}.${c.id}` };
        try {
          let r;
          if (fig.op === "sub") {
            // the subscriber is the bottleneck: the same raw publisher feeds every client
            let go;
            const subscribed = new Promise((resolve) => (go = resolve));
            const result = children[k].run(fig.op, args, go);
            await Promise.race([subscribed, result]);
            await rawPublish(publisher, args.subject, payloadOf(fig.args.size), fig.args.n);
            await publisher.ping();
            r = await result;
          } else {
            r = await children[k].run(fig.op, args);
          }
          if (round > 0) runs[c.id].push({ round, ...figuresOf(fig, r) });
        } catch (e) {
          errors[c.id] = e.message;
          log(`  ${c.label}: ${e.message.split("\n")[0]}\n`);
        }
      }
      log(round === 0 ? "w" : ".");
    }
  } finally {
    await Promise.all(children.map((ch) => ch.stop()));
  }
  const result = { title: fig.title, unit: fig.unit, args: fig.args, clients: {} };
  // the median of per-round ratios: insensitive to drift between rounds (the table shows the ratio
  // of the medians)
  const paired = (num, den) => {
    const byRound = new Map(runs[den].map((x) => [x.round, x.rate]));
    return median(runs[num].filter((x) => byRound.has(x.round)).map((x) => x.rate / byRound.get(x.round)));
  };
  result.pairedRatio = { natsxsVsNatsjs: paired("natsxs", "natsjs"), natsxsVsLimit: paired("natsxs", "limit") };
  for (const c of CLIENTS) {
    const list = runs[c.id];
    const entry = { runs: list };
    if (list.length > 0) {
      entry.rate = median(list.map((x) => x.rate));
      if (fig.mb) entry.mbps = median(list.map((x) => x.mbps));
      if (fig.latency) {
        entry.p50us = median(list.map((x) => x.p50us));
        entry.p99us = median(list.map((x) => x.p99us));
      }
      const rates = list.map((x) => x.rate);
      entry.spread = (Math.max(...rates) - Math.min(...rates)) / entry.rate;
    }
    if (errors[c.id] !== undefined) entry.error = errors[c.id];
    result.clients[c.id] = entry;
  }
  return result;
}

function machine(serverVersion) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    natsServer: serverVersion,
  };
}

// ---- printing ---------------------------------------------------------------------------------

const fmt = (v, digits = 0) =>
  !Number.isFinite(v) ? "-" : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(digits);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "-");

function table(rows, header) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}

function render(results) {
  const out = [];
  const rows = [];
  for (const f of Object.values(results.figures)) {
    const cell = (id) => {
      const e = f.clients[id];
      if (e.rate === undefined) return "error";
      return f.args.size > 0 && e.mbps !== undefined ? `${fmt(e.rate)} (${e.mbps.toFixed(1)} MB/s)` : fmt(e.rate);
    };
    const xs = f.clients.natsxs.rate;
    rows.push([`${f.title} [${f.unit}]`, cell("limit"), cell("natsjs"), cell("natsxs"), fmtRatio(ratio(xs, f.clients.natsjs.rate)), fmtRatio(ratio(xs, f.clients.limit.rate))]);
    if (f.clients.natsxs.p50us !== undefined) {
      const lat = (id, k) => (f.clients[id][k] === undefined ? "-" : `${f.clients[id][k].toFixed(0)} µs`);
      for (const k of ["p50us", "p99us"])
        rows.push([`request latency ${k.slice(0, 3)}`, lat("limit", k), lat("natsjs", k), lat("natsxs", k), fmtRatio(ratio(f.clients.natsjs[k], f.clients.natsxs[k])), ""]);
    }
  }
  if (rows.length > 0) {
    out.push(table(rows, ["figure (median)", "raw limit", "nats.js", "nats-xs", "xs / js", "xs / limit"]));
    out.push("(latency rows: the ratio is nats.js / nats-xs, so above 1x means nats-xs is faster)");
  }
  const kv = results.kvobj;
  if (kv !== undefined && kv.error === undefined) {
    out.push("");
    out.push(
      table(
        Object.values(kv.figures).map((f) => [`${f.title} [${f.unit}]`, fmt(f.natsjs, f.unit === "MB/s" ? 1 : 0), fmt(f.natsxs, f.unit === "MB/s" ? 1 : 0), fmtRatio(f.ratio)]),
        [`KV and Object Store (median of ${kv.runs})`, "nats.js", "nats-xs", "xs / js"],
      ),
    );
  } else if (kv?.error !== undefined) out.push(`\nKV and Object Store: ${kv.error}`);
  const b = results.bundle;
  if (b !== undefined && b.error === undefined) {
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    out.push("");
    out.push(
      table(
        [
          ["nats-xs core (dist/nats-xs.js)", kb(b.natsxsCore.min), kb(b.natsxsCore.gzip)],
          [`nats-xs, everything shipped (${b.natsxsAll.files.length} files)`, kb(b.natsxsAll.min), kb(b.natsxsAll.gzip)],
          ["nats.js core (connect/publish/subscribe/request)", kb(b.natsjsCore.min), kb(b.natsjsCore.gzip)],
        ],
        ["bundle", "minified", "gzip"],
      ),
    );
  } else if (b?.error !== undefined) out.push(`\nbundle sizes: ${b.error}`);
  const x = results.xs;
  if (x !== undefined) {
    out.push("");
    if (x.parser !== undefined && x.parser.error === undefined) {
      out.push(
        table(
          x.parser.rows.map((r) => [`MSG frames, ${r.size} B payload`, `${r.xs.mbps.toFixed(1)} MB/s (${fmt(r.xs.msgs)} msgs/s)`, `${r.node.mbps.toFixed(1)} MB/s (${fmt(r.node.msgs)} msgs/s)`]),
          ["Parser throughput", "XS engine", "Node (host-sim)"],
        ),
      );
    } else out.push(`XS parser throughput: ${x.parser?.error ?? "not measured"}`);
    if (x.memory !== undefined) {
      // the figures that are {slots, chunkBytes} at the top level of bench/memory.json, then its goals
      const rows = Object.entries(x.memory)
        .filter(([, v]) => typeof v?.slots === "number" && typeof v?.chunkBytes === "number")
        .map(([k, v]) => [k, String(v.slots), String(v.chunkBytes)]);
      out.push("");
      out.push(table(rows, [`XS memory (bench/memory.json, ${x.memoryWritten.slice(0, 16).replace("T", " ")})`, "slots", "chunk bytes"]));
      for (const [k, g] of Object.entries(x.memory.goals ?? {})) out.push(`  ${k}: ${g.goal}: ${g.held ? "holds" : "MISSED"} (${JSON.stringify(g.measured)})`);
    } else out.push(`XS memory: ${x.memoryGap}`);
  }
  const r = results.ratios;
  out.push("");
  out.push(
    `ratios (nats-xs / nats.js, 16 B; publishVsLimit = nats-xs / raw limit): publish ${fmtRatio(r.publish)}, subscribe ${fmtRatio(r.subscribe)}, request ${fmtRatio(r.request)}, publishVsLimit ${Number.isFinite(r.publishVsLimit) ? `${(r.publishVsLimit * 100).toFixed(0)}%` : "-"}`,
  );
  if (results.goals !== undefined) {
    out.push("goals: " + results.goals.map((g) => `${g.goal} ${g.holds === null ? "?" : g.holds ? "holds" : "MISSED"} (${g.value})`).join("; "));
  }
  return out.join("\n");
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const log = (s) => process.stderr.write(s);
  const dist = path.join(ROOT, "dist", "nats-xs.js");
  if (!existsSync(dist)) throw new Error("dist/nats-xs.js is missing: run `npm run build` first (npm run bench does)");
  const started = Date.now();
  const binary = findNatsServer();
  const versionText = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim();
  const serverVersion = /v?\d+\.\d+\.\d+\S*/.exec(versionText)?.[0] ?? versionText;
  const server = await startServer({ jetstream: false });
  log(`nats-server ${serverVersion} on ${server.url}; ${RUNS} runs per figure after a warm-up${QUICK ? " (quick)" : ""}\n`);

  const responder = fork(path.join(HERE, "responder.mjs"), [server.url, "bench.echo"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise((resolve, reject) => {
    responder.once("message", resolve);
    responder.once("exit", () => reject(new Error("the responder exited")));
  });
  const publisher = await RawConn.open(server.url);

  const results = {
    date: new Date().toISOString(),
    quick: QUICK,
    runsPerFigure: RUNS,
    machine: machine(serverVersion),
    method:
      "median of the measured runs after one warm-up round; clients interleaved (limit, nats.js, nats-xs, limit, ...), each in its own `node --import ./host-sim/register.js` process per figure",
    figures: {},
  };
  try {
    for (const fig of FIGURES) {
      if (!wanted(fig.id)) continue;
      log(`${fig.title} `);
      results.figures[fig.id] = await measure(fig, server.url, publisher, log);
      const f = results.figures[fig.id].clients;
      log(` limit ${fmt(f.limit.rate)}, nats.js ${fmt(f.natsjs.rate)}, nats-xs ${fmt(f.natsxs.rate)} ${fig.unit}\n`);
    }
  } finally {
    publisher.close();
    responder.disconnect();
    await server.stop();
  }

  if (wanted("kvobj")) {
    // KV and Object Store against @nats-io/kv and @nats-io/obj (bench/kvobj.mjs, a JetStream server of its own)
    log("KV and Object Store (bench/kvobj.mjs)\n");
    const k = spawnSync(process.execPath, [path.join(HERE, "kvobj.mjs"), "--json"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const line = (k.stdout ?? "").trim().split("\n").pop() ?? "";
    try {
      results.kvobj = JSON.parse(line);
    } catch {
      results.kvobj = { error: `bench/kvobj.mjs exited ${k.status}` };
    }
  }
  if (wanted("bundle")) {
    log("bundle sizes\n");
    try {
      results.bundle = await bundleSizes(ROOT);
    } catch (e) {
      results.bundle = { error: e.message };
    }
  }
  if (wanted("xs")) {
    log("XS engine figures\n");
    results.xs = await xsFigures(ROOT, QUICK, log);
  }

  const fig = results.figures;
  const r = (id, num = "natsxs", den = "natsjs") => ratio(fig[id]?.clients[num].rate, fig[id]?.clients[den].rate);
  results.ratios = {
    publish: r("pub16"),
    subscribe: r("sub16"),
    request: r("reqSeq"),
    publishVsLimit: r("pub16", "natsxs", "limit"),
  };
  if (results.kvobj?.figures !== undefined) for (const [id, f] of Object.entries(results.kvobj.figures)) results.ratios[id] = f.ratio;
  const min = results.bundle?.natsxsCore?.min;
  const goal = (name, value, target, shown) => ({ goal: name, target, value: shown, holds: Number.isFinite(value) ? value >= target : null });
  results.goals = [
    goal("publish >= 1.5x nats.js", results.ratios.publish, 1.5, fmtRatio(results.ratios.publish)),
    goal("subscribe >= 1.2x nats.js", results.ratios.subscribe, 1.2, fmtRatio(results.ratios.subscribe)),
    goal("request >= 1.0x nats.js", results.ratios.request, 1.0, fmtRatio(results.ratios.request)),
    goal("publish >= 50% of limit", results.ratios.publishVsLimit, 0.5, Number.isFinite(results.ratios.publishVsLimit) ? `${(results.ratios.publishVsLimit * 100).toFixed(0)}%` : "-"),
    { goal: "core bundle <= 16 KB minified", target: 16384, value: min === undefined ? "-" : `${(min / 1024).toFixed(1)} KB`, holds: min === undefined ? null : min <= 16384 },
  ];
  results.seconds = Math.round((Date.now() - started) / 1000);

  const text = render(results);
  process.stdout.write(`\n${text}\n`);
  const file = path.join(HERE, QUICK || ONLY !== null ? "results-quick.json" : "results.json");
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${path.relative(ROOT, file)} in ${results.seconds} s\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
