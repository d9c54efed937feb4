// Unit tests of the pure pieces of the client (no socket): subjects, headers, UTF-8 helpers, and
// the outbound queue against a recording socket with a bounded send buffer.
import { describe, expect, test } from "vitest";
import { checkPublishSubject, checkQueue, checkSubscribeSubject, publishSubjectBytes } from "../firmware/nats/subjects.ts";
import { MsgHdrsImpl, headers, statusCode, Match } from "../firmware/nats/headers.ts";
import { utf8Length, writeString, writeUint, uintLength } from "../firmware/nats/text.ts";
import { Outbound } from "../firmware/nats/outbound.ts";
import { parseServer, ServerPool } from "../firmware/nats/servers.ts";
import { resolveOptions } from "../firmware/nats/options.ts";
import { InvalidArgumentError, InvalidSubjectError } from "../firmware/nats/errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ascii = (b: Uint8Array) => dec.decode(b);

describe("subjects", () => {
  test.each(["a", "a.b.c", "foo.b*r", "a.>x", "_INBOX.abc.1", "ü.ö", "$JS.API.INFO"])("publish subject %j is accepted", (s) => {
    expect(() => checkPublishSubject(s)).not.toThrow();
  });
  test.each(["", "a..b", ".a", "a.", "a b", "a\tb", "a\r\nb", "a.*", ">", "a.>"])("publish subject %j is refused", (s) => {
    expect(() => checkPublishSubject(s)).toThrow(InvalidSubjectError);
  });
  test.each(["a.*", "a.>", ">", "*.b.*", "a.*.>"])("subscription subject %j is accepted", (s) => {
    expect(() => checkSubscribeSubject(s)).not.toThrow();
  });
  test.each(["a.>.b", ">.a", "a..*", "", "a b"])("subscription subject %j is refused", (s) => {
    expect(() => checkSubscribeSubject(s)).toThrow(InvalidSubjectError);
  });
  test.each(["a", "a.b.c", "ü.ö", "日本.語", "emoji.😀.x", "a.\ud800.b", "x.\udc00"])("publish subject %j is sized in the same pass as utf8Length sizes it", (s) => {
    expect(publishSubjectBytes(s)).toBe(utf8Length(s));
    expect(publishSubjectBytes(s)).toBe(enc.encode(s).length);
  });
  test.each(["", "a..b", "a.*", "a b"])("publish subject %j is refused by the sizing pass too", (s) => {
    expect(() => publishSubjectBytes(s)).toThrow(InvalidSubjectError);
  });
  test("a non-string subject is refused with a clear error", () => {
    expect(() => checkPublishSubject(42 as unknown as string)).toThrow(/not a string/);
  });
  test("queue names may not hold white space", () => {
    expect(() => checkQueue("workers")).not.toThrow();
    expect(() => checkQueue("a b")).toThrow(InvalidSubjectError);
    expect(() => checkQueue("")).toThrow(InvalidSubjectError);
  });
});

