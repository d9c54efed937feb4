// The built library (dist/) on the real XS engine (tools/xs/), under the ESP32 creation budget with
// nats-xs preloaded as a device manifest preloads it: the shared parser suite and its fuzz run, and
// an end-to-end scenario against a real nats-server with the official nats.js client as the peer.
// Each test runs a module of test/xs/ in a child process of the host; the end-to-end module and
// this file coordinate through its stdout lines (see test/xs/e2e.mjs).
//
// NATS_XS_HOST=<binary> runs the suites on another build of the host (a debug build, say).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ES module shared with the Node suite and run by the XS module
import { FIXTURES } from "./shared/parser-suite.mjs";
import { startServer } from "../tools/nats-server.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODULES = join(ROOT, "test", "xs");
/** The seed and count of the Node fuzz run (test/parser.test.ts), so that both engines see the same streams. */
const FUZZ_SEED = 20261122;
const FUZZ_ROUNDS = 400;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

let binary: string;
let hostArguments: (args: string[]) => string[];

beforeAll(async () => {
  const build = await import(pathToFileURL(join(ROOT, "tools", "xs", "build.mjs")).href);
  const runner = await import(pathToFileURL(join(ROOT, "tools", "xs", "run.mjs")).href);
  binary = process.env.NATS_XS_HOST ?? build.ensureBuilt({ quiet: true });
  hostArguments = (args) => runner.hostArguments(args, ROOT);
}, 300_000);

/**
 * Runs a module of test/xs/ on the host with the library preloaded and the default (ESP32) budget.
 * `onLine` sees each stdout line as it arrives; the child is killed after `timeoutMs`.
 */
function xs(module: string, args: string[], onLine?: (line: string) => void, timeoutMs = 28_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, hostArguments([join(MODULES, module), "--preload", "nats-xs", ...args]), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const lines: string[] = [];
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      partial += chunk;
      let end: number;
      while ((end = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, end);
        partial = partial.slice(end + 1);
        lines.push(line);
        onLine?.(line);
      }
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
function explain(r: Result): string {
  const how =
    r.signal === "SIGSEGV"
      ? "the XS host crashed (SIGSEGV)"
      : r.signal !== null
        ? `killed by ${r.signal} (timeout?)`
        : `exit status ${r.code} (tools/xs/README.md: 1 exception, 3 memory full, 4 stack overflow, 5 abort)`;
  return `${how}\nstderr: ${r.stderr.trim()}\nlast stdout lines:\n${r.lines.slice(-8).join("\n")}`;
}

/** The JSON after `prefix ` on the line that starts with it. */
function field<T>(r: Result, prefix: string): T {
  const line = r.lines.find((l) => l.startsWith(`${prefix} `));
  if (line === undefined) throw new Error(`no "${prefix}" line\n${explain(r)}`);
  return JSON.parse(line.slice(prefix.length + 1)) as T;
}

interface SuiteResult {
  passed: number;
  failed: number;
  failures: string[];
}

describe("parser on XS", () => {
  it("parses every fixture the same whole, byte by byte and split at every point", async () => {
    const r = await xs("parser.mjs", ["part=fixtures"], undefined, 15_000);
    expect(r.code, explain(r)).toBe(0);
    const result = field<SuiteResult>(r, "fixtures");
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    // whole + byte by byte + every split of each fixture, then the valid ones as one stream split
    // at every point (all fixture characters are single bytes)
    const fixtures = FIXTURES as [string, string, string[]][];
    const valid = fixtures.filter((f) => !f[2].includes("PROTOCOL ERROR"));
    const streamLength = valid.reduce((n, f) => n + f[1].length, 0);
    const checks = fixtures.reduce((n, f) => n + 2 + (f[1].length - 1), 0) + (streamLength - 1);
    expect(result.passed).toBe(checks);
  });

  it("parses random frame streams cut at random points exactly (fixed seed, bounded count)", async () => {
    const r = await xs("parser.mjs", ["part=fuzz", `seed=${FUZZ_SEED}`, `rounds=${FUZZ_ROUNDS}`], undefined, 15_000);
    expect(r.code, explain(r)).toBe(0);
    const result = field<SuiteResult>(r, "fuzz");
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(FUZZ_ROUNDS);
  });
});

describe("end to end on XS under the ESP32 budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let responder: NatsConnection;
  const prefix = `xs.e2e.${process.pid}`;

  beforeAll(async () => {
    server = await startServer({ jetstream: false });
    responder = await connect({ servers: server.url, reconnect: false });
    responder.subscribe(`${prefix}.echo`, { callback: (_err, msg) => msg.respond(`re:${msg.string()}`) });
    await responder.flush();
  });

  afterAll(async () => {
    await responder?.close().catch(() => {});
    await server?.stop();
  });

  it(
    "connects with 10 subscriptions, moves 10,000 messages, makes 100 requests, and resumes after a server restart",
    async () => {
      let restarted: Promise<void> = Promise.resolve();
      let published: Promise<void> = Promise.resolve();
      let publishedAfter = 0;
      const onLine = (line: string) => {
        if (line === "restart") {
          restarted = (async () => {
            // the responder is done; it would only reconnect in the middle of the restart
            await responder.close();
            await server.restart();
          })();
        } else if (line === "resubscribed") {
          published = (async () => {
            await restarted;
            const nc = await connect({ servers: server.url, reconnect: false });
            for (let k = 0; k < 10; k++) nc.publish(`${prefix}.s.${k}`, `after ${k}`);
            await nc.flush();
            publishedAfter = 10;
            await nc.close();
          })();
        }
      };
      const r = await xs("e2e.mjs", [`server=${server.url}`, `prefix=${prefix}`, "timeout=27000"], onLine);
      await restarted;
      await published;
      expect(r.code, explain(r)).toBe(0);
      expect(r.lines).toContain("connected");
      expect(r.lines).toContain("messages sent=10000 received=10000 bad=0");
      expect(r.lines).toContain("requests ok=100 bad=0");
      expect(publishedAfter).toBe(10);
      expect(r.lines).toContain("resumed 10");
      expect(r.lines[r.lines.length - 1]).toBe("done");
      // the whole run stayed inside the ESP32 creation budget (memory full would have exited 3)
      const stages = r.lines.filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7)));
      expect(stages.map((s) => s.stage)).toEqual(["connected", "messages", "requests", "resumed"]);
      for (const s of stages) {
        expect(s.slotsPeak).toBeLessThanOrEqual(4928);
        expect(s.chunkBytes).toBeLessThanOrEqual(78848);
      }
    },
    30_000,
  );
});
