// The WebSocket layer (dist/nats-xs-ws.js) on its own, over an in-memory socket of the ECMA-419
// shape: what a server (or a proxy on the way) may send that nats-server itself rarely does:
// fragmented and text frames, pings between fragments, close frames, and hostile frames. Every
// input is also fed split at every byte boundary.
import { describe, expect, test } from "vitest";
import { wrap } from "../dist/nats-xs-ws.js";

/** The socket beneath: bytes to read are queued by the test; writes are recorded. */
class Inner {
  queue: number[] = [];
  written: Uint8Array[] = [];
  closed = false;
  read(into: Uint8Array): number {
    if (into.length > this.queue.length) throw new Error(`read ${into.length} with ${this.queue.length} buffered`);
    for (let i = 0; i < into.length; i++) into[i] = this.queue.shift()!;
    return into.length;
  }
  write(data: Uint8Array): number {
    this.written.push(data.slice());
    return 8192;
  }
  close(): void {
    this.closed = true;
  }
}

/** What reaches the connection: the stream bytes, writable counts, errors. */
class Upper {
  bytes: number[] = [];
  writable: number[] = [];
  errors: (string | undefined)[] = [];
  layer: ReturnType<typeof wrap> | null = null;
  onReadable(count: number): void {
    const b = new Uint8Array(count);
    expect(this.layer!.read(b)).toBe(count);
    this.bytes.push(...b);
  }
  onWritable(count: number): void {
    this.writable.push(count);
  }
  onError(detail?: string): void {
    this.errors.push(detail);
  }
}

const te = new TextEncoder();
const ANSWER = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n";

function frame(op: number, payload: Uint8Array | string, fin = true, extra = 0): number[] {
  const p = typeof payload === "string" ? te.encode(payload) : payload;
  const head = [(fin ? 0x80 : 0) | extra | op];
  if (p.length < 126) head.push(p.length);
  else if (p.length < 65536) head.push(126, p.length >> 8, p.length & 0xff);
  else head.push(127, 0, 0, 0, 0, (p.length >>> 24) & 0xff, (p.length >> 16) & 0xff, (p.length >> 8) & 0xff, p.length & 0xff);
  return [...head, ...p];
}

/** Unmasks a client frame; checks the mask bit. */
function unmask(f: Uint8Array): { op: number; payload: Uint8Array } {
  expect(f[1] & 0x80).toBe(0x80);
  let len = f[1] & 0x7f;
  let p = 2;
  if (len === 126) {
    len = (f[2] << 8) | f[3];
    p = 4;
  }
  const mask = f.subarray(p, p + 4);
  p += 4;
  const payload = new Uint8Array(len);
  for (let i = 0; i < len; i++) payload[i] = f[p + i] ^ mask[i & 3];
  return { op: f[0] & 0x0f, payload };
}

/** An open layer: the upgrade request sent and answered. */
function open(answered = true): { inner: Inner; upper: Upper; layer: ReturnType<typeof wrap> } {
  const inner = new Inner();
  const upper = new Upper();
  const layer = wrap(inner as never, 8192, { host: "h", port: 80, path: "/nats", tls: undefined }, upper);
  upper.layer = layer;
  const request = new TextDecoder().decode(inner.written[0]);
  expect(request).toMatch(/^GET \/nats HTTP\/1\.1\r\n/);
  expect(request).toMatch(/\r\nSec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n/);
  expect(request).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
  inner.written.length = 0;
  if (answered) feed(inner, layer, [...te.encode(ANSWER)], ANSWER.length);
  return { inner, upper, layer };
}

/** Feeds `bytes` in pieces of `step`, announcing what is buffered each time. */
function feed(inner: Inner, layer: ReturnType<typeof wrap>, bytes: number[], step: number): void {
  for (let i = 0; i < bytes.length; i += step) {
    inner.queue.push(...bytes.slice(i, i + step));
    layer.onReadable(inner.queue.length);
  }
}

