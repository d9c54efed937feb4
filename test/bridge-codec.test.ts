// The NATSBridge codec of nats-xs/bridge (built dist/ code through the host simulator), without a
// server: base64 both ways at every split, the incremental envelope reader on every dialect fixture
// (whole, at every split point, byte by byte), the writer read back by an independent reader, Arrow
// tables read by apache-arrow, lenient timestamps, and every malformed input with its typed error.
import { describe, expect, test } from "vitest";
import { tableFromIPC } from "apache-arrow";
import {
  arrowTable,
  Base64Decoder,
  Base64Encoder,
  Base64Error,
  base64Length,
  BridgeError,
  EnvelopeFieldError,
  EnvelopeScanner,
  EnvelopeSyntaxError,
  maxDirectSize,
  MessageEnvelope,
  normalizeTimestamp,
  parseTimestamp,
  PayloadLimitError,
  PayloadSizeError,
  smartsend,
  UnknownPayloadTypeError,
  uuid4,
} from "nats-xs/bridge";
import type { PayloadSink, SendOptions } from "nats-xs/bridge";
import { NatsError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { peerEnvelope, peerRead } from "./shared/bridge-peer.mjs";
import { FIELDS, PAYLOADS, TIMESTAMPS, bytesOf, dialectFixtures } from "./shared/bridge-fixtures.mjs";

const enc = new TextEncoder();

// ---- helpers -------------------------------------------------------------------------------------

/** Reads `bytes` with one scanner, fed in pieces of `step` bytes (0: whole). */
function scan(bytes: Uint8Array, step = 0, scanner = new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048, maxHeldBytes: 1 << 20 })): MessageEnvelope {
  scanner.begin();
  if (step === 0) scanner.push(bytes);
  else for (let i = 0; i < bytes.length; i += step) scanner.push(bytes.slice(i, i + step));
  return scanner.end();
}

/** Reads `bytes` split once at `at` (each piece a fresh copy, so a kept view would show). */
function scanSplit(bytes: Uint8Array, at: number, scanner: EnvelopeScanner): MessageEnvelope {
  scanner.begin();
  const a = bytes.slice(0, at);
  const b = bytes.slice(at);
  scanner.push(a);
  a.fill(0x21);
  scanner.push(b);
  return scanner.end();
}

function checkPayloads(env: MessageEnvelope, fixtures: readonly (typeof PAYLOADS)[number][]): void {
  expect(env.payloads.length).toBe(fixtures.length);
  fixtures.forEach((f, i) => {
    const p = env.payloads[i];
    expect(p.dataname).toBe(f.dataname);
    expect(p.type).toBe(f.want.type);
    expect(p.format).toBe(f.want.format);
    expect(p.transport).toBe("direct");
    expect(p.size).toBe(f.bytes.length);
    if (f.want.data instanceof Uint8Array) expect(Buffer.from(p.data as Uint8Array).equals(Buffer.from(f.want.data))).toBe(true);
    else expect(p.data).toEqual(f.want.data);
  });
}

function checkFields(env: MessageEnvelope): void {
  for (const [k, v] of Object.entries(FIELDS)) expect((env as unknown as Record<string, unknown>)[k], k).toEqual(v);
}

