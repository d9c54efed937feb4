// Issue 14's workload (bench/xs/workload.mjs) run on the XS host and, when MODDABLE names a built
// SDK, on Moddable's Linux runtime: each variant in a run of its own, its readings above the
// baseline (the reading once the library is imported) and its collections per phase.
//
// Moddable: a manifest is written in a temporary folder (the ESP32 creation budget, the dist
// modules listed, preloaded or not), built with `mcconfig -m -p lin -i` (instrumented: the
// instrumentation module reads the heap and the collection count), run by mcsim under xvfb-run,
// and its trace output parsed. Objects are kept in os.tmpdir()/nats-xs-moddable between runs, so
// only the first build compiles the runtime (minutes); nothing is written into the repository.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hostArguments } from "../../tools/xs/run.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..", "..");
const MODULE = path.join(ROOT, "bench", "xs", "workload.mjs");
const RUN_TIMEOUT_MS = 120_000;
const BUILD_TIMEOUT_MS = 30 * 60_000;
export const POINTS = ["afterConnect", "after10Subs", "after1000Messages", "after10Requests", "afterClose"];
/** The ESP32 default creation budget of the Moddable SDK, as the XS host uses it. */
const CREATION = { static: 0, chunk: { initial: 78848, incremental: 0 }, heap: { initial: 4928, incremental: 0 }, stack: 512 };

/** The variants measured, in order: [name, client, api, preloaded]. */
export const VARIANTS = [
  ["nats-xs callbacks, preloaded", "nats-xs", "callbacks", true],
  ["nats-xs iterators, preloaded", "nats-xs", "iterators", true],
  ["nats-xs callbacks, run time", "nats-xs", "callbacks", false],
  ["nats-xs iterators, run time", "nats-xs", "iterators", false],
  ["floor (raw protocol), preloaded", "floor", "callbacks", true],
];

/** Readings (W lines), collection lines (G) and every line, from a run's stdout. */
function parse(lines) {
  const points = {};
  const gc = {};
  for (const line of lines) {
    if (line.startsWith("W ")) {
      const w = JSON.parse(line.slice(2));
      points[w.at] = w;
    } else if (line.startsWith("G ")) {
      const g = JSON.parse(line.slice(2));
      gc[g.phase] = g.collections;
    }
  }
  return { points, gc };
}

/** The figures of one run: each point above afterImport, the import's own cost, collections. */
function figures(lines, gc) {
  const { points, gc: own } = parse(lines);
  const base = points.afterImport;
  const out = { afterImport: { slots: base.slots, chunkBytes: base.chunkBytes }, above: {}, collections: gc ?? own };
  for (const p of POINTS) if (points[p] !== undefined) out.above[p] = { slots: Math.round(points[p].slots - base.slots), chunkBytes: points[p].chunkBytes - base.chunkBytes };
  const close = points.afterClose;
  if (close !== undefined) {
    out.loopsEnded = close.loopsEnded;
    out.bufferBytesAfterClose = close.held;
  }
  return out;
}

/** The collections of each phase on Moddable: the runtime zeroes its counter at every
 *  `instruments:` line, so the counts of those lines between two `C` marks are added. */
function moddableCollections(lines) {
  let key = null;
  let gcIndex = -1;
  const marks = [];
  let sinceMark = 0;
  for (const line of lines) {
    if (line.startsWith("instruments key: ")) {
      key = line.slice(17).split(",");
      gcIndex = key.indexOf("Garbage collections");
    } else if (line.startsWith("instruments: ") && gcIndex >= 0) {
      sinceMark += Number(line.slice(13).split(",")[gcIndex]);
      if (marks.length > 0) marks[marks.length - 1].resets.push(sinceMark);
      sinceMark = 0;
    } else if (line.startsWith("C ")) {
      marks.push({ count: Number(line.slice(2)), resets: [] });
    }
  }
  // between marks i and i+1: (first reset's count - mark i) + later resets + mark i+1, or the
  // plain difference when no reset came in between
  const between = (i) => {
    const a = marks[i];
    const b = marks[i + 1];
    if (a.resets.length === 0) return b.count - a.count;
    return a.resets[0] - a.count + a.resets.slice(1).reduce((s, v) => s + v, 0) + b.count;
  };
  if (marks.length < 4) return undefined;
  return { messages: between(0), requests: between(2) };
}

