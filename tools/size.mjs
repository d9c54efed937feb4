// npm run size: what each module of the package costs in flash. For every module the package
// exports (package.json "exports" that name a dist/ file), and for nats.js core bundled the way
// the README's bundle table does it:
//
//   minified  terser (module mode, 2 compress passes, mangle, no comments): bench/lib/bundle.mjs
//   gzip      gzip -9 of the minified text
//   bytecode  XS bytecode of the module as a manifest includes it (dist/ file as built), compiled
//             the way xsc compiles a release build (no line numbers): code + symbols, what the
//             Moddable linker stores in flash for a preloaded module. The XS engine built from
//             @agoric/xsnap's sources (tools/xs) does the compiling: `xs-host --bytecode`.
//
// `npm run size -- --json` prints the figures as JSON instead of a table.
// `npm run size -- --files` also prints where the core's bytes go: each source file's part of
// dist/nats-xs.js (rollup's rendered code of that file, minified alone; the parts add up to a
// little more than the bundle, whose names are mangled together).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { esbundle, sizes } from "../bench/lib/bundle.mjs";
import { ensureBuilt } from "./xs/build.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const json = process.argv.includes("--json");
const files = process.argv.includes("--files");

const BINARY = ensureBuilt({ quiet: true });

/** XS bytecode bytes (code + symbols) of each file, compiled as a module by the XS host. */
function bytecode(files) {
  const r = spawnSync(BINARY, ["--bytecode", ...files], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`xs-host --bytecode failed: ${r.stderr}`);
  const out = new Map();
  for (const line of r.stdout.trim().split("\n")) {
    const s = JSON.parse(line);
    out.set(s.file, s.code + s.symbols + s.hosts);
  }
  return files.map((f) => out.get(f));
}

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const modules = [];
for (const [key, value] of Object.entries(pkg.exports)) {
  const file = typeof value === "object" ? value.default : undefined;
  if (typeof file === "string" && file.startsWith("./dist/")) modules.push({ name: key === "." ? "nats-xs" : `nats-xs${key.substring(1)}`, file: join(ROOT, file) });
}
for (const m of modules) Object.assign(m, await sizes(readFileSync(m.file, "utf8")));

// nats.js core, as bench/lib/bundle.mjs bundles it (what connect() reaches), compiled the same way
const tmp = mkdtempSync(join(tmpdir(), "nats-xs-size-"));
try {
  const natsjs = { name: "nats.js core (@nats-io/transport-node connect)", file: join(tmp, "natsjs-core.js") };
  const code = await esbundle(ROOT, 'export { connect } from "@nats-io/transport-node";');
  writeFileSync(natsjs.file, code);
  Object.assign(natsjs, await sizes(code));
  const all = [...modules, natsjs];
  const codes = bytecode(all.map((m) => m.file));
  all.forEach((m, i) => (m.bytecode = codes[i]));
  const version = JSON.parse(readFileSync(join(ROOT, "node_modules", "@nats-io", "transport-node", "package.json"), "utf8")).version;
  natsjs.name = `nats.js ${version} core (connect, publish, subscribe, request)`;
  if (json) {
    console.log(JSON.stringify(all.map(({ name, min, gzip, bytecode }) => ({ name, min, gzip, bytecode })), null, 2));
  } else {
    const rows = [["module", "minified", "gzip", "XS bytecode"], ...all.map((m) => [m.name, m.min, m.gzip, m.bytecode].map(String))];
    const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(w[c]) : v.padStart(w[c]))).join("  "));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (files) {
  const { rollup } = await import("rollup");
  const { minify } = await import("terser");
  const config = (await import("../rollup.config.mjs")).default;
  const bundle = await rollup({ ...config, input: { "nats-xs": config.input["nats-xs"] } });
  const { output } = await bundle.generate({ format: "es" });
  const rows = [];
  for (const [id, m] of Object.entries(output[0].modules)) {
    if (m.code === null || m.code === "") continue;
    const r = await minify(m.code, { module: true, compress: false, mangle: true, format: { comments: false } });
    rows.push([id.substring(ROOT.length + 1), r.code.length]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  console.log("\nnats-xs core by source file (minified alone)");
  for (const [f, n] of rows) console.log(`${String(n).padStart(7)}  ${f}`);
  console.log(`${String(rows.reduce((t, r) => t + r[1], 0)).padStart(7)}  sum`);
}
