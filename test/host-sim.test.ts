// The host simulator's device modules against real loopback sockets: the ECMA-419 TCP semantics
// firmware relies on (bounded send buffer, coalesced asynchronous callbacks, onError after the
// receive queue drains, receive-side flow control), and the timer, resolver, UDP, text and config
// modules.
import { test, expect, describe, afterEach } from "vitest";
import net from "node:net";
import dgram from "node:dgram";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import TCP from "../host-sim/tcp.js";
import UDP from "../host-sim/udp.js";
import Resolver from "../host-sim/resolver.js";
import Timer from "../host-sim/timer.js";
import TextEncoder from "../host-sim/text-encoder.js";
import TextDecoder from "../host-sim/text-decoder.js";
import config, { parseConfig } from "../host-sim/config.js";

const LOOPBACK = "127.0.0.1";
const SNDBUF = 8192;

type Peer = { server: net.Server; port: number; socket: Promise<net.Socket> };
const cleanups: Array<() => void> = [];

afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A loopback server whose first accepted connection plays the peer. */
async function peer(): Promise<Peer> {
  const server = net.createServer();
  const socket = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  cleanups.push(() => {
    socket.then((s) => s.destroy());
    server.close();
  });
  return { server, port: (server.address() as net.AddressInfo).port, socket };
}

/** Opens a device socket to the peer and records every callback. */
function open(port: number, extra: Record<string, unknown> = {}) {
  const events: Array<[string, number?]> = [];
  const tcp = new TCP({
    address: LOOPBACK,
    port,
    onReadable(count: number) {
      events.push(["readable", count]);
    },
    onWritable(count: number) {
      events.push(["writable", count]);
    },
    onError() {
      events.push(["error"]);
    },
    ...extra,
  });
  cleanups.push(() => tcp.close());
  return { tcp, events };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what the peer receives. */
function collect(socket: net.Socket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk) => chunks.push(chunk));
  return { bytes: () => Buffer.concat(chunks) };
}

const withoutMcVariables = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("MC_")));

const has = (events: Array<[string, number?]>, name: string) => events.some(([n]) => n === name);

