// Bundle sizes, every bundle minified the same way: terser 5 in module mode (compress with 2
// passes, mangle; no comments), then gzip level 9 of the minified text.
//
// - nats-xs core: dist/nats-xs.js as built (rollup already made it one module), minified.
// - nats-xs, everything shipped: every .js file under dist/ (entries and shared chunks), each
//   minified on its own; the sums.
// - nats-xs, tree-shaken: esbuild bundles `export { connect } from "nats-xs"` (ESM, platform node,
//   device modules external), then the same terser pass: the nats.js row's method, for a like-for-like row.
// - nats.js core: esbuild bundles `export { connect } from "@nats-io/transport-node"` (platform
//   node, ESM output, node: built-ins external, tree shaking on), then the same terser pass. What
//   connect() reaches is what publish/subscribe/request need (they are methods of the connection it
//   returns). nats.js 3.4 ships CommonJS, which esbuild cannot shake below whole modules, so every
//   module that connect() requires is included whole (nats-core, nkeys/tweetnacl for auth, nuid).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { minify } from "terser";

const TERSER = { module: true, ecma: 2022, compress: { passes: 2 }, mangle: true, format: { comments: false } };
const DEVICE = /^(embedded:|timer$|text\/|mc\/|instrumentation$)/;

export async function sizes(code) {
  const r = await minify(code, TERSER);
  const min = Buffer.byteLength(r.code);
  return { raw: Buffer.byteLength(code), min, gzip: gzipSync(r.code, { level: 9 }).length };
}

function jsFiles(dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "types") out.push(...jsFiles(p, base));
    } else if (e.name.endsWith(".js")) out.push(path.relative(base, p));
  }
  return out.sort();
}

export async function esbundle(root, contents) {
  const r = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    treeShaking: true,
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "device-external",
        setup(b) {
          b.onResolve({ filter: DEVICE }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  return r.outputFiles[0].text;
}

export async function bundleSizes(root) {
  const dist = path.join(root, "dist");
  const natsxsCore = await sizes(readFileSync(path.join(dist, "nats-xs.js"), "utf8"));
  const files = jsFiles(dist);
  const all = { files, raw: 0, min: 0, gzip: 0, each: {} };
  for (const f of files) {
    const s = await sizes(readFileSync(path.join(dist, f), "utf8"));
    all.each[f] = s;
    all.raw += s.raw;
    all.min += s.min;
    all.gzip += s.gzip;
  }
  const natsxsShaken = await sizes(await esbundle(root, 'export { connect } from "nats-xs";'));
  const natsjsCore = await sizes(await esbundle(root, 'export { connect } from "@nats-io/transport-node";'));
  const versions = {
    terser: JSON.parse(readFileSync(path.join(root, "node_modules", "terser", "package.json"), "utf8")).version,
    esbuild: JSON.parse(readFileSync(path.join(root, "node_modules", "esbuild", "package.json"), "utf8")).version,
    natsjs: JSON.parse(readFileSync(path.join(root, "node_modules", "@nats-io", "transport-node", "package.json"), "utf8")).version,
  };
  return {
    method:
      "terser (module, compress passes 2, mangle, no comments) then gzip -9; nats.js core = esbuild bundle of `export { connect } from \"@nats-io/transport-node\"` (platform node, esm, node built-ins external), same terser pass",
    versions,
    natsxsCore,
    natsxsAll: all,
    natsxsShaken,
    natsjsCore,
  };
}