/** A stand-in for the connection that keeps what smartsend publishes (whole or streamed). */
function captureConnection(maxPayload = 1048576) {
  const sent: { subject: string; data: Uint8Array; reply?: string; streamed: boolean; pieces: number[] }[] = [];
  let open: { subject: string; reply: string; buf: Uint8Array; n: number; pieces: number[] } | null = null;
  const nc = {
    info: { max_payload: maxPayload },
    options: { name: "unit", inboxPrefix: "_INBOX", maxPendingBytes: 32768, outboundBufferBytes: 2048 },
    getServer: () => "127.0.0.1:4222",
    publish(subject: string, data: Uint8Array, o?: { reply?: string }) {
      sent.push({ subject, data: data.slice(), reply: o?.reply, streamed: false, pieces: [data.length] });
    },
    // the connection's side of nats-xs/stream's publishStream (see StreamHook in the core)
    streaming: null as { drained(held: number): void } | null,
    openStream(w: { drained(held: number): void }, subject: string, reply: string, _h: unknown, size: number) {
      open = { subject, reply, buf: new Uint8Array(size), n: 0, pieces: [] };
      nc.streaming = w;
    },
    streamWrite(w: { drained(held: number): void }, b: Uint8Array) {
      const o = open as NonNullable<typeof open>;
      o.buf.set(b, o.n);
      o.n += b.length;
      o.pieces.push(b.length);
      if (o.pieces.length % 3 !== 0) return 0;
      // a full queue now and then: ready() waits until it drains
      void Promise.resolve().then(() => w.drained(0));
      return 1 << 20;
    },
    streamEnd() {
      const o = open as NonNullable<typeof open>;
      if (o.n !== o.buf.length) throw new Error(`wrote ${o.n} of ${o.buf.length}`);
      sent.push({ subject: o.subject, data: o.buf, reply: o.reply === "" ? undefined : o.reply, streamed: true, pieces: o.pieces });
      open = null;
      nc.streaming = null;
    },
    streamAbort() {
      open = null;
      nc.streaming = null;
    },
  };
  return { nc: nc as unknown as NatsConnection, sent };
}

// ---- base64 --------------------------------------------------------------------------------------

describe("base64", () => {
  test("the encoder matches Buffer for every length up to 64, fed at every split point", () => {
    for (let n = 0; n <= 64; n++) {
      const src = bytesOf(n, n);
      const want = Buffer.from(src).toString("base64");
      for (let at = 0; at <= n; at++) {
        const e = new Base64Encoder();
        const out = new Uint8Array(base64Length(n) + 8);
        let pos = e.encode(src, 0, at, out, 0);
        pos = e.encode(src, at, n, out, pos);
        pos = e.finish(out, pos);
        expect(Buffer.from(out.subarray(0, pos)).toString("latin1")).toBe(want);
        expect(pos).toBe(base64Length(n));
      }
    }
  });

  test("the decoder round-trips every length up to 64 at every split point, through a 3-byte buffer", () => {
    for (let n = 0; n <= 64; n++) {
      const src = bytesOf(n, 2 * n);
      const text = enc.encode(Buffer.from(src).toString("base64"));
      for (let at = 0; at <= text.length; at++) {
        const got: number[] = [];
        const d = new Base64Decoder(new Uint8Array(3), { write: (b: Uint8Array) => got.push(...b) });
        d.decode(text, 0, at);
        d.decode(text, at, text.length);
        d.finish();
        expect(Uint8Array.from(got)).toEqual(src);
      }
    }
  });

  test("the decoder accepts missing padding and skips whitespace", () => {
    const got: number[] = [];
    const d = new Base64Decoder(new Uint8Array(6), { write: (b: Uint8Array) => got.push(...b) });
    const t = enc.encode("aGVs\r\nbG8 gd29y bGQ");
    d.decode(t, 0, t.length);
    d.finish();
    expect(Buffer.from(got).toString()).toBe("hello world");
  });

  test.each([
    ["a character outside the alphabet", "aGV*bG8="],
    ["base64url characters", "aGV-bG8_"],
    ["padding in the middle", "aG=sbG8="],
    ["data after the padding", "aGk=aGk="],
    ["a lone character in the last quantum", "aGVsb"],
    ["stray bits in the last character", "aGl="],
    ["too much padding", "aGVsbA==="],
    ["incomplete padding", "aGVsbA="],
  ])("the decoder refuses %s with Base64Error", (_what, text) => {
    const d = new Base64Decoder(new Uint8Array(3), { write: () => {} });
    const t = enc.encode(text);
    expect(() => {
      d.decode(t, 0, t.length);
      d.finish();
    }).toThrow(Base64Error);
  });
});

// ---- reading every dialect ------------------------------------------------------------------------