/** Collects a child's stdout in `lines`, each line also to `onLine` as it arrives. */
export function lineReader(child, lines, onLine) {
  let partial = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    partial += chunk;
    let end;
    while ((end = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, end);
      partial = partial.slice(end + 1);
      lines.push(line);
      onLine?.(line);
    }
  });
}

/** Runs one variant on the XS host; rejects with what it printed when it does not finish. */
export function runXsWorkload(binary, server, client, api, preloaded, prefix) {
  const args = [MODULE, "--alias", `bench-probe=${path.join(ROOT, "bench", "xs", "probe-xs.js")}`];
  // run time: in the image but not preloaded, as a manifest module that preload does not list
  args.push(preloaded ? "--preload" : "--flash", "nats-xs");
  args.push(`server=${server}`, `client=${client}`, `api=${api}`, `prefix=${prefix}`);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, hostArguments(args, ROOT), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const lines = [];
    let stderr = "";
    lineReader(child, lines);
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && lines.includes("DONE")) return resolve(figures(lines));
      const why = stderr.trim().split("\n")[0] || lines.find((l) => l.startsWith("FAIL")) || `exit ${code ?? signal}`;
      const last = parse(lines).points;
      const reached = POINTS.filter((p) => last[p] !== undefined).pop() ?? "afterImport";
      reject(Object.assign(new Error(why), { reached: last.afterImport === undefined ? "import" : reached }));
    });
  });
}

/** The SDK named by MODDABLE, when it is built and the runtime can run headless here. */
export function moddableSdk() {
  const root = process.env.MODDABLE;
  if (root === undefined || root === "") return { missing: "MODDABLE is not set" };
  const bin = path.join(root, "build", "bin", "lin", "release");
  for (const tool of ["mcconfig", "mcsim", "xsc", "xsl"])
    if (!existsSync(path.join(bin, tool))) return { missing: `${path.join(bin, tool)} is missing: build the SDK (build/makefiles/lin, make)` };
  if (spawnSync("sh", ["-c", "command -v xvfb-run"]).status !== 0) return { missing: "xvfb-run is missing (Debian: apt-get install xvfb)" };
  const version = (() => {
    try {
      return JSON.parse(readFileSync(path.join(root, "tools", "mcconfig", "package.json"), "utf8")).version;
    } catch {
      return undefined;
    }
  })();
  return { root, bin, version };
}

/** The include list of the repository's nats-xs manifest (the device modules the library needs),
 *  with its relative paths made absolute. */
function libraryIncludes() {
  const dir = path.join(ROOT, "manifests", "nats-xs");
  const m = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
  return (m.include ?? []).map((p) => (p.startsWith("$(") ? p : path.resolve(dir, p)));
}

