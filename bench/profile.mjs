#!/usr/bin/env node
// Summarises V8 CPU profiles (from BENCH_PROFILE=natsxs npm run bench): self time by function and by
// file, heaviest first.
//
//   node bench/profile.mjs bench/profiles/natsxs-pub16.cpuprofile [more...] [--top 25]
import { readFileSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;

for (const file of args) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    self.set(n, (self.get(n) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const files = new Map();
  for (const [n, t] of self) {
    const cf = n.callFrame;
    const where = cf.url ? path.basename(cf.url) : "";
    const key = `${cf.functionName || "(anonymous)"} ${where}${cf.url ? `:${cf.lineNumber + 1}` : ""}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    const fkey = where || cf.functionName;
    files.set(fkey, (files.get(fkey) ?? 0) + t);
  }
  const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  process.stdout.write(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled\n-- self time by function\n`);
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(t)}  ${k}\n`);
  process.stdout.write("-- self time by file\n");
  for (const [k, t] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`${pct(t)}  ${k}\n`);
}