describe("envelope reader", () => {
  const fixtures = dialectFixtures();

  test.each(fixtures.map((f) => [f[0], f]))("reads %s whole, at every split point and byte by byte", (_name, f) => {
    const [, json, payloads] = f as [string, string, typeof PAYLOADS];
    const bytes = enc.encode(json);
    const scanner = new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048 });
    const whole = scan(bytes, 0, scanner);
    checkFields(whole);
    checkPayloads(whole, payloads);
    checkPayloads(scan(bytes, 1, scanner), payloads);
    checkPayloads(scan(bytes, 7, scanner), payloads);
    // the dialects differ in key names, not in the byte-level reading: the older ones (and JSON
    // carried as itself) at every split point, the v1 and Python base64 forms at every third
    const spelled = /^(v1|python) /.test(_name as string) && !(_name as string).includes("JSON");
    const step = bytes.length > 3000 ? 37 : spelled ? 3 : 1;
    for (let at = 0; at <= bytes.length; at += step) {
      const env = scanSplit(bytes, at, scanner);
      checkFields(env);
      checkPayloads(env, payloads);
    }
  });

  test("hands direct bytes to a sink a decode buffer at a time, before the message ends", () => {
    const big = bytesOf(100_000, 9);
    const json = enc.encode(peerEnvelope([{ dataname: "big", type: "binary", bytes: big }]));
    const pieces: number[] = [];
    const got = new Uint8Array(big.length);
    let at = 0;
    let ended = false;
    const sink: PayloadSink = {
      write(b) {
        pieces.push(b.length);
        got.set(b, at);
        at += b.length;
      },
      end(p) {
        ended = p.size === big.length;
      },
    };
    const scanner = new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048, sink: () => sink });
    scanner.begin();
    for (let i = 0; i < json.length; i += 1024) {
      scanner.push(json.subarray(i, i + 1024));
      if (i === 50 * 1024) expect(at).toBeGreaterThan(30_000); // streamed, not held
    }
    const env = scanner.end();
    expect(ended).toBe(true);
    expect(env.payloads[0].data).toBeUndefined();
    expect(Math.max(...pieces)).toBeLessThanOrEqual(768);
    expect(Buffer.from(got).equals(Buffer.from(big))).toBe(true);
  });

  test("reads data that comes before transport, type and size (key order is free)", () => {
    const json = JSON.stringify({
      correlation_id: "c",
      payloads: [{ data: Buffer.from("hi").toString("base64"), size: 2, payload_type: "text", transport: "direct", dataname: "t" }, { data: "http://127.0.0.1:1/x", transport: "link", type: "binary", dataname: "l", size: 5 }],
    });
    const env = scan(enc.encode(json), 3);
    expect(env.payloads[0].data).toBe("hi");
    expect(env.payloads[1].transport).toBe("link");
    expect(env.payloads[1].url).toBe("http://127.0.0.1:1/x");
  });

  test("decodes base64 whatever the encoding field says, and JSON escapes inside it", () => {
    const b64 = Buffer.from(bytesOf(40)).toString("base64").replace(/\//g, "\\/");
    const json = `{"correlation_id":"c","payloads":[{"dataname":"x","type":"binary","transport":"direct","encoding":"none","size":40,"data":"${b64.slice(0, 10)}\\u0041${b64.slice(11)}"}]}`;
    // \u0041 is "A": substitute it into the expected text
    const text = b64.replace(/\\\//g, "/");
    const want = Buffer.from(text.slice(0, 10) + "A" + text.slice(11), "base64");
    const env = scan(enc.encode(json), 5);
    expect(Buffer.from(env.payloads[0].data as Uint8Array).equals(want)).toBe(true);
  });

  test.each(TIMESTAMPS.map((t) => [String(t[0]), t[1]]))("reads the timestamp %s as %s", (raw, want) => {
    const value = /^\d+$/.test(raw) ? Number(raw) : raw;
    expect(normalizeTimestamp(value)).toBe(want);
    const env = scan(enc.encode(JSON.stringify({ correlation_id: "c", timestamp: value, payloads: [] })));
    expect(env.timestamp).toBe(want);
  });

  test("keeps a timestamp it cannot read as it came", () => {
    expect(Number.isNaN(parseTimestamp("yesterday"))).toBe(true);
    expect(scan(enc.encode('{"correlation_id":"c","timestamp":"yesterday","payloads":[]}')).timestamp).toBe("yesterday");
  });
});

