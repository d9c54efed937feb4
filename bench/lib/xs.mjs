// Figures from the real XS engine (tools/xs, `npm run xs`): the Parser's throughput on XS next to
// the same module on Node, and the memory figures of `npm run bench:memory` when that has run.
// Anything that cannot be measured is reported as a gap with the reason, never estimated.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const TIMEOUT_MS = 120_000;

/** Runs a command; the JSON of its last stdout line, or an error that says what happened. */
function runJson(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: TIMEOUT_MS });
  if (r.error !== undefined) return { error: r.error.message };
  const lines = r.stdout.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (r.status !== 0 || !last.startsWith("[")) {
    const why = (r.stderr.trim().split("\n")[0] || `exit status ${r.status ?? r.signal}`).slice(0, 300);
    return { error: why };
  }
  return { value: JSON.parse(last) };
}

/** The XS host configurations to try, the device-like one first (library preloaded, ESP32 budget). */
const XS_SETUPS = [
  { setup: "--preload nats-xs, ESP32 default budget (78,848 chunk bytes, 4,928 slots)", args: ["--preload", "nats-xs"] },
  { setup: "library loaded at run time, --budget 4194304,131072", args: ["--budget", "4194304,131072"] },
];

export async function xsFigures(root, quick, log) {
  const out = {};
  const module = path.join(root, "bench", "xs-parser.mjs");
  const runner = path.join(root, "tools", "xs", "run.mjs");
  if (!existsSync(runner)) {
    out.parser = { error: "no XS host yet (tools/xs/run.mjs is missing)" };
  } else {
    const node = runJson(process.execPath, ["--import", "./host-sim/register.js", module], root);
    const failures = [];
    let xs;
    for (const s of XS_SETUPS) {
      const r = runJson(process.execPath, [runner, module, ...s.args], root);
      if (r.value !== undefined) {
        xs = { ...r, setup: s.setup };
        break;
      }
      failures.push(`${s.setup}: ${r.error}`);
      log(`  XS parser, ${s.setup}: ${r.error}\n`);
    }
    if (xs === undefined || node.value === undefined) {
      out.parser = { error: xs === undefined ? `the XS host failed: ${failures.join("; ")}` : `Node run failed: ${node.error}` };
    } else {
      out.parser = {
        method: "bench/xs-parser.mjs: pre-built MSG frames (subject of 21 bytes, sid 1) fed to Parser in 1024-byte slices for 1 s per size, timed with Date.now(); mbps = frame bytes parsed per second (10^6 bytes)",
        setup: xs.setup,
        failedSetups: failures,
        rows: xs.value.map((row, i) => ({ size: row.size, xs: row, node: node.value[i] })),
      };
    }
  }
  const memoryFile = path.join(root, "bench", "memory.json");
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  if (existsSync(memoryFile)) {
    // written by `npm run bench:memory` (bench/memory.mjs); carried over as it is, with its date
    out.memory = JSON.parse(readFileSync(memoryFile, "utf8"));
    out.memoryWritten = statSync(memoryFile).mtime.toISOString();
  } else {
    out.memoryGap =
      pkg.scripts?.["bench:memory"] === undefined
        ? "not measured: package.json has no bench:memory script yet, so bench/memory.json does not exist"
        : "not measured: bench/memory.json is missing; run `npm run bench:memory` first";
  }
  return out;
}