describe("headers", () => {
  test("encode then parse keeps order, case and repeated keys", () => {
    const h = headers() as MsgHdrsImpl;
    h.append("A", "1");
    h.append("a", "2");
    h.append("Long-Key", "value with spaces");
    h.append("A", "3");
    const b = new Uint8Array(h.encodedLength());
    expect(h.encode(b, 0, enc)).toBe(b.length);
    expect(ascii(b)).toBe("NATS/1.0\r\nA: 1\r\na: 2\r\nLong-Key: value with spaces\r\nA: 3\r\n\r\n");
    const p = MsgHdrsImpl.parse(b, dec);
    expect(p.values("A")).toEqual(["1", "3"]);
    expect(p.values("a", Match.IgnoreCase)).toEqual(["1", "2", "3"]);
    expect(p.get("Long-Key")).toBe("value with spaces");
    expect(p.last("A")).toBe("3");
    expect(p.keys()).toEqual(["A", "a", "Long-Key"]);
  });
  test("Key:value with no space, as MQTT-originated messages carry, is read", () => {
    const p = MsgHdrsImpl.parse(enc.encode("NATS/1.0\r\nNmqtt-Pub:1\r\n\r\n"), dec);
    expect(p.get("Nmqtt-Pub")).toBe("1");
  });
  test("a status line gives code and description", () => {
    const p = MsgHdrsImpl.parse(enc.encode("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\n\r\n"), dec);
    expect(p.code).toBe(408);
    expect(p.description).toBe("Request Timeout");
    expect(p.hasError).toBe(true);
    expect(p.status).toBe("408 Request Timeout");
    expect(p.get("Nats-Pending-Messages")).toBe("3");
    expect(statusCode(enc.encode("NATS/1.0 503\r\n\r\n"))).toBe(503);
    expect(statusCode(enc.encode("NATS/1.0\r\n\r\n"))).toBe(0);
  });
  test("a status line is encoded with its code", () => {
    const h = headers(100, "Idle Heartbeat") as MsgHdrsImpl;
    const b = new Uint8Array(h.encodedLength());
    h.encode(b, 0, enc);
    expect(ascii(b)).toBe("NATS/1.0 100 Idle Heartbeat\r\n\r\n");
  });
  test("non-ASCII values count their UTF-8 bytes", () => {
    const h = headers() as MsgHdrsImpl;
    h.set("City", "Zürich ☃ 😀");
    const b = new Uint8Array(h.encodedLength());
    expect(h.encode(b, 0, enc)).toBe(b.length);
    expect(MsgHdrsImpl.parse(b, dec).get("City")).toBe("Zürich ☃ 😀");
  });
  test("set replaces, delete removes, has answers", () => {
    const h = headers();
    h.append("K", "1");
    h.append("K", "2");
    h.set("K", "3");
    expect(h.values("K")).toEqual(["3"]);
    expect(h.has("K")).toBe(true);
    h.delete("K");
    expect(h.has("K")).toBe(false);
  });
  test.each([["bad key", "v"], ["a:b", "v"], ["", "v"], ["K", "a\r\nb"]])("header %j: %j is refused", (k, v) => {
    expect(() => headers().set(k, v)).toThrow(InvalidArgumentError);
  });
});

describe("UTF-8 helpers", () => {
  test("utf8Length and writeString agree with TextEncoder", () => {
    for (const s of ["", "abc", "é", "€uro", "😀x", "a\ud800b", "日本語テキスト"]) {
      const want = enc.encode(s);
      expect(utf8Length(s)).toBe(want.length);
      const b = new Uint8Array(want.length + 2);
      expect(writeString(b, 1, s, enc)).toBe(1 + want.length);
      expect(Array.from(b.subarray(1, 1 + want.length))).toEqual(Array.from(want));
    }
  });
  test("writeUint writes the digits of any safe size", () => {
    for (const n of [0, 7, 10, 99, 100, 65535, 1048576, 2 ** 40]) {
      const b = new Uint8Array(20);
      expect(writeUint(b, 0, n)).toBe(uintLength(n));
      expect(ascii(b.subarray(0, uintLength(n)))).toBe(String(n));
    }
  });
});

/** A socket with a bounded send buffer that records what it was given. */
class RecordingSocket {
  sent: number[] = [];
  writes: number[] = [];
  constructor(public free: number) {}
  write(b: Uint8Array): number {
    if (b.length > this.free) throw new Error("would block");
    this.free -= b.length;
    this.writes.push(b.length);
    for (const x of b) this.sent.push(x);
    return this.free;
  }
  text(): string {
    return String.fromCharCode(...this.sent);
  }
}

function frame(out: Outbound, text: string): void {
  const b = enc.encode(text);
  const pos = out.reserve(b.length);
  if (pos >= 0) out.buffer.set(b, pos);
  else out.push(b, true, !text.startsWith("PUB") && !text.startsWith("HPUB"), false);
}

