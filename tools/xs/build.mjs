// Builds the XS engine host (build/xs/xs-host) from the engine sources that the npm package
// @agoric/xsnap ships (node_modules/@agoric/xsnap/moddable/xs/{sources,includes,platforms}) and our
// own host (tools/xs/host/*.c, tools/xs/modules/*.js), with the machine's C compiler and make.
//
//   node tools/xs/build.mjs          (npm run xs:build) builds when anything changed
//   node tools/xs/build.mjs --force  rebuilds from scratch
//
// A build is reused while a hash of every input (engine sources, our sources, this script, compiler
// flags, compiler version, machine architecture) matches the stamp left in build/xs/. Only gcc (or
// $CC) and make are needed. Concurrent callers wait for each other through a lock folder.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, arch } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const XS = join(ROOT, "node_modules", "@agoric", "xsnap", "moddable", "xs");
const HOST = join(ROOT, "tools", "xs", "host");
const MODULES = join(ROOT, "tools", "xs", "modules");
export const BUILD = join(ROOT, "build", "xs");
export const BINARY = join(BUILD, "xs-host");
const STAMP = join(BUILD, "stamp.json");
const LOCK = join(BUILD, ".lock");

// Device modules the host preloads: specifier -> file in tools/xs/modules/. Order matters only in
// that a module's imports must be embedded too.
const EMBEDDED = [
  ["xs:freeze", "freeze.js"],
  ["timer", "timer.js"],
  ["embedded:io/socket/tcp", "tcp.js"],
  ["embedded:io/socket/tcp/tls", "tls.js"],
  ["embedded:io/socket/udp", "udp.js"],
  ["embedded:network/dns/resolver/udp", "resolver.js"],
  ["text/encoder", "text-encoder.js"],
  ["text/decoder", "text-decoder.js"],
  ["mc/config", "config.js"],
  ["xs:memory", "memory.js"],
  ["xs:host", "host.js"],
  ["crypt", "crypt.js"],
  // the simulated sensor and board of the sensor app: the host simulator's files, device-neutral
  ["embedded:provider/builtin", "../../../host-sim/provider.js"],
  ["embedded:sensor/Humidity-Temperature/SHT3x", "../../../host-sim/sensor.js"],
  ["embedded:storage/files", "files.js"],
  ["ota", "ota.js"],
  ["ota/boot", "ota-boot.js"],
];

// XS engine sources that our host does not link: the snapshot writer and the xsmc helpers.
const SKIP = new Set(["xsSnapshot.c", "xsmc.c"]);

const DEFINES = [
  "-DINCLUDE_XSPLATFORM",
  '-DXSPLATFORM=\\"nxs_platform.h\\"',
  "-DmxRun=1",
  "-DmxParse=1",
  "-DmxDebug=1",
  "-DmxNoConsole=1",
  "-DmxInstrument=1", // garbageCollectionCount, read by xs:memory collections()
];
const CFLAGS = ["-O2", "-g0", "-fno-common", "-fno-strict-aliasing", ...DEFINES];
const WARNINGS_XS = ["-w"];
const WARNINGS_HOST = ["-Wall", "-Wno-unused-parameter", "-Wno-unused-function", "-Wno-shadow", "-Wno-format-truncation"];
// libssl/libcrypto (Debian's libssl-dev) for the TLS engine behind embedded:io/socket/tcp/tls
const LIBS = ["-lm", "-lpthread", "-lssl", "-lcrypto"];

function log(message) {
  process.stderr.write(`xs: ${message}\n`);
}

function which(command) {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function listFiles(folder, extensions) {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => join(folder, name));
}

function engineSources() {
  return listFiles(join(XS, "sources"), [".c"]).filter((file) => !SKIP.has(file.split("/").pop()));
}

function inputs() {
  return [
    ...listFiles(join(XS, "sources"), [".c", ".h"]),
    ...listFiles(join(XS, "includes"), [".h"]),
    ...listFiles(join(XS, "platforms"), [".h"]),
    ...listFiles(HOST, [".c", ".h"]),
    ...listFiles(MODULES, [".js"]),
    // embedded modules that live outside tools/xs/modules (host-sim's device-neutral ones)
    ...EMBEDDED.map(([, name]) => join(MODULES, name)).filter((file) => !file.startsWith(MODULES + "/")),
    fileURLToPath(import.meta.url),
  ];
}

