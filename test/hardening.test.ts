// Hardening (issue 8): what a server, a peer or a caller sends can neither crash, stall nor
// silently drain the client. The built dist/ runs through the host simulator; the servers are real
// nats-servers, except where the test needs an attacker: then a small hostile peer on loopback
// (tools/fuzz/hostile.mjs) plays it.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
// @ts-expect-error plain JS module of the host simulator
import Timer from "../host-sim/timer.js";
import {
  checkJson,
  connect,
  headers,
  parseJson,
  BufferFullError,
  ConnectionError,
  InvalidArgumentError,
  JsonLimitError,
  MessagesDiscardedError,
  ProtocolError,
  ProtocolLimitError,
  SlowConsumerError,
  StaleConnectionError,
} from "nats-xs";
import type { Msg, NatsConnection } from "nats-xs";
import { publishStream } from "nats-xs/stream";
import { freePort } from "../tools/nats-server.mjs";
// @ts-expect-error plain ES module
import { flood, hostileServer, infoLine } from "../tools/fuzz/hostile.mjs";
import { Collector, Fixture, StatusLog, sleep, until, within } from "./helpers.js";

vi.setConfig({ testTimeout: 20_000 });

const fx = new Fixture();
const closers: Array<() => Promise<unknown>> = [];
let seq = 0;
let s: string;
beforeEach(() => {
  s = `h${++seq}`;
});
afterEach(async () => {
  await fx.cleanup();
  for (const c of closers.splice(0)) await c().catch(() => {});
});

async function hostile(options: Record<string, unknown> = {}) {
  const h = await hostileServer(options);
  closers.push(() => h.close());
  return h;
}

/** A nats-xs connection closed after the test, with its status log. */
async function xs(options: Parameters<typeof connect>[0]): Promise<{ nc: NatsConnection; status: StatusLog }> {
  const nc = await connect(options);
  closers.unshift(() => nc.close());
  return { nc, status: new StatusLog(nc) };
}

const FAST = { reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 };

