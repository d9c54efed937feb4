#!/usr/bin/env node
// Runs every fuzz suite (tools/fuzz/*.fuzz.mjs) in turn, each as a child process of its own with
// the host simulator loaded and the collector exposed (heap checks), and fails when any fails.
//
//   npm run fuzz                  every suite at full size (each gets --full)
//   node tools/fuzz/run.mjs --ci  every suite at CI size (what npm test runs)
//   node tools/fuzz/run.mjs [--ci] [seed=N] [name...]   only the suites whose file name starts
//                                                        with a name; seed= goes to each suite
//
// A suite prints its counts and seed and exits non-zero on failure; a suite that runs past its
// time limit (FUZZ_TIMEOUT_MS, default 20 minutes at full size, 2 at CI size) counts as a hang.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");

/** The suites, by file name, in a stable order. */
export function suites() {
  return readdirSync(HERE)
    .filter((f) => f.endsWith(".fuzz.mjs"))
    .sort();
}

/**
 * Runs one suite; resolves with { code, signal, output, timedOut }. `args` go to the suite
 * (`--full`, `seed=N`); `onOutput` sees its stdout and stderr as they come.
 */
export function runSuite(file, args = [], { timeoutMs, onOutput } = {}) {
  const limit = timeoutMs ?? Number(process.env.FUZZ_TIMEOUT_MS ?? (args.includes("--full") ? 20 * 60_000 : 120_000));
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "./host-sim/register.js", join(HERE, file), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (chunk) => {
      const text = chunk.toString();
      output += text;
      onOutput?.(text);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limit);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, output, timedOut });
    });
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const ci = argv.includes("--ci");
  const passed = argv.filter((a) => a.includes("="));
  const names = argv.filter((a) => !a.startsWith("-") && !a.includes("="));
  const chosen = suites().filter((f) => names.length === 0 || names.some((n) => f.startsWith(n)));
  if (chosen.length === 0) {
    process.stderr.write(`no fuzz suite matches ${names.join(", ")}\n`);
    process.exit(2);
  }
  let failed = 0;
  for (const file of chosen) {
    process.stdout.write(`== ${file} (${ci ? "CI size" : "full size"})\n`);
    const started = Date.now();
    const r = await runSuite(file, ci ? passed : ["--full", ...passed], { onOutput: (t) => process.stdout.write(t) });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (r.code === 0) process.stdout.write(`== ${file}: passed in ${secs} s\n`);
    else {
      failed++;
      process.stdout.write(`== ${file}: FAILED (${r.timedOut ? "hang: time limit" : r.signal ?? `exit ${r.code}`}) after ${secs} s\n`);
    }
  }
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