describe("TCP", () => {
  test("onWritable fires first, once connected, with the send-buffer size", async () => {
    const { port } = await peer();
    const { events } = open(port);
    expect(events).toEqual([]);
    await until(() => events.length > 0, "onWritable");
    expect(events[0]).toEqual(["writable", SNDBUF]);
  });

  test("NATS_XS_SIM_SNDBUF sets the send-buffer size", async () => {
    const { port } = await peer();
    process.env.NATS_XS_SIM_SNDBUF = "1024";
    try {
      const { events } = open(port);
      await until(() => events.length > 0, "onWritable");
      expect(events[0]).toEqual(["writable", 1024]);
    } finally {
      delete process.env.NATS_XS_SIM_SNDBUF;
    }
  });

  test("the constructor refuses a host name: the address must be an IPv4 literal", () => {
    expect(() => new TCP({ address: "localhost", port: 4222 })).toThrow(TypeError);
    expect(() => new TCP({ address: "::1", port: 4222 })).toThrow(TypeError);
  });

  test("write before the connection is established throws not ready", async () => {
    const { port } = await peer();
    const { tcp } = open(port);
    expect(() => tcp.write(new Uint8Array(1))).toThrow("not ready");
  });

  test("a write larger than the free space throws would block and sends nothing", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    const received = collect(await p.socket);
    await until(() => has(events, "writable"), "onWritable");
    expect(() => tcp.write(new Uint8Array(SNDBUF + 1))).toThrow("would block");
    expect(tcp.write(new Uint8Array(8000).fill(1))).toBe(SNDBUF - 8000);
    expect(() => tcp.write(new Uint8Array(500).fill(2))).toThrow("would block");
    expect(tcp.write(new Uint8Array(192).fill(3))).toBe(0);
    await until(() => received.bytes().length >= 8192, "the peer to receive 8192 bytes");
    await pause(50);
    const bytes = received.bytes();
    expect(bytes.length).toBe(8192);
    expect(bytes.subarray(0, 8000).every((b) => b === 1)).toBe(true);
    expect(bytes.subarray(8000).every((b) => b === 3)).toBe(true);
  });

  test("onWritable reports the space again once written bytes are flushed", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    collect(await p.socket);
    await until(() => has(events, "writable"), "onWritable");
    events.length = 0;
    tcp.write(new Uint8Array(SNDBUF));
    await until(() => has(events, "writable"), "onWritable after the flush");
    expect(events).toEqual([["writable", SNDBUF]]);
  });

  test("write of a view sends exactly the view's bytes", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    const received = collect(await p.socket);
    await until(() => has(events, "writable"), "onWritable");
    const whole = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    tcp.write(whole.subarray(2, 5));
    tcp.write(new DataView(whole.buffer, 7, 2));
    tcp.write(whole.buffer.slice(9));
    await until(() => received.bytes().length >= 6, "the peer to receive 6 bytes");
    await pause(20);
    expect([...received.bytes()]).toEqual([2, 3, 4, 7, 8, 9]);
  });

  test("write copies the buffer: changing it afterwards changes nothing sent", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    const received = collect(await p.socket);
    await until(() => has(events, "writable"), "onWritable");
    const buffer = Uint8Array.from([1, 2, 3]);
    tcp.write(buffer);
    buffer.fill(9);
    await until(() => received.bytes().length >= 3, "the peer to receive 3 bytes");
    expect([...received.bytes()]).toEqual([1, 2, 3]);
  });

  test("onReadable reports the total count of bytes buffered", async () => {
    const p = await peer();
    const { events } = open(p.port);
    const socket = await p.socket;
    socket.write("abc");
    await until(() => has(events, "readable"), "onReadable");
    expect(events.filter(([n]) => n === "readable")).toEqual([["readable", 3]]);
    socket.write("defg");
    await until(() => events.filter(([n]) => n === "readable").length === 2, "a second onReadable");
    expect(events.filter(([n]) => n === "readable")).toEqual([
      ["readable", 3],
      ["readable", 7],
    ]);
  });

  test("read() returns every buffered byte as an ArrayBuffer, then undefined", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    (await p.socket).write("hello");
    await until(() => has(events, "readable"), "onReadable");
    const data = tcp.read();
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(data).toString()).toBe("hello");
    expect(tcp.read()).toBeUndefined();
    expect(tcp.read(1)).toBeUndefined(); // as tcp.c: with nothing buffered every form returns undefined
  });

  test("read(n) returns exactly n bytes and throws when fewer are buffered or n <= 0", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    (await p.socket).write("abcdef");
    await until(() => events.some(([n, c]) => n === "readable" && c === 6), "6 bytes");
    expect(() => tcp.read(7)).toThrow();
    expect(() => tcp.read(0)).toThrow();
    expect(() => tcp.read(-1)).toThrow();
    const two = tcp.read(2);
    expect(two).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(two).toString()).toBe("ab");
    expect(Buffer.from(tcp.read(4)).toString()).toBe("cdef");
  });

  test("read(view) fills the whole view, returns its length, and throws when it is longer than buffered", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    (await p.socket).write("0123456789");
    await until(() => events.some(([n, c]) => n === "readable" && c === 10), "10 bytes");
    const backing = new Uint8Array(8).fill(0xee);
    expect(() => tcp.read(new Uint8Array(11))).toThrow();
    expect(tcp.read(backing.subarray(2, 6))).toBe(4);
    expect(Buffer.from(backing).toString("latin1")).toBe("\xee\xee0123\xee\xee");
    const rest = new Uint8Array(6);
    expect(tcp.read(rest)).toBe(6);
    expect(Buffer.from(rest).toString()).toBe("456789");
  });

  test("format number reads and writes one byte at a time", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port, { format: "number" });
    const socket = await p.socket;
    const received = collect(socket);
    socket.write(Buffer.from([7, 200]));
    await until(() => events.some(([n, c]) => n === "readable" && c === 2), "2 bytes");
    expect(tcp.read()).toBe(7);
    expect(tcp.read()).toBe(200);
    expect(tcp.read()).toBeUndefined();
    expect(tcp.write(65)).toBe(SNDBUF - 1);
    await until(() => received.bytes().length === 1, "the byte at the peer");
    expect([...received.bytes()]).toEqual([65]);
  });

  test("onError after the peer closes fires only once the buffered bytes were read", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    (await p.socket).end("bye");
    await until(() => has(events, "readable"), "onReadable");
    await pause(100);
    expect(has(events, "error")).toBe(false);
    expect(Buffer.from(tcp.read(2)).toString()).toBe("by");
    await pause(50);
    expect(has(events, "error")).toBe(false);
    expect(Buffer.from(tcp.read()).toString()).toBe("e");
    expect(has(events, "error")).toBe(false); // never from inside read()
    await until(() => has(events, "error"), "onError");
    await pause(50);
    expect(events.filter(([n]) => n === "error")).toEqual([["error"]]);
  });

  test("onError fires on a clean peer close with nothing buffered", async () => {
    const p = await peer();
    const { events } = open(p.port);
    await until(() => has(events, "writable"), "onWritable");
    (await p.socket).end();
    await until(() => has(events, "error"), "onError");
    expect(events).toEqual([["writable", SNDBUF], ["error"]]);
  });

  test("onError fires when the connection is refused", async () => {
    const p = await peer();
    const port = p.port;
    await new Promise((resolve) => p.server.close(resolve));
    const { events } = open(port);
    await until(() => has(events, "error"), "onError");
    expect(events).toEqual([["error"]]);
  });

  test("write after onError throws not ready", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    await until(() => has(events, "writable"), "onWritable");
    (await p.socket).end();
    await until(() => has(events, "error"), "onError");
    expect(() => tcp.write(new Uint8Array(1))).toThrow("not ready");
  });

  test("no callback runs inside read or write", async () => {
    const p = await peer();
    let inside = false;
    let violations = 0;
    let echoed = 0;
    let errors = 0;
    const guard = <T>(fn: () => T): T => {
      inside = true;
      try {
        return fn();
      } finally {
        inside = false;
      }
    };
    const tcp = new TCP({
      address: LOOPBACK,
      port: p.port,
      onReadable(this: any, count: number) {
        if (inside) violations++;
        const data = guard(() => this.read(count)) as ArrayBuffer;
        echoed += data.byteLength;
        guard(() => this.write(data));
        guard(() => this.read());
      },
      onWritable(this: any) {
        if (inside) violations++;
        guard(() => this.write(new Uint8Array(0)));
      },
      onError(this: any) {
        if (inside) violations++;
        errors++;
      },
    });
    cleanups.push(() => tcp.close());
    const socket = await p.socket;
    const back = collect(socket);
    for (let i = 0; i < 50; i++) {
      socket.write(Buffer.alloc(100, i));
      await pause(1);
    }
    await until(() => echoed === 5000, "all bytes echoed");
    await until(() => back.bytes().length === 5000, "the echo at the peer");
    socket.end();
    await until(() => errors === 1, "onError");
    expect(violations).toBe(0);
  });

  test("a callback that reads everything and closes gets no further callback", async () => {
    const p = await peer();
    const events: string[] = [];
    const tcp = new TCP({
      address: LOOPBACK,
      port: p.port,
      onReadable(this: any) {
        events.push("readable");
        this.read();
        this.close();
      },
      onWritable() {
        events.push("writable");
      },
      onError() {
        events.push("error");
      },
    });
    cleanups.push(() => tcp.close());
    await until(() => events.length > 0, "onWritable");
    (await p.socket).end("last words");
    await until(() => events.includes("readable"), "onReadable");
    await pause(100);
    expect(events).toEqual(["writable", "readable"]);
  });

  test("close() stops every callback, and read or write afterwards throws", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    await until(() => has(events, "writable"), "onWritable");
    const socket = await p.socket;
    const closed = new Promise((resolve) => socket.on("end", resolve));
    socket.write("data that nobody will read");
    tcp.close();
    const count = events.length;
    socket.write("more");
    socket.end();
    await closed;
    await pause(100);
    expect(events.length).toBe(count);
    expect(() => tcp.read()).toThrow();
    expect(() => tcp.write(new Uint8Array(1))).toThrow();
    tcp.close(); // a second close is harmless
  });

  test("close() still sends the bytes already written", async () => {
    const p = await peer();
    const { tcp, events } = open(p.port);
    const socket = await p.socket;
    const received = collect(socket);
    const ended = new Promise((resolve) => socket.on("end", resolve));
    await until(() => has(events, "writable"), "onWritable");
    tcp.write(Buffer.from("PING\r\n"));
    tcp.close();
    await ended;
    expect(received.bytes().toString()).toBe("PING\r\n");
  });

  test("the receive side stops reading while 16 KB are unread, and 1 MB still arrives whole and in order", async () => {
    const SIZE = 1024 * 1024;
    const p = await peer();
    const payload = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
    const got = Buffer.alloc(SIZE);
    let offset = 0;
    let maxBuffered = 0;
    let failed = false;
    const tcp = new TCP({
      address: LOOPBACK,
      port: p.port,
      onReadable(count: number) {
        maxBuffered = Math.max(maxBuffered, count); // the app leaves it to the slow reader below
      },
      onError() {
        failed = true;
      },
    });
    cleanups.push(() => tcp.close());
    (await p.socket).end(payload);
    // A slow app: at most 8 KB per timer tick.
    const reader = Timer.repeat(() => {
      for (let i = 0; i < 2; i++) {
        const view = new Uint8Array(4096);
        const n = tcp.read(view.subarray(0, Math.min(4096, SIZE - offset) || 1));
        if (n === undefined) return;
        got.set(view.subarray(0, n), offset);
        offset += n;
      }
    }, 2);
    cleanups.push(() => Timer.clear(reader));
    await until(() => offset === SIZE, "1 MB read", 20_000);
    expect(got.equals(payload)).toBe(true);
    // Bounded by the receive window plus at most one chunk from the kernel.
    expect(maxBuffered).toBeGreaterThanOrEqual(16384);
    expect(maxBuffered).toBeLessThanOrEqual(16384 + 65536);
    await until(() => failed, "onError after the peer's close");
  }, 30_000);

  test("remoteAddress and remotePort name the peer", async () => {
    const { port } = await peer();
    const { tcp } = open(port);
    expect(tcp.remoteAddress).toBe(LOOPBACK);
    expect(tcp.remotePort).toBe(port);
  });

  test("an exception thrown by a callback surfaces as uncaught, as on the device", () => {
    const tcpUrl = new URL("../host-sim/tcp.js", import.meta.url).href;
    const script = `
      import net from "node:net";
      import TCP from ${JSON.stringify(tcpUrl)};
      const server = net.createServer((s) => s.on("error", () => {}));
      server.listen(0, "127.0.0.1", () => {
        new TCP({ address: "127.0.0.1", port: server.address().port,
          onWritable() { throw new Error("thrown by onWritable"); } });
      });
    `;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("thrown by onWritable");
  });
});