function compilerVersion(cc) {
  const result = spawnSync(cc, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split("\n")[0] : "unknown";
}

function computeHash(cc) {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ cflags: CFLAGS, libs: LIBS, cc: compilerVersion(cc), arch: arch(), embedded: EMBEDDED }));
  for (const file of inputs()) {
    hash.update(relative(ROOT, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, "utf8"));
  } catch {
    return undefined;
  }
}

/** True when build/xs/xs-host exists and was built from the current inputs. */
export function isBuildCurrent() {
  const cc = process.env.CC || "cc";
  if (!existsSync(BINARY) || !existsSync(XS)) return false;
  const stamp = readStamp();
  return stamp?.hash === computeHash(cc);
}

function cString(text) {
  // Octal escapes keep every byte as is, whatever the encoding of the module source.
  let out = '"';
  let column = 0;
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x0a) out += "\\n";
    else if (byte >= 0x20 && byte < 0x7f && byte !== 0x3f) out += String.fromCharCode(byte);
    else out += "\\" + byte.toString(8).padStart(3, "0");
    if (++column >= 100 && byte === 0x0a) {
      out += '"\n\t"';
      column = 0;
    }
  }
  return out + '"';
}

function generateModules(file) {
  const lines = [
    "/* Generated by tools/xs/build.mjs from tools/xs/modules/: do not edit. */",
    "typedef struct { const char* specifier; const char* source; int size; } txEmbeddedModule;",
    "const txEmbeddedModule gxEmbeddedModules[] = {",
  ];
  for (const [specifier, name] of EMBEDDED) {
    const source = readFileSync(join(MODULES, name), "utf8");
    lines.push(`\t{ ${cString(specifier)}, ${cString(source)}, ${Buffer.byteLength(source)} },`);
  }
  lines.push("};", `const int gxEmbeddedModuleCount = ${EMBEDDED.length};`, "");
  writeFileSync(file, lines.join("\n"));
}

function makeEscape(path) {
  return path.replace(/ /g, "\\ ");
}

function generateMakefile(cc) {
  const xsObjects = engineSources().map((file) => {
    const name = file.split("/").pop().replace(/\.c$/, ".o");
    return { source: file, object: join(BUILD, "obj", "xs", name) };
  });
  const hostObjects = [...listFiles(HOST, [".c"]), join(BUILD, "gen", "modules.c")].map((file) => {
    const name = file.split("/").pop().replace(/\.c$/, ".o");
    return { source: file, object: join(BUILD, "obj", "host", name) };
  });
  const includes = [join(XS, "includes"), join(XS, "platforms"), join(XS, "sources"), HOST]
    .map((dir) => `-I${makeEscape(dir)}`)
    .join(" ");
  const headers = [
    ...listFiles(join(XS, "sources"), [".h"]),
    ...listFiles(join(XS, "includes"), [".h"]),
    ...listFiles(join(XS, "platforms"), [".h"]),
    ...listFiles(HOST, [".h"]),
  ]
    .map(makeEscape)
    .join(" ");
  // Objects depend on this file, rewritten only when the flags change, so make rebuilds them then.
  const flagsFile = join(BUILD, "flags.txt");
  const flags = `${cc}\n${CFLAGS.join(" ")}\n${WARNINGS_XS.join(" ")}\n${WARNINGS_HOST.join(" ")}\n`;
  if (!existsSync(flagsFile) || readFileSync(flagsFile, "utf8") !== flags) writeFileSync(flagsFile, flags);
  const lines = [
    "# Generated by tools/xs/build.mjs: do not edit.",
    `CC = ${cc}`,
    `CFLAGS = ${CFLAGS.join(" ")} ${includes}`,
    `LIBS = ${LIBS.join(" ")}`,
    `HEADERS = ${headers} ${makeEscape(flagsFile)}`,
    "",
    `${makeEscape(BINARY)}: ${[...xsObjects, ...hostObjects].map((o) => makeEscape(o.object)).join(" ")}`,
    `\t@echo "  link $(notdir $@)"`,
    `\t@$(CC) -o $@.tmp $^ $(LIBS) && mv $@.tmp $@`,
    "",
  ];
  for (const { source, object } of xsObjects) {
    lines.push(`${makeEscape(object)}: ${makeEscape(source)} $(HEADERS)`);
    lines.push(`\t@echo "  cc $(notdir $<)"`);
    lines.push(`\t@$(CC) $(CFLAGS) ${WARNINGS_XS.join(" ")} -c $< -o $@`);
  }
  for (const { source, object } of hostObjects) {
    lines.push(`${makeEscape(object)}: ${makeEscape(source)} $(HEADERS)`);
    lines.push(`\t@echo "  cc $(notdir $<)"`);
    lines.push(`\t@$(CC) $(CFLAGS) ${WARNINGS_HOST.join(" ")} -c $< -o $@`);
  }
  writeFileSync(join(BUILD, "Makefile"), lines.join("\n") + "\n");
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function acquireLock() {
  mkdirSync(BUILD, { recursive: true });
  const deadline = Date.now() + 15 * 60 * 1000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    let owner;
    try {
      owner = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      owner = undefined;
    }
    const age = (() => {
      try {
        return Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        return 0;
      }
    })();
    if ((owner && !processAlive(owner)) || (!owner && age > 10_000)) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`xs: gave up waiting for another build (lock ${LOCK})`);
    if (!told) {
      log("waiting for another build of the XS engine to finish");
      told = true;
    }
    sleep(250);
  }
}

