// Runs an ES module on the real XS engine with the nats-xs device modules:
//
//   npm run xs -- <module.mjs> [--memory] [--budget chunkBytes,slots[,stackSlots]]
//                [--preload specifier]... [--sndbuf bytes] [--rcvbuf bytes] [key=value ...]
//
// Builds the engine first when needed (tools/xs/build.mjs), resolves "nats-xs" and "nats-xs/<x>"
// through package.json "exports" (then dist/nats-xs-<x>.js), and exits with the host's status:
// 0 done, 1 uncaught exception or unhandled rejection, 2 usage, 3 memory full, 4 stack overflow,
// 5 other XS abort (see tools/xs/README.md).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./build.mjs";

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

/** The full host command line for a module and its options. */
export function hostArguments(args, root = ROOT) {
  return ["--root", root, ...aliasArguments(root), ...args];
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stderr.write(
      "usage: npm run xs -- <module.mjs> [--memory] [--budget chunkBytes,slots[,stackSlots]] [--preload specifier]...\n" +
        "                     [--sndbuf bytes] [--rcvbuf bytes] [key=value ...]   (see tools/xs/README.md)\n",
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
