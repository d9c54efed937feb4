// Runs an ES module on the real XS engine with the nats-xs device modules:
//
//   npm run xs -- <module.mjs> [--memory] [--budget chunkBytes,slots[,stackSlots]]
//                [--preload specifier]... [--flash specifier]... [--sndbuf bytes] [--rcvbuf bytes] [--device-dir dir] [key=value ...]
//
// With --device-dir the module is the device's factory image: the runner boots the image its OTA
// partitions select instead, restarts it when it asks (exit status 100) and rolls back an image
// that ends before it marked itself valid (host-sim/device-runner.js, as nats-xs-sim does).
// Builds the engine first when needed (tools/xs/build.mjs), resolves "nats-xs" and "nats-xs/<x>"
// through package.json "exports" (then dist/nats-xs-<x>.js), and exits with the host's status:
// 0 done, 1 uncaught exception or unhandled rejection, 2 usage, 3 memory full, 4 stack overflow,
// 5 other XS abort (see tools/xs/README.md).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./build.mjs";
import { runDevice } from "../../host-sim/device-runner.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Host arguments that map the package's own specifiers ("nats-xs", "nats-xs/x") to files. */
export function aliasArguments(root = ROOT) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const args = [];
  const exportsField = pkg.exports;
  if (!pkg.name || exportsField === undefined) return args;
  const entries = typeof exportsField === "string" ? { ".": exportsField } : exportsField;
  for (const [key, value] of Object.entries(entries)) {
    if (!key.startsWith(".") || key.includes("*")) continue;
    const target =
      typeof value === "string" ? value : (value?.import ?? value?.default ?? value?.module ?? undefined);
    if (typeof target !== "string" || !/\.m?js$/.test(target)) continue;
    const specifier = key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    args.push("--alias", `${specifier}=${resolve(root, target)}`);
  }
  return args;
}

// host options that take a value: the module is the first word that is neither an option nor a value
const VALUED = new Set(["--budget", "--preload", "--flash", "--sndbuf", "--rcvbuf", "--root", "--alias"]);

/**
 * `--device-dir <dir>` taken out of the arguments: null without it; else the folder, the module
 * (the factory image) and `args(image)`, the arguments with the module replaced by another image.
 */
export function deviceArguments(args) {
  const at = args.indexOf("--device-dir");
  if (at < 0 || at + 1 >= args.length) return null;
  const dir = args[at + 1];
  const rest = [...args.slice(0, at), ...args.slice(at + 2)];
  let m = 0;
  while (m < rest.length && rest[m].startsWith("--")) m += VALUED.has(rest[m]) ? 2 : 1;
  if (m >= rest.length) return null;
  return { dir, factory: rest[m], args: (image) => [...rest.slice(0, m), image, ...rest.slice(m + 1)] };
}

/** The full host command line for a module and its options. */
export function hostArguments(args, root = ROOT) {
  return ["--root", root, ...aliasArguments(root), ...args];
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stderr.write(
      "usage: npm run xs -- <module.mjs> [--memory] [--budget chunkBytes,slots[,stackSlots]] [--preload specifier]...\n" +
        "                     [--sndbuf bytes] [--rcvbuf bytes] [--device-dir dir] [key=value ...]   (see tools/xs/README.md)\n",
    );
    process.exit(args.length === 0 ? 2 : 0);
  }
  let binary;
  try {
    binary = ensureBuilt();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const device = deviceArguments(args);
  if (device !== null) {
    // a device with OTA partitions: the runner boots the active image (host-sim/device-runner.js)
    const { code, signal } = await runDevice({
      deviceDir: device.dir,
      factory: device.factory,
      spawnImage: (file, env) => spawn(binary, hostArguments(device.args(file)), { stdio: "inherit", env }),
      say: (line) => process.stderr.write(`xs: ${line}\n`),
    });
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
    return;
  }
  const child = spawn(binary, hostArguments(args), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await main();
}