describe("outbound queue", () => {
  test("the batch is written whole or not at all", () => {
    const out = new Outbound(256);
    frame(out, "PUB a 2\r\nhi\r\n");
    frame(out, "PUB b 2\r\nho\r\n");
    const s = new RecordingSocket(10);
    expect(out.drain(s as never, 10, false)).toBe(10);
    expect(s.sent.length).toBe(0);
    s.free = 100;
    out.drain(s as never, 100, false);
    expect(s.text()).toBe("PUB a 2\r\nhi\r\nPUB b 2\r\nho\r\n");
    expect(out.empty).toBe(true);
    expect(out.held).toBe(0);
  });
  test("a referenced payload is cut to the socket's space and kept in order", () => {
    const out = new Outbound(64);
    frame(out, "PUB a 1\r\nA\r\n");
    const big = new Uint8Array(200).fill(66);
    out.push(enc.encode("PUB big 200\r\n"), true, false, false);
    out.push(big, false, false, true);
    out.push(enc.encode("\r\n"), false, false, false);
    expect(out.referenced).toBe(200);
    frame(out, "PUB c 1\r\nC\r\n"); // behind the spill, so copied there in order
    const s = new RecordingSocket(50);
    let w = out.drain(s as never, 50, false);
    while (!out.empty) {
      s.free += 37;
      w = out.drain(s as never, s.free, false);
    }
    expect(w).toBeGreaterThanOrEqual(0);
    expect(s.text()).toBe(`PUB a 1\r\nA\r\nPUB big 200\r\n${"B".repeat(200)}\r\nPUB c 1\r\nC\r\n`);
    expect(out.referenced).toBe(0);
    expect(out.held).toBe(0);
  });
  test("after a disconnect, control frames are dropped and a cut message is sent whole again", () => {
    const out = new Outbound(64);
    frame(out, "SUB x 1\r\n");
    frame(out, "PUB a 1\r\nA\r\n");
    frame(out, "PING\r\n");
    const big = new Uint8Array(100).fill(66);
    out.push(enc.encode("PUB big 100\r\n"), true, false, false);
    out.push(big, false, false, true);
    out.push(enc.encode("\r\n"), false, false, false);
    out.push(enc.encode("UNSUB 1\r\n"), true, true, false);
    const s = new RecordingSocket(64);
    out.drain(s as never, 64, false); // the batch, then part of the big frame
    expect(s.sent.length).toBeGreaterThan(0);
    expect(out.rewind()).toBe(1);
    const s2 = new RecordingSocket(1000);
    out.drain(s2 as never, 1000, false);
    expect(s2.text()).toBe(`PUB big 100\r\n${"B".repeat(100)}\r\n`);
  });
  test("rewinding keeps only message frames of an unsent batch, in order", () => {
    const out = new Outbound(256);
    frame(out, "PUB a 1\r\nA\r\n");
    frame(out, "UNSUB 4 2\r\n");
    frame(out, "HPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
    frame(out, "PONG\r\n");
    expect(out.rewind()).toBe(2);
    const s = new RecordingSocket(1000);
    out.drain(s as never, 1000, false);
    expect(s.text()).toBe("PUB a 1\r\nA\r\nHPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
  });
  test("the handshake goes before anything queued, and alone while gated", () => {
    const out = new Outbound(256);
    frame(out, "PUB a 1\r\nA\r\n");
    out.setFront(enc.encode("CONNECT {}\r\nPING\r\n"));
    const s = new RecordingSocket(1000);
    out.drain(s as never, 1000, true);
    expect(s.text()).toBe("CONNECT {}\r\nPING\r\n");
    out.drain(s as never, s.free, false);
    expect(s.text()).toBe("CONNECT {}\r\nPING\r\nPUB a 1\r\nA\r\n");
  });
  test("frames queued behind a full batch share pages instead of taking an array each", () => {
    const out = new Outbound(64);
    const frames: string[] = [];
    const put = (text: string) => {
      frames.push(text);
      const b = enc.encode(text);
      let pos = out.reserve(b.length);
      if (pos >= 0) out.buffer.set(b, pos);
      else {
        pos = out.reserveSpill(b.length);
        expect(pos).toBeGreaterThanOrEqual(0);
        out.page.set(b, pos);
      }
    };
    for (let i = 0; i < 20; i++) put(`PUB s${i % 10} 5\r\nhello\r\n`);
    // 20 frames of 18 bytes: 3 fill the batch, the other 17 fit in 6 pages of 64 bytes
    expect(out.held).toBeLessThanOrEqual(64 * 7);
    const s = new RecordingSocket(64);
    while (!out.empty) {
      out.drain(s as never, s.free, false);
      s.free = 64;
    }
    expect(s.text()).toBe(frames.join(""));
    expect(s.writes.length).toBeLessThanOrEqual(7);
  });

  test("pages shared by PONGs and messages replay only the messages after a disconnect, and count them", () => {
    const out = new Outbound(64);
    const messages: string[] = [];
    const put = (text: string) => {
      const b = enc.encode(text);
      let pos = out.reserve(b.length);
      if (pos >= 0) out.buffer.set(b, pos);
      else {
        pos = out.reserveSpill(b.length);
        expect(pos).toBeGreaterThanOrEqual(0);
        out.page.set(b, pos);
      }
    };
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) {
        const m = `PUB q${i} 2\r\nhi\r\n`;
        messages.push(m);
        put(m);
      } else put(i % 2 === 0 ? "PONG\r\n" : "PING\r\n");
    }
    expect(out.messages()).toBe(10);
    out.rewind();
    expect(out.messages()).toBe(10);
    const s = new RecordingSocket(1000);
    while (!out.empty) {
      out.drain(s as never, s.free, false);
      s.free = 1000;
    }
    expect(s.text()).toBe(messages.join(""));
  });

  test("pages survive a disconnect whole and are replayed in order", () => {
    const out = new Outbound(64);
    const frames: string[] = [];
    for (let i = 0; i < 12; i++) {
      const text = `PUB p${i} 3\r\nabc\r\n`;
      frames.push(text);
      const b = enc.encode(text);
      let pos = out.reserve(b.length);
      if (pos >= 0) out.buffer.set(b, pos);
      else {
        pos = out.reserveSpill(b.length);
        out.page.set(b, pos);
      }
    }
    expect(out.rewind()).toBe(6); // 4 frames of the batch, and 2 pages of 4 frames each
    const s = new RecordingSocket(1000);
    while (!out.empty) {
      out.drain(s as never, s.free, false);
      s.free = 1000;
    }
    expect(s.text()).toBe(frames.join(""));
  });

  test("a batch larger than the new socket's buffer moves behind, frame by frame", () => {
    const out = new Outbound(256);
    for (let i = 0; i < 10; i++) frame(out, `PUB s${i} 10\r\n0123456789\r\n`);
    out.limitTo(64);
    expect(out.capacity).toBe(64);
    const s = new RecordingSocket(64);
    while (!out.empty) {
      out.drain(s as never, s.free, false);
      s.free = 64;
    }
    expect(s.text()).toBe(Array.from({ length: 10 }, (_, i) => `PUB s${i} 10\r\n0123456789\r\n`).join(""));
  });
});