describe("UDP", () => {
  test("a datagram goes out with write and comes back through onReadable and read", async () => {
    const echo = dgram.createSocket("udp4");
    cleanups.push(() => echo.close());
    echo.on("message", (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => echo.bind(0, LOOPBACK, resolve));
    const echoPort = echo.address().port;
    const counts: number[] = [];
    const udp = new UDP({
      onReadable(count: number) {
        counts.push(count);
      },
    });
    cleanups.push(() => udp.close());
    udp.write(Uint8Array.from([1, 2, 3, 4]).subarray(1), LOOPBACK, echoPort);
    await until(() => counts.length > 0, "onReadable");
    expect(counts[0]).toBe(1);
    const packet = udp.read();
    expect([...new Uint8Array(packet)]).toEqual([2, 3, 4]);
    expect(packet.address).toBe(LOOPBACK);
    expect(packet.port).toBe(echoPort);
    expect(udp.read()).toBeUndefined();
  });
});

describe("Timer", () => {
  test("set with no interval fires once on a later turn, with its id and this = globalThis", async () => {
    const calls: Array<[unknown, unknown]> = [];
    const id = Timer.set(function (this: unknown, arg: unknown) {
      calls.push([this, arg]);
    });
    expect(calls).toEqual([]);
    await pause(20);
    expect(calls.length).toBe(1);
    expect(calls[0][0]).toBe(globalThis);
    expect(calls[0][1]).toBe(id);
    expect(typeof id).toBe("object");
  });

  test("a one-shot timer is cleared after it fires: schedule throws, clear is harmless", async () => {
    let fired = 0;
    const id = Timer.set(() => fired++, 5);
    await until(() => fired === 1, "the one shot");
    expect(() => Timer.schedule(id, 5)).toThrow();
    expect(() => Timer.clear(id)).not.toThrow();
    await pause(30);
    expect(fired).toBe(1);
  });

  test("set with a repeat interval fires after the first interval, then repeatedly", async () => {
    const times: number[] = [];
    const start = performance.now();
    const id = Timer.set(() => times.push(performance.now() - start), 10, 5);
    await until(() => times.length >= 4, "four fires");
    Timer.clear(id);
    expect(times[0]).toBeGreaterThanOrEqual(9);
  });

  test("repeat fires until cleared, and clear inside the callback stops it", async () => {
    let fired = 0;
    Timer.repeat((id: object) => {
      fired++;
      if (fired === 3) Timer.clear(id);
    }, 2);
    await until(() => fired === 3, "three fires");
    await pause(30);
    expect(fired).toBe(3);
  });

  test("schedule with no interval unschedules a timer, which fires again once rescheduled", async () => {
    let fired = 0;
    const id = Timer.repeat(() => fired++, 5);
    Timer.schedule(id);
    await pause(40);
    expect(fired).toBe(0);
    Timer.schedule(id, 5, 5);
    await until(() => fired >= 2, "two fires after rescheduling");
    Timer.clear(id);
  });

  test("schedule moves a pending one-shot earlier", async () => {
    let fired = 0;
    const id = Timer.set(() => fired++, 60_000);
    Timer.schedule(id, 5);
    await until(() => fired === 1, "the rescheduled fire", 2000);
    cleanups.push(() => Timer.clear(id));
  });

  test("clear cancels a pending timer and accepts undefined and null", async () => {
    let fired = 0;
    const id = Timer.set(() => fired++, 5);
    Timer.clear(id);
    Timer.clear(undefined);
    Timer.clear(null);
    await pause(30);
    expect(fired).toBe(0);
  });

  test("delay blocks for at least the given milliseconds", () => {
    const start = performance.now();
    Timer.delay(20);
    expect(performance.now() - start).toBeGreaterThanOrEqual(19);
  });
});

describe("Resolver", () => {
  test("localhost resolves to 127.0.0.1 on a later turn, with this = the resolver", async () => {
    const resolver = new Resolver({ socket: {}, servers: ["127.0.0.1"] });
    const results: unknown[][] = [];
    let self: unknown;
    resolver.resolve({
      host: "localhost",
      onResolved(this: unknown, host: string, address: string) {
        self = this;
        results.push([host, address]);
      },
      onError() {
        results.push(["error"]);
      },
    });
    expect(results).toEqual([]);
    await until(() => results.length > 0, "onResolved");
    expect(results).toEqual([["127.0.0.1", "127.0.0.1"]]);
    expect(self).toBe(resolver);
  });

  test("an IPv4 literal resolves to itself", async () => {
    const resolver = new Resolver({ socket: {}, servers: [] });
    const results: string[][] = [];
    resolver.resolve({ host: "127.0.0.1", onResolved: (h: string, a: string) => results.push([h, a]), onError: () => {} });
    await until(() => results.length > 0, "onResolved");
    expect(results).toEqual([["127.0.0.1", "127.0.0.1"]]);
  });

  test("close cancels pending requests", async () => {
    const resolver = new Resolver({ socket: {}, servers: [] });
    let called = 0;
    resolver.resolve({ host: "localhost", onResolved: () => called++, onError: () => called++ });
    resolver.close();
    await pause(30);
    expect(called).toBe(0);
  });
});

describe("text", () => {
  test("the encoder and decoder round-trip UTF-8, also when a character is split across chunks", () => {
    const bytes = new TextEncoder().encode("héllo €");
    expect(bytes.length).toBe(10);
    const decoder = new TextDecoder();
    const text = decoder.decode(bytes.subarray(0, 9), { stream: true }) + decoder.decode(bytes.subarray(9));
    expect(text).toBe("héllo €");
  });
});

describe("config", () => {
  test("MC_ variables become lowercased keys", () => {
    const c = parseConfig({ env: { MC_NATS: "nats://127.0.0.1:4222", MC_SOME_KEY: "x", PATH: "/bin" }, argv: [] });
    expect(c).toEqual({ nats: "nats://127.0.0.1:4222", some_key: "x" });
  });

  test("key=value words after the script override the environment; other words are ignored", () => {
    const c = parseConfig({
      env: { MC_ID: "from-env", MC_NATS: "nats://127.0.0.1:1" },
      argv: ["node", "dist/apps/sensor.js", "id=sensor-7", "--flag", "url=nats://h:1/?a=b", "nats=nats://127.0.0.1:4222"],
    });
    expect(c).toEqual({ id: "sensor-7", nats: "nats://127.0.0.1:4222", url: "nats://h:1/?a=b" });
  });

  test("words before the script are not settings", () => {
    expect(parseConfig({ env: {}, argv: ["a=1", "b=2", "c=3"] })).toEqual({ c: 3 });
  });

  test("true, false and plain integers are typed; everything else stays a string", () => {
    const c = parseConfig({
      env: { MC_A: "true", MC_B: "false", MC_C: "42", MC_D: "-7", MC_E: "007", MC_F: "1.5", MC_G: "", MC_H: "True" },
      argv: [],
    });
    expect(c).toEqual({ a: true, b: false, c: 42, d: -7, e: "007", f: "1.5", g: "", h: "True" });
  });

  test("a script run under register.js gets the host-sim device modules and its key=value words", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nats-xs-hooks-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, "device.mjs");
    writeFileSync(
      script,
      `import TCP from "embedded:io/socket/tcp";
       import UDP from "embedded:io/socket/udp";
       import Resolver from "embedded:network/dns/resolver/udp";
       import Timer from "timer";
       import Encoder from "text/encoder";
       import Decoder from "text/decoder";
       import config from "mc/config";
       const kinds = [TCP, UDP, Resolver, Encoder, Decoder].map((m) => typeof m).join(",");
       Timer.set(() => trace(JSON.stringify({ kinds, config })));
      `,
    );
    const register = fileURLToPath(new URL("../host-sim/register.js", import.meta.url));
    const result = spawnSync(
      process.execPath,
      ["--import", register, script, "nats=nats://127.0.0.1:4222", "id=sensor-7", "port=4222"],
      { encoding: "utf8", timeout: 10_000, env: { ...withoutMcVariables(process.env), MC_ID: "from-env", MC_DEBUG: "true" } },
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      kinds: "function,function,function,function,function",
      config: { nats: "nats://127.0.0.1:4222", id: "sensor-7", port: 4222, debug: true },
    });
  });

  test("the config objects are frozen", () => {
    expect(Object.isFrozen(parseConfig({ env: { MC_X: "1" }, argv: [] }))).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe("globals a device does not have", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  /** Runs `source` as a device app (a file outside the host-side folders) in the simulator. */
  function runApp(source: string, env: Record<string, string> = {}) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nats-xs-app-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "app.mjs");
    writeFileSync(file, source);
    return spawnSync(process.execPath, ["--import", path.join(root, "host-sim", "register.js"), file], {
      cwd: root,
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, ...env },
    });
  }

  test("an app that uses setTimeout, Buffer or console is refused at load, naming the device module to use", () => {
    const r = runApp('import Timer from "timer";\nconst b = Buffer.from("x");\nsetTimeout(() => console.log(b), 1);\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/app\.mjs uses globals that a device does not have/);
    expect(r.stderr).toMatch(/Buffer \(line 2\): use Uint8Array/);
    expect(r.stderr).toMatch(/setTimeout \(line 3\): use Timer\.set\(callback, ms\) from the "timer" device module/);
    expect(r.stderr).toMatch(/console \(line 3\): use trace/);
  });

  test("a module imported by the app is checked too, and process is refused in favour of mc/config", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nats-xs-app-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, "settings.mjs"), "export const url = process.env.NATS_URL;\n");
    writeFileSync(path.join(dir, "main.mjs"), 'import { url } from "./settings.mjs";\ntrace(`${url}\\n`);\n');
    const r = spawnSync(process.execPath, ["--import", path.join(root, "host-sim", "register.js"), path.join(dir, "main.mjs")], { cwd: root, encoding: "utf8", timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/settings\.mjs uses a global that a device does not have/);
    expect(r.stderr).toMatch(/process \(line 1\): use the "mc\/config" device module/);
  });

  test("device modules, trace, names that are only properties or locals, and typeof feature tests pass", () => {
    const r = runApp(
      [
        'import Timer from "timer";',
        'import config from "mc/config";',
        "const o = { console: 1, process() {} }; o.Buffer = 2;",
        "function f(setTimeout) { return setTimeout; }",
        'const where = typeof process !== "undefined" ? "node" : "device";',
        "Timer.set(() => trace(`ok ${f(3)} ${o.console} ${typeof config}\\n`), 1);",
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ok 3 1 object\n");
    expect(r.status).toBe(0);
  });

  test("NATS_XS_SIM_GLOBALS=allow turns the check off", () => {
    const r = runApp('trace(typeof setTimeout + "\\n");\nsetTimeout(() => {}, 1);\n', { NATS_XS_SIM_GLOBALS: "allow" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("function\n");
  });
});