function releaseLock() {
  rmSync(LOCK, { recursive: true, force: true });
}

/**
 * Builds build/xs/xs-host unless it is current. Returns the binary's path. Build output goes to
 * stderr so that the stdout of a run stays the module's own.
 */
export function ensureBuilt({ force = false, quiet = false } = {}) {
  if (!existsSync(join(XS, "sources", "xsAll.h"))) {
    throw new Error(
      "xs: the XS engine sources are missing: run `npm install` (devDependency @agoric/xsnap provides them)",
    );
  }
  const cc = process.env.CC || "cc";
  if (!which(cc)) throw new Error(`xs: no C compiler (${cc}): install gcc (apt-get install -y gcc make)`);
  if (!which("make")) throw new Error("xs: no make: install it (apt-get install -y make)");
  if (!force && isBuildCurrent()) return BINARY;
  acquireLock();
  try {
    const hash = computeHash(cc);
    if (!force && existsSync(BINARY) && readStamp()?.hash === hash) return BINARY;
    if (force) rmSync(join(BUILD, "obj"), { recursive: true, force: true });
    const started = Date.now();
    if (!quiet) log("building the XS engine and host (once; reused until its sources change)");
    for (const dir of ["obj/xs", "obj/host", "gen"]) mkdirSync(join(BUILD, dir), { recursive: true });
    rmSync(STAMP, { force: true });
    generateModules(join(BUILD, "gen", "modules.c.tmp"));
    // Rewrite the generated file only when it changed, so make keeps its object.
    const modulesFile = join(BUILD, "gen", "modules.c");
    const fresh = readFileSync(join(BUILD, "gen", "modules.c.tmp"));
    if (!existsSync(modulesFile) || !readFileSync(modulesFile).equals(fresh))
      renameSync(join(BUILD, "gen", "modules.c.tmp"), modulesFile);
    else rmSync(join(BUILD, "gen", "modules.c.tmp"));
    generateMakefile(cc);
    const jobs = String(Math.max(1, Math.min(availableParallelism(), 4)));
    const result = spawnSync("make", ["-f", join(BUILD, "Makefile"), "-j", jobs], {
      cwd: BUILD,
      stdio: quiet ? ["ignore", "ignore", "inherit"] : ["ignore", process.stderr, "inherit"],
    });
    if (result.status !== 0) throw new Error(`xs: the build failed (make exited with ${result.status})`);
    writeFileSync(STAMP, JSON.stringify({ hash, built: new Date().toISOString(), seconds: (Date.now() - started) / 1000 }) + "\n");
    if (!quiet) log(`built ${relative(ROOT, BINARY)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return BINARY;
  } finally {
    releaseLock();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const force = process.argv.includes("--force");
    const current = !force && isBuildCurrent();
    ensureBuilt({ force });
    if (current) log(`${relative(ROOT, BINARY)} is up to date`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