describe("servers and options", () => {
  test("server URLs in every accepted form", () => {
    expect(parseServer("127.0.0.1", false).key).toBe("127.0.0.1:4222");
    expect(parseServer("localhost:4333", false).port).toBe(4333);
    const s = parseServer("nats://u%40x:p%3Aw@10.1.2.3:4444", false);
    expect([s.host, s.port, s.user, s.pass]).toEqual(["10.1.2.3", 4444, "u@x", "p:w"]);
    expect(parseServer("nats://secret@h", false).token).toBe("secret");
    expect(() => parseServer("http://h:1", false)).toThrow(/unknown scheme/);
    expect(() => parseServer("nats://[::1]:4222", false)).toThrow(/IPv6/);
    expect(() => parseServer("h:99999", false)).toThrow(/bad port/);
  });
  test("the scheme picks the transport and its default port; ws paths are kept", () => {
    const forms: [string, number, number, string][] = [
      ["nats://h", 0, 4222, "/"],
      ["tls://h", 1, 4222, "/"],
      ["TLS://h:7422", 1, 7422, "/"],
      ["ws://h", 2, 80, "/"],
      ["wss://h", 3, 443, "/"],
      ["wss://u:p@h:8443/nats?x=1", 3, 8443, "/nats?x=1"],
    ];
    for (const [url, scheme, port, path] of forms) {
      const s = parseServer(url, false);
      expect([s.scheme, s.port, s.path]).toEqual([scheme, port, path]);
    }
  });
  test("connect_urls without a scheme take the transport of the server that announced them", () => {
    const pool = new ServerPool(["tls://127.0.0.1:1"], false);
    pool.update(["127.0.0.1:2", "nats://127.0.0.1:3"], pool.servers[0]);
    expect(pool.servers.map((s) => s.scheme)).toEqual([1, 1, 0]);
    const ws = new ServerPool(["wss://127.0.0.1:1"], false);
    ws.update(["127.0.0.1:2"], ws.servers[0]);
    expect(ws.servers[1].scheme).toBe(3);
  });
  test("the pool merges connect_urls and forgets discovered servers that left", () => {
    const pool = new ServerPool(["nats://a:b@127.0.0.1:1"], false);
    let r = pool.update(["127.0.0.1:2", "127.0.0.1:3", "[::1]:4"], null);
    expect(r.added).toEqual(["127.0.0.1:2", "127.0.0.1:3"]);
    expect(pool.servers[1].user).toBe(""); // credentials in a configured URL stay with that URL
    r = pool.update(["127.0.0.1:3"], null);
    expect(r.deleted).toEqual(["127.0.0.1:2"]);
    expect(pool.servers.map((s) => s.key)).toEqual(["127.0.0.1:1", "127.0.0.1:3"]);
  });
  test("options get nats.js defaults and bad values are refused", () => {
    const o = resolveOptions({});
    expect([o.pingInterval, o.maxPingOut, o.maxReconnectAttempts, o.reconnectTimeWait, o.reconnectJitter, o.timeout]).toEqual([120000, 2, 10, 2000, 100, 20000]);
    expect(() => resolveOptions({ receiveBufferBytes: 10 })).toThrow(InvalidArgumentError);
    expect(() => resolveOptions({ servers: [] })).toThrow(/at least one server/);
    expect(() => resolveOptions({ noEcho: "yes" as unknown as boolean })).toThrow(/true or false/);
  });
  test("resolved options hold only what the caller set and inherit every default", () => {
    const o = resolveOptions({ name: "dev", servers: "127.0.0.1:4333", maxPingOut: 2, debug: true });
    // maxPingOut: 2 is the default, so it is inherited like the options left out
    expect(Object.keys(o).sort()).toEqual(["debug", "name", "servers"]);
    expect([o.name, o.servers, o.debug, o.maxPingOut, o.maxPendingBytes, o.dnsServers]).toEqual(["dev", ["127.0.0.1:4333"], true, 2, 32768, ["1.1.1.1", "8.8.8.8"]]);
    expect(resolveOptions({}).servers).toEqual(["127.0.0.1:4222"]);
    // read-only, whether set or inherited
    expect(() => ((o as { timeout: number }).timeout = 5)).toThrow(TypeError);
    expect(() => ((o as { name: string }).name = "other")).toThrow(TypeError);
    expect([o.timeout, o.name]).toEqual([20000, "dev"]);
  });
});