describe("untrusted JSON", () => {
  test("checkJson refuses nesting deeper than maxDepth before anything is parsed", () => {
    expect(() => checkJson("[".repeat(17) + "]".repeat(17))).toThrow(JsonLimitError);
    expect(() => checkJson("[".repeat(16) + "]".repeat(16))).not.toThrow();
    const e = (() => {
      try {
        checkJson(`{"a":${"[".repeat(300)}`, { maxDepth: 8 });
      } catch (err) {
        return err as JsonLimitError;
      }
    })();
    expect(e).toBeInstanceOf(JsonLimitError);
    expect([e?.limit, e?.max]).toEqual(["depth", 8]);
  });

  test("checkJson counts values and bytes, and ignores brackets and commas inside strings", () => {
    expect(() => checkJson("[" + "[],".repeat(100) + "1]", { maxValues: 50 })).toThrow(/values limit of 50/);
    expect(() => checkJson("x".repeat(11), { maxBytes: 10 })).toThrow(/bytes limit of 10/);
    expect(() => checkJson(JSON.stringify({ s: "[[[[[[,,,,,\\\"[[[[" }), { maxDepth: 1, maxValues: 1 })).not.toThrow();
    expect(() => checkJson(new TextEncoder().encode("[[[1]]]"), { maxDepth: 2 })).toThrow(JsonLimitError);
    expect(parseJson('{"a":[1,2]}', { maxDepth: 2 })).toEqual({ a: [1, 2] });
  });

  test("a first INFO nested past the bound fails the attempt with JsonLimitError, not a crash", async () => {
    const h = await hostile({ info: () => `INFO {"a":${"[".repeat(2000)}${"]".repeat(2000)}} \r\n` });
    const err = await within(
      connect({ servers: h.url }).then(
        (nc) => (nc.close(), new Error("connected")),
        (e: unknown) => e,
      ),
      "connect to settle",
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(JsonLimitError);
  });

  test("a deep INFO after connecting is reported and ignored; the connection goes on", async () => {
    const h = await hostile({
      onClient: (socket: import("node:net").Socket) => {
        setTimeout(() => socket.write(`INFO {"connect_urls":${"[".repeat(1500)}${"]".repeat(1500)}} \r\n`), 50);
      },
    });
    const { nc, status } = await xs({ servers: h.url, reconnect: false });
    const event = await status.next("error");
    expect(event.error).toBeInstanceOf(JsonLimitError);
    await within(nc.flush(), "a flush after the bad INFO");
    expect(nc.isClosed()).toBe(false);
    expect(status.types()).not.toContain("disconnect");
  });

  test("an INFO that is not an object fails the attempt with ProtocolError", async () => {
    const h = await hostile({ info: () => "INFO null\r\n" });
    const err = await connect({ servers: h.url }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(ProtocolError);
  });
  test("msg.json() of a peer's payload nested past 32 throws JsonLimitError; 32 deep parses, a reviver still applies", async () => {
    const server = await fx.server();
    const { nc } = await fx.xs({ servers: server.url });
    const peer = await fx.js({ servers: server.url });
    const got = new Collector<string>(3, "messages");
    nc.subscribe("json.deep", {
      callback: (_e, m) => {
        try {
          const v = m!.json((k, v) => (k === "n" ? (v as number) + 1 : v));
          got.push(JSON.stringify(v));
        } catch (e) {
          got.push(e instanceof JsonLimitError ? `JsonLimitError ${e.limit}` : String(e));
        }
      },
    });
    await nc.flush();
    peer.publish("json.deep", `${"[".repeat(1500)}${"]".repeat(1500)}`);
    peer.publish("json.deep", `${"[".repeat(32)}${"]".repeat(32)}${" ".repeat(80)}`);
    peer.publish("json.deep", '{"n":1}');
    expect(await got.done).toEqual(["JsonLimitError depth", `${"[".repeat(32)}${"]".repeat(32)}`, '{"n":2}']);
  });
});

describe("iterator subscriptions", () => {
  test("the queue is bounded in bytes: 64 messages of 4 KB keep at most 16 KB, the rest are dropped, counted and reported", async () => {
    const server = await fx.server();
    const { nc, status } = await xs({ servers: server.url });
    const sub = nc.subscribe(`${s}.big`);
    await nc.flush();
    const peer = await fx.js({ servers: server.url });
    const body = new Uint8Array(4000).fill(7);
    for (let i = 0; i < 64; i++) peer.publish(`${s}.big`, body);
    await peer.flush();
    await until(() => sub.getReceived() === 64, "64 messages received");
    expect(sub.getPending()).toBe(4); // 4 x 4000 bytes fit 16384, a fifth does not
    expect(sub.dropped).toBe(60);
    expect(nc.stats().dropped).toBe(60);
    expect(sub.lastError).toBeInstanceOf(SlowConsumerError);
    const slow = status.events.filter((e) => e.type === "slowConsumer");
    expect(slow.length).toBe(1); // once per episode, not once per message
    expect(slow[0].error).toBeInstanceOf(SlowConsumerError);
    const got: number[] = [];
    for await (const m of sub) {
      got.push(m.data.length);
      if (got.length === 4) break;
    }
    expect(got).toEqual([4000, 4000, 4000, 4000]);
  });

  test("maxPendingBytes is an option of the subscription and is checked", async () => {
    const server = await fx.server();
    const { nc } = await xs({ servers: server.url });
    expect(() => nc.subscribe(`${s}.x`, { maxPendingBytes: 0 })).toThrow(InvalidArgumentError);
    const sub = nc.subscribe(`${s}.x`, { maxPendingBytes: 100 });
    await nc.flush();
    const peer = await fx.js({ servers: server.url });
    for (let i = 0; i < 5; i++) peer.publish(`${s}.x`, new Uint8Array(40));
    await peer.flush();
    await until(() => sub.getReceived() === 5, "5 messages");
    expect([sub.getPending(), sub.dropped]).toEqual([2, 3]);
  });
});

describe("control traffic under the outbound bound", () => {
  test("a server that floods PINGs and never reads gets a stale connection, not unbounded PONGs", async () => {
    let floods = 0;
    const h = await hostile({
      onClient: (socket: import("node:net").Socket) => {
        floods++;
        socket.pause(); // never read again
        const ping = Buffer.from("PING\r\n".repeat(10_000));
        void flood(socket, () => ping, 32 * 1024 * 1024);
      },
    });
    const before = process.memoryUsage().heapUsed;
    const { nc, status } = await xs({ servers: h.url, ...FAST, maxReconnectAttempts: -1 });
    const stale = await status.next("staleConnection", 15_000);
    expect(stale.error).toBeInstanceOf(StaleConnectionError);
    expect((stale.error as Error).message).toMatch(/PONG/);
    await status.next("reconnecting", 5000);
    const grew = process.memoryUsage().heapUsed - before;
    expect(grew).toBeLessThan(64 * 1024 * 1024);
    expect(floods).toBeGreaterThanOrEqual(1);
    await nc.close();
  });

  test("a message announced and then never completed is caught by receiveTimeout and the connection is re-established", async () => {
    const h = await hostile({
      onClient: (socket: import("node:net").Socket) => {
        setTimeout(() => socket.write("MSG x 1 1000000\r\n0123456789"), 20);
      },
    });
    const { status } = await xs({ servers: h.url, ...FAST, receiveTimeout: 300 });
    const stale = await status.next("staleConnection", 5000);
    expect((stale.error as Error).message).toMatch(/part of a frame/);
    await status.next("reconnect", 5000, status.events.indexOf(stale));
  });
});

describe("callers' values", () => {
  test("headers(code, description) refuses CR/LF in the description and a code that is not a status", () => {
    expect(() => headers(503, "Busy\r\nInjected: yes")).toThrow(InvalidArgumentError);
    expect(() => headers(503, "a\nb")).toThrow(InvalidArgumentError);
    expect(() => headers(Infinity)).toThrow(InvalidArgumentError);
    expect(() => headers(NaN)).toThrow(InvalidArgumentError);
    expect(() => headers(1e300)).toThrow(InvalidArgumentError);
    expect(() => headers(42)).toThrow(InvalidArgumentError);
    expect(() => headers(0, "text without code")).toThrow(InvalidArgumentError);
    expect(headers(503, "Busy").status).toBe("503 Busy");
    const h = headers();
    expect(() => h.set("Key", "v\r\nX: y")).toThrow(InvalidArgumentError);
    expect(() => h.set("K\r\nX", "v")).toThrow(InvalidArgumentError);
  });

  test("unsubscribe(Infinity), absurd max and timeouts are refused with InvalidArgumentError, at once", async () => {
    const server = await fx.server();
    const { nc } = await xs({ servers: server.url });
    const sub = nc.subscribe(`${s}.u`);
    expect(() => sub.unsubscribe(Infinity)).toThrow(InvalidArgumentError);
    expect(() => sub.unsubscribe(-1)).toThrow(InvalidArgumentError);
    expect(() => sub.unsubscribe(1.5)).toThrow(InvalidArgumentError);
    expect(() => nc.subscribe(`${s}.v`, { max: 1e300 })).toThrow(InvalidArgumentError);
    await expect(nc.request(`${s}.r`, "", { timeout: 2 ** 31 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(nc.request(`${s}.r`, "", { timeout: Infinity })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => publishStream(nc, `${s}.p`, Infinity)).toThrow(InvalidArgumentError);
    await expect(connect({ servers: server.url, pingInterval: 2 ** 31 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(connect({ servers: server.url, timeout: Infinity })).rejects.toBeInstanceOf(InvalidArgumentError);
    await within(nc.flush(), "the connection to still work");
    expect(sub.isClosed()).toBe(false);
  });

  test("host-sim timers take intervals as the device does: ToInt32, and <= 0 fires on the next turn", async () => {
    const fired: string[] = [];
    Timer.set(() => fired.push("2^31"), 2 ** 31); // wraps negative: due at once, as on the device
    Timer.set(() => fired.push("2^32+30"), 2 ** 32 + 30); // wraps to 30 ms
    Timer.set(() => fired.push("2^31-1"), 2 ** 31 - 1); // the longest a device timer waits
    const far = Timer.set(() => fired.push("never"), 2 ** 31 - 1);
    await sleep(100);
    expect(fired).toEqual(["2^31", "2^32+30"]);
    Timer.clear(far);
  });
});

describe("control-line limit", () => {
  test("a SUB or PUB line over the limit is refused before sending with ProtocolLimitError; no reconnect", async () => {
    const server = await fx.server();
    const { nc, status } = await xs({ servers: server.url, ...FAST });
    const long = `${s}.${"x".repeat(5000)}`;
    expect(() => nc.subscribe(long)).toThrow(ProtocolLimitError);
    expect(() => nc.publish(long, "x")).toThrow(ProtocolLimitError);
    const got = new Collector<string>(1, "messages");
    nc.subscribe(`${s}.ok`, { callback: (_e, m) => got.push((m as Msg).string()) });
    await nc.flush();
    nc.publish(`${s}.ok`, "fine");
    expect(await got.done).toEqual(["fine"]);
    await sleep(300);
    expect(nc.stats().reconnects).toBe(0);
    expect(status.types()).not.toContain("disconnect");
  });

  test("a SUB the server refused by closing the connection is reported on its subscription and never sent again", async () => {
    const server = await fx.server();
    // the client believes in a larger limit than the server's 4096
    const { nc, status } = await xs({ servers: server.url, ...FAST, maxControlLine: 16384 });
    const ok = new Collector<string>(1, "messages");
    nc.subscribe(`${s}.ok`, { callback: (_e, m) => m !== null && ok.push(m.string()) });
    await nc.flush();
    const errors: Error[] = [];
    const bad = nc.subscribe(`${s}.${"y".repeat(5000)}`, { callback: (e) => e !== null && errors.push(e) });
    await until(() => errors.length > 0, "the refused subscription's error", 10_000);
    expect(errors[0]).toBeInstanceOf(ProtocolLimitError);
    expect(bad.isClosed()).toBe(true);
    await status.next("reconnect", 10_000);
    await sleep(1000);
    expect(nc.stats().reconnects).toBe(1); // one reconnect, not a loop
    await nc.flush();
    const peer = await fx.js({ servers: server.url });
    peer.publish(`${s}.ok`, "after");
    await peer.flush();
    expect(await ok.done).toEqual(["after"]);
    // the lower limit now holds: the same line is refused up front
    expect(() => nc.subscribe(`${s}.${"y".repeat(5000)}`)).toThrow(ProtocolLimitError);
  });
});

describe("publishes that are discarded", () => {
  test("close() while disconnected counts and reports what the reconnect buffer held", async () => {
    const server = await fx.server();
    const { nc, status } = await xs({ servers: server.url, ...FAST });
    await server.stop();
    await status.next("disconnect");
    for (let i = 0; i < 5; i++) nc.publish(`${s}.held`, `m${i}`);
    await nc.close();
    expect(nc.stats().dropped).toBe(5);
    const err = status.events.find((e) => e.error instanceof MessagesDiscardedError)?.error as MessagesDiscardedError;
    expect(err).toBeInstanceOf(MessagesDiscardedError);
    expect(err.count).toBe(5);
  });

  test("giving up reconnecting counts and reports what the reconnect buffer held", async () => {
    const server = await fx.server();
    const { nc, status } = await xs({ servers: server.url, reconnectTimeWait: 50, reconnectJitter: 0, maxReconnectAttempts: 2 });
    await server.stop();
    await status.next("disconnect");
    for (let i = 0; i < 3; i++) nc.publish(`${s}.held`, `m${i}`);
    const err = await within(nc.closed(), "giving up", 10_000);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(nc.stats().dropped).toBe(3);
    expect(status.events.some((e) => e.error instanceof MessagesDiscardedError && e.error.count === 3)).toBe(true);
  });

  test("a flush-then-close loses nothing and reports nothing", async () => {
    const server = await fx.server();
    const { nc, status } = await xs({ servers: server.url });
    for (let i = 0; i < 100; i++) nc.publish(`${s}.sent`, `m${i}`);
    await nc.flush();
    await nc.close();
    expect(nc.stats().dropped).toBe(0);
    expect(status.events.some((e) => e.error instanceof MessagesDiscardedError)).toBe(false);
  });

  test("a subscribe that does not fit a full outbound queue throws BufferFullError and registers nothing", async () => {
    const h = await hostile({ onClient: (socket: import("node:net").Socket) => socket.pause() });
    const { nc } = await xs({ servers: h.url, reconnect: false, maxPendingBytes: 4096 });
    let thrown: unknown;
    const body = new Uint8Array(1000);
    for (let i = 0; i < 10_000 && thrown === undefined; i++) {
      try {
        nc.publish(`${s}.fill`, body);
      } catch (e) {
        thrown = e;
      }
      if (i % 50 === 49) await sleep(1);
    }
    expect(thrown).toBeInstanceOf(BufferFullError);
    expect(() => nc.subscribe(`${s}.${"z".repeat(3000)}`)).toThrow(BufferFullError);
  });
});

describe("credentials and the servers a cluster announces", () => {
  /** Node B advertises `advertise` as its client URL, so connect_urls names a recorder we run. */
  async function cluster(advertise: number, auth: string) {
    const [portA, portB, routeA, routeB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const routes = `routes: [nats-route://127.0.0.1:${routeA}, nats-route://127.0.0.1:${routeB}]`;
    const a = await fx.server({ port: portA, config: `server_name: A\n${auth}cluster { name: c, listen: 127.0.0.1:${routeA}, ${routes} }\n` });
    await fx.server({ port: portB, config: `server_name: B\n${auth}client_advertise: "127.0.0.1:${advertise}"\ncluster { name: c, listen: 127.0.0.1:${routeB}, ${routes} }\n` });
    return { a, portA };
  }

  test("credentials in a server URL are never sent to a server discovered through connect_urls", async () => {
    const recorder = await hostile({ handshake: false, info: (port: number) => infoLine(port, { auth_required: true }) });
    const { a, portA } = await cluster(recorder.port, "authorization { user: u, password: secret }\n");
    const { nc, status } = await xs({ servers: `nats://u:secret@127.0.0.1:${portA}`, noRandomize: true, ...FAST, timeout: 500 });
    await until(() => (nc.info?.connect_urls ?? []).some((u) => u.endsWith(`:${recorder.port}`)), "the recorder in connect_urls", 10_000);
    await a.kill();
    await until(() => recorder.connects.length > 0, "a dial to the discovered server", 10_000);
    expect(recorder.connects[0]).not.toContain("secret");
    expect(recorder.connects[0]).not.toContain('"user"');
    expect(status.types()).toContain("disconnect");
  });

  test("credentials given as options go to every server, discovered ones included", async () => {
    const recorder = await hostile({ handshake: false, info: (port: number) => infoLine(port, { auth_required: true }) });
    const { a, portA } = await cluster(recorder.port, "authorization { user: u, password: secret }\n");
    const { nc } = await xs({ servers: `nats://127.0.0.1:${portA}`, user: "u", pass: "secret", noRandomize: true, ...FAST, timeout: 500 });
    await until(() => (nc.info?.connect_urls ?? []).some((u) => u.endsWith(`:${recorder.port}`)), "the recorder in connect_urls", 10_000);
    await a.kill();
    await until(() => recorder.connects.length > 0, "a dial to the discovered server", 10_000);
    expect(recorder.connects[0]).toContain('"user":"u"');
  });
});
