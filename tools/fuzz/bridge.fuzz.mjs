#!/usr/bin/env node
// Fuzz of the NATSBridge receiver: malformed envelopes (tools/fuzz/bridge-gen.mjs) into an
// EnvelopeReceiver with its default bounds, on Node (dist/ through the host simulator) and on the
// XS engine under the ESP32 budget (nats-xs and nats-xs/bridge preloaded), the same envelopes on
// both from one seed.
//
//   node tools/fuzz/bridge.fuzz.mjs [--full] [--seed N] [--count N]
//
// CI size: 1,000 envelopes on each engine; --full: 10,000. Passes when, on both engines: every
// envelope got exactly one callback (an envelope or a typed NatsError), no untyped error, no hang
// (5 s per envelope), no stack overflow or memory full on XS, the live heap stayed within a bound of
// where it started (XS: 1,000 slots and 16 KB; Node: 16 MB), and both engines counted the same
// results. Prints the seed, the counts and the heap figures; exits 1 on any failure. Needs dist/
// (npm run build).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CI_COUNT = 1000;
export const FULL_COUNT = 10000;
export const DEFAULT_SEED = 20261130;
const XS_BOUND = { slots: 1000, chunkBytes: 16384 };
const NODE_BOUND = 16 * 1024 * 1024;

function run(command, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("result "));
      resolve({ code, signal, stderr: stderr.trim(), result: line === undefined ? null : JSON.parse(line.slice(7)) });
    });
  });
}

/** Runs the fuzz on both engines; resolves with {ok, failures, node, xs}. */
export async function fuzzBridge({ count = CI_COUNT, seed = DEFAULT_SEED, log = (line) => console.log(line) } = {}) {
  if (!existsSync(join(ROOT, "dist", "nats-xs-bridge.js"))) throw new Error("dist/ is missing: run npm run build first");
  const timeout = Math.max(120_000, count * 60);
  const build = await import(pathToFileURL(join(ROOT, "tools", "xs", "build.mjs")).href);
  const runner = await import(pathToFileURL(join(ROOT, "tools", "xs", "run.mjs")).href);
  const binary = build.ensureBuilt({ quiet: true });
  log(`bridge fuzz: seed ${seed}, ${count} malformed envelopes on each engine`);
  const [node, xs] = await Promise.all([
    run(process.execPath, ["--expose-gc", "--import", "./host-sim/register.js", "tools/fuzz/bridge-node.mjs", String(count), String(seed)], timeout),
    run(binary, runner.hostArguments(["tools/fuzz/bridge-xs.mjs", "--preload", "nats-xs", "--preload", "nats-xs/bridge", `count=${count}`, `seed=${seed}`], ROOT), timeout),
  ]);
  const failures = [];
  for (const [name, r] of [
    ["node", node],
    ["xs", xs],
  ]) {
    if (r.code !== 0 || r.result === null) {
      const why = r.signal !== null ? `killed by ${r.signal} (hang?)` : r.code === 3 ? "memory full" : r.code === 4 ? "stack overflow" : `exit status ${r.code}`;
      failures.push(`${name}: ${why}; ${r.stderr.split("\n").slice(-3).join(" | ")}`);
      continue;
    }
    const x = r.result;
    const heapRise = { a: x.heap.max.a - x.heap.first.a, b: x.heap.max.b - x.heap.first.b };
    log(
      `${name}: ${x.envelopes} envelopes, ${x.accepted} accepted, ${x.refused} refused with a typed error, ${x.crashes} crashes, ${x.hangs} hangs, ${x.extra} extra callbacks; ` +
        `${x.bytes} bytes; kinds ${JSON.stringify(x.byKind)}; errors ${JSON.stringify(x.byError)}; ` +
        (name === "xs" ? `live heap ${x.heap.first.a} -> max ${x.heap.max.a} slots, ${x.heap.first.b} -> max ${x.heap.max.b} chunk bytes` : `heap used ${x.heap.first.a} -> max ${x.heap.max.a} bytes`),
    );
    if (x.crashes > 0) failures.push(`${name}: ${x.crashes} crashes (first: ${x.firstCrash})`);
    if (x.hangs > 0) failures.push(`${name}: ${x.hangs} envelopes without a callback within 5 s`);
    if (x.extra > 0) failures.push(`${name}: ${x.extra} extra callbacks`);
    if (x.accepted + x.refused !== count) failures.push(`${name}: ${x.accepted + x.refused} results for ${count} envelopes`);
    if (name === "xs" && (heapRise.a > XS_BOUND.slots || heapRise.b > XS_BOUND.chunkBytes))
      failures.push(`xs: the live heap rose ${heapRise.a} slots and ${heapRise.b} bytes (bound ${XS_BOUND.slots} slots, ${XS_BOUND.chunkBytes} bytes)`);
    if (name === "node" && heapRise.a > NODE_BOUND) failures.push(`node: the heap rose ${heapRise.a} bytes (bound ${NODE_BOUND})`);
  }
  if (node.result !== null && xs.result !== null) {
    const a = JSON.stringify([node.result.accepted, node.result.byError]);
    const b = JSON.stringify([xs.result.accepted, xs.result.byError]);
    if (a !== b) failures.push(`node and xs disagree: ${a} vs ${b}`);
  }
  const ok = failures.length === 0;
  log(ok ? `bridge fuzz: passed (seed ${seed})` : `bridge fuzz: FAILED (seed ${seed})\n  ${failures.join("\n  ")}`);
  return { ok, failures, node: node.result, xs: xs.result };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const count = value("--count") ?? (args.includes("--full") ? FULL_COUNT : CI_COUNT);
  const seed = value("--seed") ?? DEFAULT_SEED;
  fuzzBridge({ count, seed }).then(
    (r) => process.exit(r.ok ? 0 : 1),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
