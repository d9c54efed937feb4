// `npm start`'s build: runs `npm run build` (rollup) only when an input changed since the last
// build: a hash of firmware/, the build configuration and the lock file, kept in dist/.stamp.
// A fresh clone builds (about 10-20 s); later starts with nothing changed skip it.
//   node tools/build.mjs [--force]
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STAMP = join(ROOT, "dist", ".stamp");
const INPUTS = ["firmware", "rollup.config.mjs", "tsconfig.json", "package-lock.json", "host-sim/globals.js"];

function files(path) {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  try {
    return readdirSync(full, { withFileTypes: true }).flatMap((e) => files(join(path, e.name)));
  } catch {
    return [path];
  }
}

const hash = createHash("sha256");
for (const file of INPUTS.flatMap(files).sort()) {
  hash.update(relative(ROOT, join(ROOT, file)));
  hash.update(readFileSync(join(ROOT, file)));
}
const digest = hash.digest("hex");
const force = process.argv.includes("--force");
if (!force && existsSync(STAMP) && readFileSync(STAMP, "utf8") === digest) {
  console.log("[build] dist/ is up to date with firmware/ (npm run build rebuilds anyway)");
  process.exit(0);
}
const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(STAMP, digest);
