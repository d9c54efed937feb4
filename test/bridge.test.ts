// NATSBridge between nats-xs (the built dist/ code through the host simulator) and an independent
// peer (the official nats.js client, an envelope writer/reader written from the NATSBridge README,
// apache-arrow), on a real nats-server, with the Plik-subset file server of tools/: envelopes both
// ways in every dialect, request/reply, the direct/link threshold, a 10 MB link payload through the
// device, resumed and retried transfers, and every malformed input with its typed error while the
// connection and the envelopes after it keep working.
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { tableFromIPC } from "apache-arrow";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import { NoRespondersError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import {
  Base64Error,
  EnvelopeFieldError,
  EnvelopeSyntaxError,
  LinkError,
  maxDirectSize,
  PayloadLimitError,
  PayloadSizeError,
  smartreceive,
  smartreply,
  smartrequest,
  smartsend,
  smartsubscribe,
  UnknownPayloadTypeError,
} from "nats-xs/bridge";
import type { MessageEnvelope, PayloadSink, ReceiveOptions } from "nats-xs/bridge";
import { startFileServer } from "../tools/fileserver.mjs";
import { Collector, Fixture, within } from "./helpers.js";
import type { ServerHandle, StatusLog } from "./helpers.js";
import { peerEnvelope, peerRead, peerUpload } from "./shared/bridge-peer.mjs";
import { FIELDS, PAYLOADS, bytesOf, dialectFixtures } from "./shared/bridge-fixtures.mjs";

type FileServer = Awaited<ReturnType<typeof startFileServer>>;

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let files: FileServer;
let xs: NatsConnection;
let xsStatus: StatusLog;
let js: JsConnection;
let seq = 0;
let s: string;
const enc = new TextEncoder();

beforeAll(async () => {
  server = await shared.server();
  files = await startFileServer();
});
afterAll(async () => {
  await files.close();
  await shared.cleanup();
});
beforeEach(async () => {
  s = `bridge.t${++seq}`;
  Object.assign(files.faults, { cutAfter: 0, cutCount: 0, ignoreRange: false, failUploads: 0 });
  ({ nc: xs, status: xsStatus } = await fx.xs({ servers: server.url, name: "device-7" }));
  js = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

/** Envelopes (or errors) the device receives on `subject`, one entry per message. */
function deviceInbox(subject: string, n: number, options: ReceiveOptions = {}) {
  const c = new Collector<{ err: Error | null; env: MessageEnvelope | null }>(n, `envelopes on ${subject}`, 20_000);
  smartsubscribe(xs, subject, { ...options, callback: (err, env) => c.push({ err, env }) });
  return c;
}

/** Raw messages the nats.js peer receives on `subject`. */
function peerInbox(subject: string, n: number) {
  const c = new Collector<Uint8Array>(n, `peer messages on ${subject}`, 20_000);
  js.subscribe(subject, { callback: (err, msg) => (err ? undefined : c.push(msg.data)) });
  return c;
}

async function settle(): Promise<void> {
  await Promise.all([xs.flush(), js.flush()]);
}

/** Bytes of a 10 MB pattern, computed on demand (neither side ever needs it whole). */
function patternAt(into: Uint8Array, offset: number): void {
  for (let i = 0; i < into.length; i++) {
    const p = offset + i;
    into[i] = (p * 13 + (p >>> 11)) & 255;
  }
}

function sha256Pattern(size: number): string {
  const h = createHash("sha256");
  const buf = new Uint8Array(65536);
  for (let at = 0; at < size; at += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, size - at));
    patternAt(piece, at);
    h.update(piece);
  }
  return h.digest("hex");
}

describe("device to peer", () => {
  test("every payload type in one envelope, read by the independent reader; the table by apache-arrow", async () => {
    const inbox = peerInbox(`${s}.out`, 1);
    await settle();
    const image = bytesOf(5000, 3);
    const sent = await smartsend(
      xs,
      `${s}.out`,
      [
        { dataname: "note", type: "text", data: "température ✓" },
        { dataname: "state", type: "dictionary", data: { mode: "eco", setpoint: 21.5 } },
        {
          dataname: "readings",
          type: "table",
          data: [
            { name: "t", type: "timestamp", values: [new Date(1714979289000), new Date(1714979290000)], timezone: "UTC" },
            { name: "celsius", type: "float64", values: [20.25, 20.5] },
            { name: "ok", type: "bool", values: [true, false] },
            { name: "site", type: "utf8", values: ["roof", "cellar"] },
            { name: "n", type: "int32", values: [1, 2] },
          ],
        },
        { dataname: "cam.jpg", type: "image", data: image, metadata: { w: 64 } },
      ],
      { msg_purpose: "telemetry" },
    );
    const [raw] = await inbox.done;
    const env = await peerRead(raw);
    expect(env.correlation_id).toBe(sent.correlation_id);
    expect(env.raw.sender_name).toBe("device-7");
    expect(env.raw.broker_url).toBe(`nats://${xs.getServer()}`);
    expect(env.payloads.map((p: { type: string }) => p.type)).toEqual(["text", "dictionary", "arrowtable", "image"]);
    expect(Buffer.from(env.payloads[0].bytes).toString()).toBe("température ✓");
    expect(JSON.parse(Buffer.from(env.payloads[1].bytes).toString())).toEqual({ mode: "eco", setpoint: 21.5 });
    const table = tableFromIPC(env.payloads[2].bytes);
    expect(table.toArray().map((r) => r.toJSON())).toEqual([
      { t: 1714979289000, celsius: 20.25, ok: true, site: "roof", n: 1 },
      { t: 1714979290000, celsius: 20.5, ok: false, site: "cellar", n: 2 },
    ]);
    expect(Buffer.from(env.payloads[3].bytes).equals(Buffer.from(image))).toBe(true);
    expect(env.payloads[3].metadata).toEqual({ w: 64 });
  });
});

describe("device to peer, concurrently", () => {
  test("two large envelopes sent at once on one connection both arrive whole (one stream at a time)", async () => {
    const inbox = peerInbox(`${s}.two`, 2);
    await settle();
    const a = bytesOf(150_000, 11);
    const b = bytesOf(120_000, 12);
    await Promise.all([
      smartsend(xs, `${s}.two`, [{ dataname: "a", type: "binary", data: a }]),
      smartsend(xs, `${s}.two`, [{ dataname: "b", type: "binary", data: b }]),
    ]);
    const got = await Promise.all((await inbox.done).map((raw) => peerRead(raw)));
    const byName = new Map(got.map((e) => [e.payloads[0].dataname, e.payloads[0].bytes]));
    expect(Buffer.from(byName.get("a")).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(byName.get("b")).equals(Buffer.from(b))).toBe(true);
  });
});

describe("peer to device", () => {
  test("envelopes in every dialect arrive through chunked delivery with their fields and payloads", async () => {
    const fixtures = dialectFixtures();
    const inbox = deviceInbox(`${s}.in`, fixtures.length);
    await settle();
    for (const [, json] of fixtures) js.publish(`${s}.in`, json);
    const got = await inbox.done;
    got.forEach(({ err, env }, i) => {
      const [name, , payloads] = fixtures[i];
      expect(err, name).toBeNull();
      const e = env as MessageEnvelope;
      expect(e.correlation_id, name).toBe(FIELDS.correlation_id);
      expect(e.reply_to, name).toBe(FIELDS.reply_to);
      expect(e.broker_url, name).toBe(FIELDS.broker_url);
      expect(e.metadata, name).toEqual(FIELDS.metadata);
      expect(e.subject).toBe(`${s}.in`);
      (payloads as typeof PAYLOADS).forEach((f, k) => {
        const p = e.payloads[k];
        expect(p.type, name).toBe(f.want.type);
        if (f.want.data instanceof Uint8Array) expect(Buffer.from(p.data as Uint8Array).equals(Buffer.from(f.want.data)), name).toBe(true);
        else expect(p.data, name).toEqual(f.want.data);
      });
    });
  });

  test("smartreceive reads a whole message of a plain subscription", async () => {
    const got = new Collector<MessageEnvelope>(1, "an envelope");
    xs.subscribe(`${s}.whole`, {
      callback: (_err, msg) => {
        if (msg) void smartreceive(msg).then((env) => got.push(env));
      },
    });
    await settle();
    js.publish(`${s}.whole`, peerEnvelope([PAYLOADS[0], PAYLOADS[1]], FIELDS, "camel"));
    const [env] = await got.done;
    expect(env.msg_id).toBe(FIELDS.msg_id);
    expect(env.payloads[1].data).toEqual(PAYLOADS[1].want.data);
  });
});

describe("request and reply", () => {
  test("the device answers a command: correlation_id kept, reply_to_msg_id set, sent to reply_to", async () => {
    smartsubscribe(xs, `${s}.cmd`, {
      callback: (err, env) => {
        if (err !== null || env === null) return;
        void smartreply(xs, env, [{ dataname: "ack", type: "dictionary", data: { ok: true, got: env.payloads[0].data } }]);
      },
    });
    const inbox = peerInbox(`${s}.replies`, 1);
    await settle();
    js.publish(`${s}.cmd`, peerEnvelope([{ dataname: "cmd", type: "text", bytes: enc.encode("reboot") }], { correlation_id: "conv-42", msg_id: "m-1", reply_to: `${s}.replies`, sender_name: "backend" }));
    const reply = await peerRead((await inbox.done)[0]);
    expect(reply.correlation_id).toBe("conv-42");
    expect(reply.reply_to_msg_id).toBe("m-1");
    expect(reply.raw.receiver_name).toBe("backend");
    expect(JSON.parse(Buffer.from(reply.payloads[0].bytes).toString())).toEqual({ ok: true, got: "reboot" });
  });

  test("the device asks the peer with smartrequest and gets the envelope that answers it", async () => {
    js.subscribe(`${s}.svc`, {
      callback: async (_err, msg) => {
        const req = await peerRead(msg.data);
        js.publish(req.reply_to, peerEnvelope([{ dataname: "answer", type: "text", bytes: enc.encode("pong") }], { correlation_id: req.correlation_id, reply_to_msg_id: req.msg_id }));
      },
    });
    await settle();
    const env = await smartrequest(xs, `${s}.svc`, [{ dataname: "q", type: "text", data: "ping" }], { correlation_id: "conv-7", timeout_ms: 5000 });
    expect(env.correlation_id).toBe("conv-7");
    expect(env.payloads[0].data).toBe("pong");
  });

  test("smartrequest without a responder fails with NoRespondersError", async () => {
    await expect(smartrequest(xs, `${s}.nobody`, [{ dataname: "q", type: "text", data: "?" }], { timeout_ms: 3000 })).rejects.toBeInstanceOf(NoRespondersError);
  });
});

describe("direct or link", () => {
  test("a payload just under the threshold goes direct, one byte more goes by link", async () => {
    const threshold = 20_000;
    const options = { size_threshold: threshold, fileserver_url: files.url };
    const n = maxDirectSize(xs, `${s}.th`, options, "blob", "binary");
    expect(n).toBeGreaterThan(14_000);
    const inbox = peerInbox(`${s}.th`, 2);
    await settle();
    await smartsend(xs, `${s}.th`, [{ dataname: "blob", type: "binary", data: bytesOf(n, 1) }], options);
    await smartsend(xs, `${s}.th`, [{ dataname: "blob", type: "binary", data: bytesOf(n + 1, 2) }], options);
    const [under, over] = await inbox.done;
    expect(under.length).toBeLessThanOrEqual(threshold);
    const a = await peerRead(under);
    const b = await peerRead(over);
    expect(a.payloads[0].transport).toBe("direct");
    expect(b.payloads[0].transport).toBe("link");
    expect(Buffer.from(a.payloads[0].bytes).equals(Buffer.from(bytesOf(n, 1)))).toBe(true);
    expect(Buffer.from(b.payloads[0].bytes).equals(Buffer.from(bytesOf(n + 1, 2)))).toBe(true);
  });

  test("the largest direct payload under the server's default max_payload goes direct, and one byte more does not", async () => {
    expect(xs.info?.max_payload).toBe(1048576);
    const n = maxDirectSize(xs, `${s}.max`, {}, "blob", "binary");
    const inbox = deviceInbox(`${s}.max`, 1, { max_held_bytes: 1 << 20 });
    const peer = peerInbox(`${s}.max`, 1);
    await settle();
    await smartsend(xs, `${s}.max`, [{ dataname: "blob", type: "binary", data: bytesOf(n, 4) }]);
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect((env as MessageEnvelope).payloads[0].transport).toBe("direct");
    expect(Buffer.from((env as MessageEnvelope).payloads[0].data as Uint8Array).equals(Buffer.from(bytesOf(n, 4)))).toBe(true);
    expect((await peer.done)[0].length).toBeGreaterThan(1048576 - 4);
    await expect(smartsend(xs, `${s}.max`, [{ dataname: "blob", type: "binary", data: bytesOf(n + 1) }])).rejects.toBeInstanceOf(PayloadLimitError);
    console.log(`largest direct payload under max_payload 1048576 (dataname "blob", default fields): ${n} bytes`);
  });
});

describe("large payloads through the device", () => {
  test("progress callbacks can be thinned out by bytes (progress_bytes) or time (progress_ms); the last piece is always reported", async () => {
    const size = 1024 * 1024;
    const file = new Uint8Array(size);
    patternAt(file, 0);
    const url = await peerUpload(files.url, file, "mid.bin");
    const down: number[] = [];
    const inbox = deviceInbox(`${s}.thin`, 1, {
      max_size: 2 * size,
      progress: (_dir, _name, done) => down.push(done),
      progress_bytes: 256 * 1024,
      sink: (): PayloadSink => ({ write() {} }),
    });
    await settle();
    js.publish(`${s}.thin`, peerEnvelope([{ dataname: "mid.bin", type: "binary", transport: "link", url, size }]));
    const [{ err }] = await within(inbox.done, "the 1 MB download", 30_000);
    expect(err).toBeNull();
    // a call once 256 KiB more have passed (three of them in 1 MiB of pieces of at most 1 KB), then the end
    expect(down.length).toBe(4);
    expect(down[0]).toBeGreaterThanOrEqual(256 * 1024);
    for (let i = 1; i < down.length - 1; i++) expect(down[i] - down[i - 1]).toBeGreaterThanOrEqual(256 * 1024);
    expect(down[down.length - 1]).toBe(size);
    // a gap in time longer than any transfer here: only the last piece is reported
    const up: string[] = [];
    await smartsend(xs, `${s}.thin.out`, [{ dataname: "up.bin", type: "binary", data: file }], {
      fileserver_url: files.url,
      size_threshold: 1024,
      progress: (dir, _name, done, total) => up.push(`${dir} ${done}/${total}`),
      progress_ms: 600_000,
    });
    expect(up).toEqual([`upload ${size}/${size}`]);
  });

  test("a 10 MB link payload: down into a sink, then up again from a source, never held whole", async () => {
    const size = 10 * 1024 * 1024;
    // the peer stores the file and announces it
    const file = new Uint8Array(size);
    patternAt(file, 0);
    const url = await peerUpload(files.url, file, "big.bin");
    const want = createHash("sha256").update(file).digest("hex");
    // the device takes it into a sink that keeps only a hash
    const pieces = { max: 0, count: 0 };
    const hash = createHash("sha256");
    const progress: number[] = [];
    const inbox = deviceInbox(`${s}.big`, 1, {
      max_size: 16 * 1024 * 1024,
      progress: (_dir, _name, done) => progress.push(done),
      sink: (): PayloadSink => ({
        write(b) {
          pieces.max = Math.max(pieces.max, b.length);
          pieces.count++;
          hash.update(b);
        },
      }),
    });
    await settle();
    js.publish(`${s}.big`, peerEnvelope([{ dataname: "big.bin", type: "binary", transport: "link", url, size }]));
    const [{ err, env }] = await within(inbox.done, "the 10 MB download", 60_000);
    expect(err).toBeNull();
    expect(env!.payloads[0].size).toBe(size);
    expect(hash.digest("hex")).toBe(want);
    expect(pieces.max).toBeLessThanOrEqual(1024); // the HTTP read buffer: the bound of a piece
    expect(progress[progress.length - 1]).toBe(size);
    // and the device sends it on from a source that computes each piece on demand
    const reads = { max: 0 };
    const peer = peerInbox(`${s}.big.out`, 1);
    await settle();
    const up: number[] = [];
    await smartsend(
      xs,
      `${s}.big.out`,
      [
        {
          dataname: "again.bin",
          type: "binary",
          data: {
            size,
            read(offset: number, into: Uint8Array) {
              reads.max = Math.max(reads.max, into.length);
              patternAt(into, offset);
              return into.length;
            },
          },
        },
      ],
      { fileserver_url: files.url, progress: (_d, _n, done) => up.push(done) },
    );
    expect(reads.max).toBeLessThanOrEqual(1024);
    expect(up[up.length - 1]).toBe(size);
    const out = await peerRead((await peer.done)[0]);
    expect(out.payloads[0].transport).toBe("link");
    expect(out.payloads[0].size).toBe(size);
    expect(createHash("sha256").update(out.payloads[0].bytes).digest("hex")).toBe(sha256Pattern(size));
  }, 120_000);

  test("a download cut off in the middle resumes with Range", async () => {
    const data = bytesOf(300_000, 8);
    const url = await peerUpload(files.url, data, "cut.bin");
    files.faults.cutAfter = 100_000;
    files.faults.cutCount = 1;
    const before = files.stats.ranges.length;
    const inbox = deviceInbox(`${s}.cut`, 1, { base_delay: 10, max_held_bytes: 1 << 20 });
    await settle();
    js.publish(`${s}.cut`, peerEnvelope([{ dataname: "cut.bin", type: "binary", transport: "link", url, size: data.length }]));
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect(Buffer.from(env!.payloads[0].data as Uint8Array).equals(Buffer.from(data))).toBe(true);
    const ranges = files.stats.ranges.slice(before);
    expect(ranges.length).toBe(1);
    expect(Number(/bytes=(\d+)-/.exec(ranges[0])![1])).toBeGreaterThan(0);
  });

  test("when the server ignores Range, the resumed download skips what the sink already has", async () => {
    const data = bytesOf(200_000, 9);
    const url = await peerUpload(files.url, data, "norange.bin");
    Object.assign(files.faults, { cutAfter: 50_000, cutCount: 1, ignoreRange: true });
    const inbox = deviceInbox(`${s}.norange`, 1, { base_delay: 10, max_held_bytes: 1 << 20 });
    await settle();
    js.publish(`${s}.norange`, peerEnvelope([{ dataname: "norange.bin", type: "binary", transport: "link", url, size: data.length }]));
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect(Buffer.from(env!.payloads[0].data as Uint8Array).equals(Buffer.from(data))).toBe(true);
  });

  test("an upload answered 503 is retried with backoff", async () => {
    files.faults.failUploads = 2;
    const inbox = peerInbox(`${s}.retry`, 1);
    await settle();
    const data = bytesOf(50_000, 10);
    await smartsend(xs, `${s}.retry`, [{ dataname: "r.bin", type: "binary", data, transport: "link" }], { fileserver_url: files.url, base_delay: 10 });
    expect(files.faults.failUploads).toBe(0);
    const env = await peerRead((await inbox.done)[0]);
    expect(Buffer.from(env.payloads[0].bytes).equals(Buffer.from(data))).toBe(true);
  });
});

describe("malformed input: a typed error, and the connection and later envelopes keep working", () => {
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  const one = (p: Record<string, unknown>) =>
    JSON.stringify({ correlation_id: "c", msg_id: "m", payloads: [{ id: "p", dataname: "x", type: "text", transport: "direct", encoding: "base64", size: 2, data: b64("hi"), ...p }] });

  const cases: Array<[string, () => Promise<string> | string, new (...a: never[]) => Error, ReceiveOptions?]> = [
    ["bad JSON", () => '{"correlation_id":"c","payloads":[', EnvelopeSyntaxError],
    ["bad base64", () => one({ data: "aGk$" }), Base64Error],
    ["a size that does not match", () => one({ size: 3 }), PayloadSizeError],
    ["an unknown type", () => one({ type: "smell" }), UnknownPayloadTypeError],
    ["missing fields", () => JSON.stringify({ correlation_id: "c" }), EnvelopeFieldError],
    ["an unreachable link", () => one({ transport: "link", data: "http://127.0.0.1:9/file/a/b/c", size: 10 }), LinkError, { max_retries: 1, base_delay: 10 }],
    [
      "a link body longer than declared",
      async () => one({ transport: "link", data: await peerUpload(files.url, bytesOf(2000), "long.bin"), size: 1000, type: "binary" }),
      PayloadSizeError,
    ],
    ["a declared size beyond the device's limit", () => one({ size: 50_000, type: "binary" }), PayloadLimitError, { max_size: 10_000 }],
  ];

  test.each(cases)("%s", async (_what, make, Err, options) => {
    const inbox = deviceInbox(`${s}.bad`, 3, options ?? {});
    await settle();
    js.publish(`${s}.bad`, await make());
    js.publish(`${s}.bad`, peerEnvelope([PAYLOADS[0]], FIELDS));
    js.publish(`${s}.bad`, peerEnvelope([PAYLOADS[5]], FIELDS, "camel"));
    const [bad, good, good2] = await inbox.done;
    expect(bad.err).toBeInstanceOf(Err);
    expect(bad.env).toBeNull();
    expect(good.err).toBeNull();
    expect(good.env!.payloads[0].data).toBe(PAYLOADS[0].want.data);
    expect(good2.err).toBeNull();
    expect(Buffer.from(good2.env!.payloads[0].data as Uint8Array).equals(Buffer.from(PAYLOADS[5].bytes))).toBe(true);
    expect(xs.isClosed()).toBe(false);
    expect(xsStatus.types()).not.toContain("disconnect");
    await xs.flush();
  });
});
