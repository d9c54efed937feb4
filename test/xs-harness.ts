// Runs modules of test/xs/ on the XS engine host (tools/xs/), as the XS suites need it: the host
// built (or reused) once, the default ESP32 budget, preloaded libraries, stdout lines seen as they
// arrive so that a test can talk to the module while it runs.
//
// NATS_XS_HOST=<binary> runs the suites on another build of the host (a debug build, say).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface XsResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

let binary = "";
let hostArguments: (args: string[]) => string[] = (args) => args;

/** Builds the host when missing or stale; call it in beforeAll (with a generous timeout). */
export async function prepareXs(): Promise<void> {
  const build = await import(pathToFileURL(join(ROOT, "tools", "xs", "build.mjs")).href);
  const runner = await import(pathToFileURL(join(ROOT, "tools", "xs", "run.mjs")).href);
  binary = process.env.NATS_XS_HOST ?? build.ensureBuilt({ quiet: true });
  hostArguments = (args) => runner.hostArguments(args, ROOT);
}

/** Calls `onLine` with each whole line of a child's output stream as it arrives (utf8). */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    partial += chunk;
    let end: number;
    while ((end = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, end);
      partial = partial.slice(end + 1);
      onLine(line);
    }
  });
}

/**
 * Runs `module` (a path) with `preload` modules preloaded and the default (ESP32) budget; `onLine`
 * sees each stdout line as it arrives; the child is killed after `timeoutMs`.
 */
export function runXs(module: string, preload: string[], args: string[], onLine?: (line: string) => void, timeoutMs = 28_000): Promise<XsResult> {
  return new Promise((resolve, reject) => {
    const flags = preload.flatMap((p) => ["--preload", p]);
    const child = spawn(binary, hostArguments([module, ...flags, ...args]), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const lines: string[] = [];
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    eachLine(child.stdout, (line) => {
      lines.push(line);
      onLine?.(line);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
}

/** What went wrong, for assertion messages: exit status, stderr and the last lines printed. */
export function explain(r: XsResult): string {
  const how =
    r.signal === "SIGSEGV"
      ? "the XS host crashed (SIGSEGV)"
      : r.signal !== null
        ? `killed by ${r.signal} (timeout?)`
        : `exit status ${r.code} (tools/xs/README.md: 1 exception, 3 memory full, 4 stack overflow, 5 abort)`;
  return `${how}\nstderr: ${r.stderr.trim()}\nlast stdout lines:\n${r.lines.slice(-8).join("\n")}`;
}

/** The JSON after `prefix ` on the line that starts with it. */
export function field<T>(r: XsResult, prefix: string): T {
  const line = r.lines.find((l) => l.startsWith(`${prefix} `));
  if (line === undefined) throw new Error(`no "${prefix}" line\n${explain(r)}`);
  return JSON.parse(line.slice(prefix.length + 1)) as T;
}