/** Builds and runs one variant on Moddable's runtime. */
export async function runModdableWorkload(sdk, server, client, api, preloaded, prefix) {
  const work = path.join(os.tmpdir(), "nats-xs-moddable");
  const app = path.join(work, "app");
  const out = path.join(work, "build");
  mkdirSync(app, { recursive: true });
  mkdirSync(out, { recursive: true });
  // the modules are copied in at every run: make rebuilds what is newer than its last build, and a
  // dist/ built earlier (another checkout's, say) would otherwise be left as last compiled.
  // The workload imports its floor client by a path; in a manifest it is a module name.
  writeFileSync(path.join(app, "main.js"), readFileSync(MODULE, "utf8").replace('"./floor.js"', '"floor"'));
  writeFileSync(path.join(app, "nats-xs.js"), readFileSync(path.join(ROOT, "dist", "nats-xs.js")));
  writeFileSync(path.join(app, "bench-probe.js"), readFileSync(path.join(ROOT, "bench", "moddable", "probe.js")));
  writeFileSync(path.join(app, "floor.js"), readFileSync(path.join(ROOT, "bench", "xs", "floor.js")));
  const preload = ["bench-probe", "floor"];
  if (preloaded) preload.push("nats-xs");
  const manifest = {
    include: [
      "$(MODDABLE)/examples/manifest_base.json",
      "$(MODDABLE)/modules/base/debug/manifest.json",
      "$(MODDABLE)/modules/base/instrumentation/manifest.json",
      ...libraryIncludes(),
    ],
    creation: CREATION,
    config: { server, client, api, prefix },
    modules: { "*": ["./main", "./nats-xs", "./bench-probe", "./floor"] },
    preload,
  };
  writeFileSync(path.join(app, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const env = { ...process.env, MODDABLE: sdk.root, PATH: `${sdk.bin}:${process.env.PATH}` };
  const built = spawnSync(path.join(sdk.bin, "mcconfig"), ["-m", "-p", "lin", "-i", "-o", out], { cwd: app, env, encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
  const so = path.join(out, "bin", "lin", "mc", "instrument", "app", "mc.so");
  if (built.status !== 0 || !existsSync(so)) throw new Error(`mcconfig failed: ${(built.stderr || built.stdout || "").trim().split("\n").slice(-5).join(" / ")}`);
  const lines = await new Promise((resolve, reject) => {
    // stdbuf: the simulator's stdout is a pipe here, which stdio would buffer by blocks
    const child = spawn("xvfb-run", ["-a", "stdbuf", "-oL", path.join(sdk.bin, "mcsim"), so], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const got = [];
    let settled = false;
    const stop = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // the simulator runs until told otherwise: end the process group xvfb-run started
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      if (error !== undefined) reject(Object.assign(error, { lines: got }));
      else resolve(got);
    };
    lineReader(child, got, (line) => {
      if (line === "DONE") stop();
      else if (line.startsWith("FAIL") || line.startsWith("XS abort")) stop(new Error(line));
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
    const timer = setTimeout(() => stop(new Error(`no DONE within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
    child.on("close", (code) => stop(new Error(`mcsim ended (status ${code}) before DONE: ${stderr.trim().split("\n").slice(-3).join(" / ")}`)));
  }).catch((error) => {
    const last = parse(error.lines ?? []).points;
    const reached = POINTS.filter((p) => last[p] !== undefined).pop() ?? "afterImport";
    const full = (error.lines ?? []).find((l) => /XS abort|memory full|stack overflow/i.test(l));
    const tail = (error.lines ?? []).filter((l) => !l.startsWith("instruments")).slice(-3).join(" / ");
    throw Object.assign(new Error(full ?? `${error.message}${tail ? ` (last lines: ${tail})` : ""}`), { reached: last.afterImport === undefined ? "import" : reached });
  });
  return figures(lines, moddableCollections(lines));
}

/** Runs every variant with `run(client, api, preloaded, prefix)`; a variant that fails is kept
 *  with its error and the last point it reached. */
export async function runVariants(run, log) {
  const results = {};
  let n = 0;
  for (const [name, client, api, preloaded] of VARIANTS) {
    log(`  ${name}\n`);
    try {
      results[name] = await run(client, api, preloaded, `wl${n++}`);
    } catch (error) {
      results[name] = { error: error.message.split("\n")[0], reached: error.reached };
      log(`    failed after ${error.reached}: ${results[name].error}\n`);
    }
  }
  return results;
}

const num = (n) => n.toLocaleString("en-US");

/** The issue's table: chunk bytes / slots above the baseline, per point and variant. */
export function workloadTable(results) {
  const names = Object.keys(results);
  let s = `| point | ${names.join(" | ")} |\n|---|${names.map(() => "---|").join("")}\n`;
  for (const p of POINTS) {
    const cells = names.map((n) => {
      const r = results[n];
      if (r.error !== undefined) return r.reached === p ? "memory full after this" : r.reached === "import" && p === POINTS[0] ? "memory full at import" : "";
      const v = r.above[p];
      return v === undefined ? "" : `${num(v.chunkBytes)} / ${num(v.slots)}`;
    });
    s += `| ${p} | ${cells.join(" | ")} |\n`;
  }
  const gcs = names.map((n) => {
    const c = results[n].collections;
    return c === undefined ? "" : `${c.messages}`;
  });
  s += `| collections, 1,000 messages in and out | ${gcs.join(" | ")} |\n`;
  const imports = names.map((n) => (results[n].afterImport === undefined ? "" : `${num(results[n].afterImport.chunkBytes)} / ${num(results[n].afterImport.slots)}`));
  s += `| baseline (after import, absolute) | ${imports.join(" | ")} |\n`;
  return s;
}
