// The built library (dist/) on the real XS engine (tools/xs/), under the ESP32 creation budget with
// nats-xs preloaded as a device manifest preloads it: the shared parser suite and its fuzz run, and
// an end-to-end scenario against a real nats-server with the official nats.js client as the peer.
// Each test runs a module of test/xs/ in a child process of the host; the end-to-end module and
// this file coordinate through its stdout lines (see test/xs/e2e.mjs).
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ES module shared with the Node suite and run by the XS module
import { FIXTURES } from "./shared/parser-suite.mjs";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

const MODULES = join(ROOT, "test", "xs");
/** The seed and count of the Node fuzz run (test/parser.test.ts), so that both engines see the same streams. */
const FUZZ_SEED = 20261122;
const FUZZ_ROUNDS = 400;

beforeAll(prepareXs, 300_000);

/** Runs a module of test/xs/ with the library preloaded. */
function xs(module: string, args: string[], onLine?: (line: string) => void, timeoutMs = 28_000) {
  return runXs(join(MODULES, module), ["nats-xs", "nats-xs/status"], args, onLine, timeoutMs);
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