// ---- malformed input -------------------------------------------------------------------------------

describe("malformed envelopes get typed errors and the reader goes on", () => {
  const good = enc.encode(peerEnvelope([PAYLOADS[0]], FIELDS));
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const env = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ correlation_id: "c", msg_id: "m", ...extra, payloads: [{ id: "p", dataname: "x", type: "text", transport: "direct", encoding: "base64", size: 2, data: b64("hi"), ...payload }] });
  const cases: Array<[string, string, new (...a: never[]) => Error]> = [
    ["bad JSON: truncated", '{"correlation_id":"c","payloads":[{"dataname":"x"', EnvelopeSyntaxError],
    ["bad JSON: trailing garbage", `${env({})} x`, EnvelopeSyntaxError],
    ["bad JSON: unquoted key", '{correlation_id:"c","payloads":[]}', EnvelopeSyntaxError],
    ["bad JSON: trailing comma", '{"correlation_id":"c","payloads":[],}', EnvelopeSyntaxError],
    ["bad JSON: not an object", '["c"]', EnvelopeSyntaxError],
    ["bad JSON: an empty message", "", EnvelopeSyntaxError],
    ["bad JSON: a bad value", '{"correlation_id":"c","msg_id":tru,"payloads":[]}', EnvelopeSyntaxError],
    ["bad base64", env({ data: "aGk*" }), Base64Error],
    ["bad base64 (a lone character)", env({ data: "aGlhY" }), Base64Error],
    ["a size smaller than the data", env({ size: 1 }), PayloadSizeError],
    ["a size larger than the data", env({ size: 3 }), PayloadSizeError],
    ["a size that is not a number", env({ size: "two" }), EnvelopeFieldError],
    ["an unknown type", env({ type: "hologram" }), UnknownPayloadTypeError],
    ["a missing type", env({ type: undefined }), EnvelopeFieldError],
    ["a missing data", env({ data: undefined }), EnvelopeFieldError],
    ["a missing payloads", JSON.stringify({ correlation_id: "c" }), EnvelopeFieldError],
    ["payloads that are not an array", JSON.stringify({ correlation_id: "c", payloads: {} }), EnvelopeFieldError],
    ["a missing correlation_id", JSON.stringify({ msg_id: "m", payloads: [] }), EnvelopeFieldError],
    ["a bad transport", env({ transport: "pigeon" }), EnvelopeFieldError],
    ["a declared size beyond the limit", env({ size: 5_000_000 }), PayloadLimitError],
    ["a field beyond max_field_bytes", env({}, { metadata: { big: "x".repeat(5000) } }), PayloadLimitError],
    ["a dictionary that is not JSON", env({ type: "dictionary", data: b64("{nope"), size: 5 }), EnvelopeFieldError],
  ];
  test.each(cases)("%s", (_what, text, Err) => {
    const aborted: Error[] = [];
    const scanner = new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048, sink: (p) => (p.type === "dictionary" ? undefined : { write() {}, abort: (e) => aborted.push(e) }) });
    const bytes = enc.encode(text);
    let caught: unknown;
    try {
      scan(bytes, 0, scanner);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Err);
    expect(caught).toBeInstanceOf(BridgeError);
    expect(caught).toBeInstanceOf(NatsError);
    expect((caught as Error).message.length).toBeGreaterThan(20);
    // the same scanner reads the next envelope
    checkFields(scan(good, 0, new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048 })));
    const again = scan(good, 0, scanner);
    expect(again.payloads[0].dataname).toBe(PAYLOADS[0].dataname);
  });
});

// ---- writing ---------------------------------------------------------------------------------------

