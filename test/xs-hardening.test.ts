// Hardening cases that crashed or exhausted the XS engine (issue 8), run on it under the ESP32
// budget with nats-xs preloaded: a deep INFO, an iterator fed 64 messages of 4 KB, a PING flood
// from a server that never reads, and timer intervals of 2^31 ms and more.
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
// @ts-expect-error plain ES module
import { flood, hostileServer } from "../tools/fuzz/hostile.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

function xs(args: string[], onLine?: (line: string) => void, timeoutMs = 25_000) {
  return runXs(join(ROOT, "test", "xs", "hardening.mjs"), ["nats-xs", "nats-xs/status"], args, onLine, timeoutMs);
}

const ESP32 = { slots: 4928, chunkBytes: 78848 };

function heap(r: { lines: string[] }): { slotsPeak: number; chunkBytes: number; chunkBytesPeak?: number } {
  const line = r.lines.find((l) => l.startsWith("memory "));
  if (line === undefined) throw new Error("no memory line");
  return JSON.parse(line.slice(7));
}

describe("hardening on XS under the ESP32 budget", () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
  });

  it("refuses an INFO nested 1,500 deep with JsonLimitError and stays connected (no stack overflow)", async () => {
    const h = await hostileServer({
      onClient: (socket: import("node:net").Socket) => {
        setTimeout(() => socket.write(`INFO {"connect_urls":${"[".repeat(1500)}${"]".repeat(1500)}} \r\n`), 50);
      },
    });
    closers.push(() => h.close());
    const r = await xs(["part=info", `server=${h.url}`]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("info refused depth");
  });

  it("bounds an iterator's queue in bytes: 64 messages of 4,000 bytes do not exhaust the heap", async () => {
    const server = await startServer({ jetstream: false });
    closers.push(() => server.stop());
    const peer = await connect({ servers: server.url, reconnect: false });
    closers.push(() => peer.close());
    const prefix = `xsh.${process.pid}`;
    let published: Promise<void> = Promise.resolve();
    const r = await xs(["part=iterator", `server=${server.url}`, `prefix=${prefix}`], (line) => {
      if (line === "ready") {
        published = (async () => {
          const body = new Uint8Array(4000).fill(1);
          for (let i = 0; i < 64; i++) peer.publish(`${prefix}.big`, body);
          await peer.flush();
        })();
      }
    });
    await published;
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("iterator pending=4 dropped=60 stats=60 reports=1");
    expect(r.lines).toContain("read 4");
    const m = heap(r);
    expect(m.slotsPeak).toBeLessThanOrEqual(ESP32.slots);
    expect(m.chunkBytes).toBeLessThanOrEqual(ESP32.chunkBytes);
  });

  it("refuses msg.json() of a peer's payload nested 1,500 deep with JsonLimitError (no stack overflow), parses one 32 deep", async () => {
    const server = await startServer({ jetstream: false });
    closers.push(() => server.stop());
    const peer = await connect({ servers: server.url });
    closers.push(() => peer.close());
    const prefix = `xs.json.${process.pid}`;
    let published: Promise<void> = Promise.resolve();
    const r = await xs(["part=json", `server=${server.url}`, `prefix=${prefix}`], (line) => {
      if (line === "ready") {
        published = (async () => {
          peer.publish(`${prefix}.json`, `${"[".repeat(1500)}${"]".repeat(1500)}`);
          peer.publish(`${prefix}.json`, `${"[".repeat(32)}${"]".repeat(32)}`);
          await peer.flush();
        })();
      }
    });
    await published;
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("json refused depth, depth 32");
  });

  it("turns a PING flood from a server that never reads into a stale connection, within the budget", async () => {
    const h = await hostileServer({
      onClient: (socket: import("node:net").Socket) => {
        socket.pause();
        const ping = Buffer.from("PING\r\n".repeat(10_000));
        void flood(socket, () => ping, 32 * 1024 * 1024);
      },
    });
    closers.push(() => h.close());
    const r = await xs(["part=flood", `server=${h.url}`]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("flood stale pong");
    const m = heap(r);
    expect(m.slotsPeak).toBeLessThanOrEqual(ESP32.slots);
  });

  it("takes timer intervals as the device does: 2^31 ms wraps and fires at once, 2^32 + 30 ms is 30 ms", async () => {
    const r = await xs(["part=timer"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("timer 2^31,2^32+30");
  });
});