describe("WebSocket frames", () => {
  test("fragmented binary and text frames with a ping between fragments make one byte stream; the ping is answered with a masked pong", () => {
    const input = [
      ...frame(2, "INFO {} \r\n"),
      ...frame(2, "MSG a 1 5\r\nhe", false),
      ...frame(9, "beat"),
      ...frame(0, "llo\r\n", false),
      ...frame(0, "", true),
      ...frame(1, "PING\r\n"),
      ...frame(10, "unasked"),
      ...frame(2, new Uint8Array(300).fill(66)),
    ];
    const expected = "INFO {} \r\nMSG a 1 5\r\nhello\r\nPING\r\n" + "B".repeat(300);
    const long = [...frame(2, new Uint8Array(70000).fill(65))];
    for (const step of [1, 2, 3, 7, 100, 4096, input.length]) {
      const { inner, upper, layer } = open();
      feed(inner, layer, input, step);
      expect(upper.errors).toEqual([]);
      expect(new TextDecoder().decode(Uint8Array.from(upper.bytes))).toBe(expected);
      expect(upper.writable.length).toBeGreaterThan(0);
      const pong = unmask(inner.written[0]);
      expect(pong.op).toBe(10);
      expect(new TextDecoder().decode(pong.payload)).toBe("beat");
      if (step < 100) continue;
      // a frame with a 64-bit length, streamed as its bytes come
      upper.bytes.length = 0;
      feed(inner, layer, long, step);
      expect(upper.bytes.length).toBe(70000);
      expect(upper.bytes.every((b) => b === 65)).toBe(true);
    }
  });

  test("a read of more than the frame holds throws rather than hand over stale bytes", () => {
    const { inner, layer } = open();
    inner.queue.push(...frame(2, "abc"));
    // only the head is announced and taken; then more payload is asked for than is readable
    layer.onReadable(2);
    expect(() => layer.read(new Uint8Array(4))).toThrow(/read of 4 bytes but \d+ are readable/);
  });

  test("writes go out as masked binary frames of at most 1 KB that reassemble to the data", () => {
    const { inner, layer } = open();
    const data = new Uint8Array(5000).map((_, i) => i * 7);
    layer.write(data);
    const out: number[] = [];
    for (const f of inner.written) {
      const { op, payload } = unmask(f);
      expect(op).toBe(2);
      expect(payload.length).toBeLessThanOrEqual(1024);
      out.push(...payload);
    }
    expect(Uint8Array.from(out)).toEqual(data);
  });

  test("the writable count leaves room for the frame heads", () => {
    const { inner, upper, layer } = open();
    const room = upper.writable.at(-1)!;
    expect(room).toBeLessThan(8192);
    layer.write(new Uint8Array(room));
    const total = inner.written.reduce((n, f) => n + f.length, 0);
    expect(total).toBeLessThanOrEqual(8192);
  });

  test("a close frame is answered and reported with its code and reason unless it is an ordinary close", () => {
    const a = open();
    feed(a.inner, a.layer, frame(8, Uint8Array.of(0x03, 0xea, ...te.encode("bad data"))), 1);
    expect(a.upper.errors).toEqual(["WebSocket: the server closed the link (1002 bad data)"]);
    expect(unmask(a.inner.written[0]).op).toBe(8);
    const b = open();
    feed(b.inner, b.layer, frame(8, Uint8Array.of(0x03, 0xe9)), 1);
    expect(b.upper.errors).toEqual([undefined]);
  });

  test("hostile frames end the link with a reason: masked, reserved bits, long or fragmented control frames, unknown opcodes", () => {
    const cases: [number[], RegExp][] = [
      [[0x82, 0x81, 1, 2, 3, 4, 0], /masked frame/],
      [frame(2, "x", true, 0x40), /reserved bits/],
      [frame(9, new Uint8Array(126)), /control frame longer than 125 bytes or fragmented/],
      [frame(9, "x", false), /control frame/],
      [frame(3, "x"), /unknown opcode 3/],
      [frame(11, "x"), /unknown opcode 11/],
      [[0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 1], /longer than 2\^53/],
    ];
    for (const [bytes, why] of cases) {
      const { inner, upper, layer } = open();
      feed(inner, layer, bytes, 1);
      expect(upper.errors.length).toBe(1);
      expect(upper.errors[0]).toMatch(why);
    }
  });

  test("an upgrade refused, an answer too long, or a close during the upgrade are errors naming the listener", () => {
    const refused = open(false);
    feed(refused.inner, refused.layer, [...te.encode("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")], 5);
    expect(refused.upper.errors[0]).toMatch(/refused the upgrade \(HTTP\/1\.1 404 Not Found\)/);
    const long = open(false);
    feed(long.inner, long.layer, [...te.encode("HTTP/1.1 101 OK\r\nX: " + "a".repeat(2000))], 50);
    expect(long.upper.errors[0]).toMatch(/longer than 1024 bytes/);
    const closed = open(false);
    feed(closed.inner, closed.layer, [...te.encode("INFO {} \r\n")], 100);
    closed.layer.onError();
    expect(closed.upper.errors[0]).toMatch(/closed the connection instead of upgrading it \(it said: INFO \{\} \)/);
  });
});