describe("envelope writer", () => {
  test("writes the current specification (payload_type, arrowtable/jsontable, encoding by content, ISO UTC timestamps, v4 UUIDs), checked by the specification's peer", async () => {
    const { nc, sent } = captureConnection();
    const sentEnv = await smartsend(
      nc,
      "dev.out",
      PAYLOADS.map((p) => ({ dataname: p.dataname, type: p.type, data: p.want.data })),
      { msg_purpose: "telemetry", reply_to: "dev.in", metadata: { fw: "1.0" } },
    );
    expect(sent.length).toBe(1);
    const raw = JSON.parse(Buffer.from(sent[0].data).toString());
    expect(Object.keys(raw)).toEqual(["correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name", "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id", "broker_url", "metadata", "payloads"]);
    expect(raw.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(raw.correlation_id).toMatch(v4);
    expect(raw.msg_id).toMatch(v4);
    expect(raw.correlation_id).toBe(sentEnv.correlation_id);
    expect(raw.send_to).toBe("dev.out");
    expect(raw.broker_url).toBe("nats://127.0.0.1:4222");
    for (const p of raw.payloads) {
      expect(Object.keys(p)).toEqual(["id", "dataname", "payload_type", "transport", "encoding", "size", "metadata", "data"]);
      expect(p.id).toMatch(v4);
    }
    expect(raw.payloads.map((p: { payload_type: string }) => p.payload_type)).toEqual(["text", "dictionary", "arrowtable", "arrowtable", "jsontable", "image", "audio", "video", "binary", "binary"]);
    expect(raw.payloads.map((p: { encoding: string }) => p.encoding)).toEqual(["base64", "json", "arrow-ipc", "arrow-ipc", "json", "base64", "base64", "base64", "base64", "base64"]);
    const peer = await peerRead(sent[0].data); // strict: the current specification
    PAYLOADS.forEach((f, i) => expect(Buffer.from(peer.payloads[i].bytes).equals(Buffer.from(f.bytes)), f.dataname).toBe(true));
    // and back: the device reads what it wrote
    const back = scan(sent[0].data, 100);
    expect(back.msg_purpose).toBe("telemetry");
    expect(back.reply_to).toBe("dev.in");
    expect(back.metadata).toEqual({ fw: "1.0" });
    checkPayloads(back, PAYLOADS);
  });

  test('writes the earlier dialect on request (dialect "v0": type, table, encoding base64), which the specification\'s v1 check refuses', async () => {
    const { nc, sent } = captureConnection();
    await smartsend(nc, "dev.out", PAYLOADS.map((p) => ({ dataname: p.dataname, type: p.type, data: p.want.data })), { dialect: "v0" });
    const raw = JSON.parse(Buffer.from(sent[0].data).toString());
    for (const p of raw.payloads) {
      expect(Object.keys(p)).toEqual(["id", "dataname", "type", "transport", "encoding", "size", "metadata", "data"]);
      expect(p.encoding).toBe("base64");
    }
    expect(raw.payloads.map((p: { type: string }) => p.type)).toEqual(["text", "dictionary", "table", "table", "jsontable", "image", "audio", "video", "binary", "binary"]);
    const peer = await peerRead(sent[0].data, { dialect: "v0" });
    PAYLOADS.forEach((f, i) => expect(Buffer.from(peer.payloads[i].bytes).equals(Buffer.from(f.bytes)), f.dataname).toBe(true));
    await expect(peerRead(sent[0].data)).rejects.toThrow(/payload_type/);
    checkPayloads(scan(sent[0].data, 100), PAYLOADS);
    await expect(smartsend(nc, "dev.out", [], { dialect: "v2" as "v1" })).rejects.toBeInstanceOf(NatsError);
  });

  test("streams a large envelope in pieces of at most 1024 bytes, with the size announced first", async () => {
    const { nc, sent } = captureConnection();
    const data = bytesOf(200_000, 5);
    await smartsend(nc, "dev.big", [{ dataname: "blob", type: "binary", data }]);
    expect(sent[0].streamed).toBe(true);
    expect(Math.max(...sent[0].pieces.slice(2, -2))).toBeLessThanOrEqual(1024);
    expect(sent[0].pieces.length).toBeGreaterThan(200);
    const back = scan(sent[0].data, 4096);
    expect(Buffer.from(back.payloads[0].data as Uint8Array).equals(Buffer.from(data))).toBe(true);
  });

  test("streams from a PayloadSource without holding the payload", async () => {
    const { nc, sent } = captureConnection();
    const size = 100_001;
    const reads: number[] = [];
    const source = {
      size,
      read(offset: number, into: Uint8Array) {
        reads.push(into.length);
        into.set(bytesOf(size, 6).subarray(offset, offset + into.length));
        return into.length;
      },
    };
    await smartsend(nc, "dev.src", [{ dataname: "s", type: "binary", data: source }]);
    expect(Math.max(...reads)).toBeLessThanOrEqual(768);
    const back = scan(sent[0].data, 999);
    expect(Buffer.from(back.payloads[0].data as Uint8Array).equals(Buffer.from(bytesOf(size, 6)))).toBe(true);
  });

  test("keeps the correlation_id and sets reply_to_msg_id when asked", async () => {
    const { nc, sent } = captureConnection();
    await smartsend(nc, "a", [{ dataname: "t", type: "text", data: "x" }], { correlation_id: "corr-1", reply_to_msg_id: "m-1" });
    const raw = JSON.parse(Buffer.from(sent[0].data).toString());
    expect(raw.correlation_id).toBe("corr-1");
    expect(raw.reply_to_msg_id).toBe("m-1");
  });

  test("refuses an unknown payload type and data of the wrong kind", async () => {
    const { nc } = captureConnection();
    await expect(smartsend(nc, "a", [{ dataname: "x", type: "hologram", data: new Uint8Array(1) }])).rejects.toBeInstanceOf(UnknownPayloadTypeError);
    await expect(smartsend(nc, "a", [{ dataname: "x", type: "image", data: "not bytes" }])).rejects.toThrow(/needs bytes/);
  });

  test("counts base64 and envelope overhead: the largest direct payload fits the limit exactly", async () => {
    for (const [maxPayload, options] of [
      [1048576, {}],
      [1048576, { size_threshold: 10_000 }],
      [5000, { sender_name: "sensör-7", metadata: { site: "roof" } }],
    ] as Array<[number, SendOptions]>) {
      const { nc, sent } = captureConnection(maxPayload);
      const n = maxDirectSize(nc, "dev.x", options, "blob", "binary");
      const limit = Math.min(maxPayload, options.size_threshold ?? Infinity);
      await smartsend(nc, "dev.x", [{ dataname: "blob", type: "binary", data: bytesOf(n) }], options);
      expect(sent[0].data.length).toBeLessThanOrEqual(limit);
      expect(sent[0].data.length).toBeGreaterThan(limit - 4); // the next base64 quantum would not fit
      await expect(smartsend(nc, "dev.x", [{ dataname: "blob", type: "binary", data: bytesOf(n + 1) }], options)).rejects.toBeInstanceOf(PayloadLimitError);
    }
    // under the server's default max_payload of 1 MiB, with the default fields
    const { nc } = captureConnection();
    expect(maxDirectSize(nc, "dev.x")).toBeGreaterThan(780_000);
  });
});

// ---- Arrow -----------------------------------------------------------------------------------------

describe("Arrow IPC writer", () => {
  test("writes every primitive type, with nulls, and apache-arrow reads it back", () => {
    const t0 = Date.UTC(2024, 4, 6, 7, 8, 9, 123);
    const bytes = arrowTable([
      { name: "i8", type: "int8", values: [-128, 0, 127] },
      { name: "i16", type: "int16", values: [-32768, null, 32767] },
      { name: "i32", type: "int32", values: [-2147483648, 1, 2147483647] },
      { name: "i64", type: "int64", values: [-(2 ** 53) + 1, BigInt("-9223372036854775808"), 2 ** 40] },
      { name: "u8", type: "uint8", values: [0, 200, 255] },
      { name: "u16", type: "uint16", values: [0, 60000, null] },
      { name: "u32", type: "uint32", values: [0, 4000000000, 1] },
      { name: "u64", type: "uint64", values: [0, BigInt("18446744073709551615"), 2 ** 52] },
      { name: "f32", type: "float32", values: [1.5, -0.25, null] },
      { name: "f64", type: "float64", values: [Math.PI, -1e300, 0] },
      { name: "ok", type: "bool", values: [true, null, false] },
      { name: "name", type: "utf8", values: ["sensör", "", null] },
      { name: "t_ms", type: "timestamp", values: [new Date(t0), t0 + 1, null], timezone: "UTC" },
      { name: "t_ns", type: "timestamp", unit: "ns", values: [new Date(t0), BigInt(t0) * 1000000n + 7n, null] },
      { name: "t_s", type: "timestamp", unit: "s", values: [new Date(t0), 1, 2] },
    ]);
    const t = tableFromIPC(bytes);
    expect(t.numRows).toBe(3);
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "i8:Int8",
      "i16:Int16",
      "i32:Int32",
      "i64:Int64",
      "u8:Uint8",
      "u16:Uint16",
      "u32:Uint32",
      "u64:Uint64",
      "f32:Float32",
      "f64:Float64",
      "ok:Bool",
      "name:Utf8",
      "t_ms:Timestamp<MILLISECOND, UTC>",
      "t_ns:Timestamp<NANOSECOND>",
      "t_s:Timestamp<SECOND>",
    ]);
    const col = (n: string) => t.getChild(n)!.toArray();
    const list = (n: string) => [...t.getChild(n)!];
    expect([...col("i8")]).toEqual([-128, 0, 127]);
    expect(list("i16")).toEqual([-32768, null, 32767]);
    expect([...col("i32")]).toEqual([-2147483648, 1, 2147483647]);
    expect(list("i64")).toEqual([BigInt(-(2 ** 53) + 1), BigInt("-9223372036854775808"), BigInt(2 ** 40)]);
    expect([...col("u8")]).toEqual([0, 200, 255]);
    expect(list("u16")).toEqual([0, 60000, null]);
    expect([...col("u32")]).toEqual([0, 4000000000, 1]);
    expect(list("u64")).toEqual([0n, BigInt("18446744073709551615"), BigInt(2 ** 52)]);
    expect(list("f32")).toEqual([1.5, -0.25, null]);
    expect([...col("f64")]).toEqual([Math.PI, -1e300, 0]);
    expect(list("ok")).toEqual([true, null, false]);
    expect(list("name")).toEqual(["sensör", "", null]);
    expect(list("t_ms")).toEqual([t0, t0 + 1, null]);
    expect(t.getChild("t_ns")!.data[0].values[1]).toBe(BigInt(t0) * 1000000n + 7n); // apache-arrow's get() gives ms
    expect(list("t_s")[0]).toBe(Math.floor(t0 / 1000) * 1000); // apache-arrow reads seconds as ms
  });

  test("a table payload from columns arrives as Arrow bytes apache-arrow reads", async () => {
    const { nc, sent } = captureConnection();
    await smartsend(nc, "dev.t", [{ dataname: "batch", type: "table", data: [{ name: "celsius", type: "float32", values: [20.5, 21] }] }]);
    const peer = await peerRead(sent[0].data);
    expect([...tableFromIPC(peer.payloads[0].bytes).getChild("celsius")!]).toEqual([20.5, 21]);
  });

  test("refuses unequal columns and unknown types", () => {
    expect(() => arrowTable([{ name: "a", type: "int8", values: [1] }, { name: "b", type: "int8", values: [] }])).toThrow(/values/);
    expect(() => arrowTable([{ name: "a", type: "decimal" as never, values: [1] }])).toThrow(/type/);
  });
});

describe("ids", () => {
  test("uuid4 gives distinct version 4 UUIDs", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const u = uuid4();
      expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(u);
    }
    expect(seen.size).toBe(2000);
  });
});

describe("memory", () => {
  test("the streaming paths allocate next to nothing per chunk (tools/bridge-heap.mjs)", async () => {
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(process.execPath, ["--import", "./host-sim/register.js", "--max-semi-space-size=256", "tools/bridge-heap.mjs"], { encoding: "utf8", timeout: 60_000 });
    const r = JSON.parse(out) as { receive_bytes_per_1024_byte_chunk: number; send_bytes_per_piece: number; receive_chunks: number };
    expect(r.receive_chunks).toBeGreaterThan(10_000);
    // a V8 typed-array view is about 100 bytes: less than one per 1024-byte chunk on receive, none on send
    expect(r.receive_bytes_per_1024_byte_chunk).toBeLessThan(256);
    expect(r.send_bytes_per_piece).toBeLessThan(64);
  }, 90_000);
});
