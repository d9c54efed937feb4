// The bridge's second link store: link payloads in a JetStream Object Store bucket (nats-os://
// links), between nats-xs (the built dist/ code through the host simulator) and nats.js with
// @nats-io/obj as the independent peer, on a real nats-server with JetStream: device to peer, peer
// to device, an HTTP-only NATSBridge peer parsing the envelope, a missing object, a missing
// bucket, bad and unlisted buckets, a digest that does not match, and a build without nats-xs/obj.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Objm as PeerObjm } from "@nats-io/obj";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import { InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { DigestError, LinkError, objectLinkUrl, PayloadSizeError, smartreceive, smartsend, smartsubscribe, validateObjectLink } from "nats-xs/bridge";
import type { MessageEnvelope, PayloadSink, ReceiveOptions } from "nats-xs/bridge";
import { Objm } from "nats-xs/obj";
import { Collector, Fixture, pattern, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";
import { peerEnvelope } from "./shared/bridge-peer.mjs";

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let xs: NatsConnection;
let js: JsConnection;
let seq = 0;
let s: string;
let B: string;

beforeAll(async () => {
  server = await shared.server({ jetstream: true });
});
afterAll(() => shared.cleanup());
beforeEach(async () => {
  seq++;
  s = `objlink.t${seq}`;
  B = `links${seq}`;
  ({ nc: xs } = await fx.xs({ servers: server.url, name: "device-7" }));
  js = await fx.js({ servers: server.url });
  await new PeerObjm(js).create(B);
});
afterEach(() => fx.cleanup());

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** A sink factory that hashes what each payload gets (never keeping the bytes). */
function hashing() {
  const got = new Map<string, { bytes: number; largest: number; hash: ReturnType<typeof createHash>; ended: boolean; aborted: Error | null }>();
  const factory = (p: { dataname: string }): PayloadSink => {
    const r = { bytes: 0, largest: 0, hash: createHash("sha256"), ended: false, aborted: null as Error | null };
    got.set(p.dataname, r);
    return {
      write(v: Uint8Array) {
        r.hash.update(v);
        r.bytes += v.length;
        if (v.length > r.largest) r.largest = v.length;
      },
      end() {
        r.ended = true;
      },
      abort(e: Error) {
        r.aborted = e;
      },
    };
  };
  return { factory, got };
}

/** Envelopes (or errors) the device receives on `subject`, one entry per message. */
function deviceInbox(subject: string, n: number, options: ReceiveOptions = {}) {
  const c = new Collector<{ err: Error | null; env: MessageEnvelope | null }>(n, `envelopes on ${subject}`, 30_000);
  smartsubscribe(xs, subject, { ...options, callback: (err, env) => c.push({ err, env }) });
  return c;
}

/** Raw messages the nats.js peer receives on `subject`. */
function peerInbox(subject: string, n: number) {
  const c = new Collector<Uint8Array>(n, `peer messages on ${subject}`, 30_000);
  js.subscribe(subject, { callback: (err, msg) => (err ? undefined : c.push(msg.data)) });
  return c;
}

/** The peer puts `data` as an object with nats.js and returns the link a sender would write. */
async function peerPut(name: string, data: Uint8Array): Promise<{ url: string; digest: string }> {
  const info = await (await new PeerObjm(js).open(B)).putBlob({ name, options: { max_chunk_size: 128 * 1024 } }, data);
  return { url: objectLinkUrl(B, name), digest: info.digest };
}

async function flushed(): Promise<void> {
  await Promise.all([xs.flush(), js.flush()]);
}

describe("device to peer", () => {
  test("a large payload goes into the bucket; the peer reads the object the envelope names with @nats-io/obj", async () => {
    const inbox = peerInbox(`${s}.out`, 1);
    await flushed();
    const data = pattern(300_000, 1);
    const sent = await smartsend(xs, `${s}.out`, [
      { dataname: "note", type: "text", data: "hello" },
      { dataname: "cam 1/frame.jpg", type: "image", data },
    ], { object_store: B, size_threshold: 4096 });
    const [raw] = await inbox.done;
    const o = JSON.parse(new TextDecoder().decode(raw));
    const [note, img] = o.payloads;
    expect(note.transport).toBe("direct");
    expect(img).toMatchObject({ transport: "link", encoding: "none", size: data.length, payload_type: "image", dataname: "cam 1/frame.jpg" });
    expect(img.data).toBe(sent.payloads[1].url);
    expect(img.data).toMatch(new RegExp(`^nats-os://${B}/[0-9a-f-]{36}/cam%201_frame\\.jpg$`));
    // what the envelope says resolves over NATS alone
    const slash = img.data.indexOf("/", "nats-os://".length);
    const bucket = img.data.substring("nats-os://".length, slash);
    const name = decodeURIComponent(img.data.substring(slash + 1));
    const pos = await new PeerObjm(js).open(bucket);
    const info = await pos.info(name);
    expect(info?.size).toBe(data.length);
    expect(info?.digest).toBe(img.metadata.digest);
    const got = await pos.getBlob(name);
    expect(sha(got!)).toBe(sha(data));
  });

  test("a PayloadSource streams into the bucket in pieces, with progress", async () => {
    const inbox = peerInbox(`${s}.out`, 1);
    await flushed();
    const data = pattern(200_000, 2);
    let largestRead = 0;
    const calls: number[] = [];
    const src = {
      size: data.length,
      async read(offset: number, into: Uint8Array) {
        if (into.length > largestRead) largestRead = into.length;
        const n = Math.min(into.length, data.length - offset);
        into.set(data.subarray(offset, offset + n));
        return n;
      },
    };
    await smartsend(xs, `${s}.out`, [{ dataname: "log.bin", type: "binary", data: src }], {
      object_store: B,
      size_threshold: 4096,
      progress: (dir, _name, done) => {
        if (dir === "upload") calls.push(done);
      },
    });
    const o = JSON.parse(new TextDecoder().decode((await inbox.done)[0]));
    const url: string = o.payloads[0].data;
    const got = await (await new PeerObjm(js).open(B)).getBlob(decodeURIComponent(url.substring(url.indexOf("/", 10) + 1)));
    expect(sha(got!)).toBe(sha(data));
    expect(largestRead).toBe(1024);
    expect(calls[calls.length - 1]).toBe(data.length);
  });

  test("an HTTP-only NATSBridge peer parses the envelope and gets a clear error for the link, not a crash", async () => {
    const inbox = peerInbox(`${s}.out`, 1);
    await flushed();
    await smartsend(xs, `${s}.out`, [{ dataname: "x.bin", type: "binary", data: pattern(5000, 3) }], { object_store: B, size_threshold: 1024 });
    const raw = new TextDecoder().decode((await inbox.done)[0]);
    // every field of the specification is there, as for an HTTP link
    const o = JSON.parse(raw);
    for (const k of ["correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name", "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id", "broker_url"]) expect(typeof o[k]).toBe("string");
    const p = o.payloads[0];
    for (const k of ["id", "dataname", "payload_type", "transport", "encoding", "data"]) expect(typeof p[k]).toBe("string");
    expect(p.size).toBe(5000);
    // NATSBridge.js downloads a link with fetch(): it rejects with a TypeError naming the scheme
    const err = (await fetch(p.data).catch((e: unknown) => e)) as Error & { cause?: Error };
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err.cause?.message ?? err.message)).toMatch(/scheme/);
  });

  test("send options: object_store must be a bucket name, and not given with fileserver_url", async () => {
    const payloads = [{ dataname: "x", type: "binary", data: pattern(5000) }];
    await expect(smartsend(xs, `${s}.out`, payloads, { object_store: "a.b", size_threshold: 1024 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(smartsend(xs, `${s}.out`, payloads, { object_store: B, fileserver_url: "http://127.0.0.1:8080", size_threshold: 1024 })).rejects.toThrow(/not both/);
    // a bucket that does not exist is a LinkError before anything is published
    const err = await smartsend(xs, `${s}.out`, payloads, { object_store: "nosuchbucket", size_threshold: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkError);
    expect((err as Error).message).toMatch(/no object store bucket "nosuchbucket"/);
  });
});

describe("peer to device", () => {
  test("a 1 MB object nats.js wrote in 128 KB chunks streams into the device's sink, digest checked", async () => {
    const data = pattern(1 << 20, 4);
    const { url, digest } = await peerPut("fw/image 2.bin", data);
    expect(url).toBe(`nats-os://${B}/fw/image%202.bin`);
    const sinks = hashing();
    const inbox = deviceInbox(`${s}.in`, 1, { object_store: B, sink: sinks.factory, max_size: 4 << 20, require_digest: true });
    await flushed();
    js.publish(`${s}.in`, peerEnvelope([{ dataname: "fw", type: "binary", transport: "link", url, size: data.length, metadata: { digest } }]));
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect(env!.payloads[0].url).toBe(url);
    const r = sinks.got.get("fw")!;
    expect(r.ended).toBe(true);
    expect(r.bytes).toBe(data.length);
    expect(r.hash.digest("hex")).toBe(sha(data));
    expect(r.largest).toBeLessThan(128 * 1024);
  });

  test("a device sends to a device through the bucket, the payload collected without a sink", async () => {
    const inbox = deviceInbox(`${s}.in`, 1, { link_buckets: [B], max_held_bytes: 65536 });
    await flushed();
    const data = pattern(40_000, 5);
    await smartsend(xs, `${s}.in`, [{ dataname: "blob", type: "binary", data }], { object_store: B, size_threshold: 2048 });
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect(sha(env!.payloads[0].data as Uint8Array)).toBe(sha(data));
  });

  test("smartreceive reads an object link over the connection it is given", async () => {
    const data = pattern(20_000, 6);
    const { url, digest } = await peerPut("r.bin", data);
    const got = new Collector<Promise<MessageEnvelope>>(1, "messages", 20_000);
    xs.subscribe(`${s}.in`, { callback: (_e, msg) => got.push(smartreceive(msg, { object_store: B, connection: xs, max_held_bytes: 65536 })) });
    const plain = new Collector<unknown>(1, "messages", 20_000);
    xs.subscribe(`${s}.in`, { callback: (_e, msg) => plain.push(smartreceive(msg, { object_store: B, max_held_bytes: 65536 }).catch((e: unknown) => e)) });
    await flushed();
    js.publish(`${s}.in`, peerEnvelope([{ dataname: "r", type: "binary", transport: "link", url, size: data.length, metadata: { digest } }]));
    const env = await within((await got.done)[0], "smartreceive", 20_000);
    expect(sha(env.payloads[0].data as Uint8Array)).toBe(sha(data));
    // without a connection there is nothing to read the bucket over: said so
    const err = await (await plain.done)[0];
    expect(err).toBeInstanceOf(LinkError);
    expect((err as Error).message).toMatch(/needs a NATS connection/);
  });
});

describe("hostile and broken links", () => {
  test("a missing object, a missing bucket, a digest that does not match, a wrong size: typed errors, and the subscription goes on", async () => {
    const data = pattern(10_000, 7);
    const { url, digest } = await peerPut("ok.bin", data);
    const other = await peerPut("other.bin", pattern(10_000, 8));
    const sinks = hashing();
    const inbox = deviceInbox(`${s}.in`, 5, { link_buckets: [B, "gone"], sink: sinks.factory, max_pending: 8 });
    await flushed();
    const send = (u: string, size: number, meta: Record<string, unknown> = {}) =>
      js.publish(`${s}.in`, peerEnvelope([{ dataname: "p", type: "binary", transport: "link", url: u, size, metadata: meta }]));
    send(objectLinkUrl(B, "no-such-object"), 10);
    send("nats-os://gone/x", 10);
    send(url, data.length, { digest: other.digest });
    send(url, data.length + 1, { digest });
    send(url, data.length, { digest });
    const got = await inbox.done;
    expect(got[0].err).toBeInstanceOf(LinkError);
    expect(got[0].err!.message).toMatch(/no object "no-such-object" in bucket/);
    expect((got[0].err as LinkError).status).toBe(404);
    expect(got[1].err).toBeInstanceOf(LinkError);
    expect(got[1].err!.message).toMatch(/no object store bucket "gone"/);
    expect(got[2].err).toBeInstanceOf(DigestError);
    expect((got[2].err as DigestError).actual).toBe(digest);
    expect(got[3].err).toBeInstanceOf(PayloadSizeError);
    expect(got[4].err).toBeNull();
    expect(sinks.got.get("p")!.hash.digest("hex")).toBe(sha(data));
  });

  test("bad bucket names and unlisted buckets are refused before anything is read; http links keep their allowlist", async () => {
    const { url } = await peerPut("ok.bin", pattern(100, 9));
    const inbox = deviceInbox(`${s}.in`, 7, { object_store: B, max_pending: 8 });
    await flushed();
    const send = (u: string) => js.publish(`${s}.in`, peerEnvelope([{ dataname: "p", type: "binary", transport: "link", url: u, size: 100 }]));
    send("nats-os://bad.bucket/x"); // a dot would change the stream's subjects
    send("nats-os://OBJ_x>/x");
    send(`nats-os://${B}`);
    send(`nats-os://${B}/%ZZ`);
    send("nats-os://other/ok.bin"); // valid, but not this receiver's
    send("http://10.1.2.3:8080/file/a/b/c"); // object_store allows no http host
    send(url);
    const got = await inbox.done;
    expect(got.slice(0, 6).map((g) => g.err?.name)).toEqual(Array(6).fill("LinkError"));
    expect(got[0].err!.message).toMatch(/bad bucket name/);
    expect(got[1].err!.message).toMatch(/character '>'|bad bucket name/);
    expect(got[2].err!.message).toMatch(/no object name/);
    expect(got[3].err!.message).toMatch(/'%' not followed/);
    expect(got[4].err!.message).toMatch(/not on this receiver's link_buckets \(links\d+\)/);
    expect(got[5].err!.message).toMatch(/not on this receiver's link_hosts/);
    expect(got[6].err).toBeNull();
  });

  test("validateObjectLink: the form and its bounds", () => {
    expect(validateObjectLink("nats-os://b-1_X/a/b%20c")).toMatchObject({ bucket: "b-1_X", name: "a/b c" });
    for (const bad of ["nats-os://", "nats-os:///x", "nats-os://b/", `nats-os://b/${"x".repeat(1100)}`, "nats-os://b/%00", "nats-os://b/a b", `nats-os://${"b".repeat(241)}/x`, "http://b/x"])
      expect(() => validateObjectLink(bad)).toThrow(LinkError);
  });

  test("a build without nats-xs/obj gets TransportUnavailableError naming manifests/nats-xs-obj", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "./host-sim/register.js", "--import", "./test/shared/without-obj.mjs", "test/shared/plain-build-obj.mjs", server.url, B],
      { timeout: 30_000 },
    );
    expect(stdout.trim()).toMatch(/^TransportUnavailableError TRANSPORT_UNAVAILABLE the object link nats-os:\/\/\S+ needs the module nats-xs\/obj.*manifests\/nats-xs-obj\/manifest\.json/);
  });
});

test("the bridge bundle does not import nats-xs/obj statically", async () => {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile("dist/nats-xs-bridge.js", "utf8");
  expect(text).not.toMatch(/^import[^;]*from ['"]nats-xs\/obj['"]/m);
  expect(text).toMatch(/import\(['"]nats-xs\/obj['"]\)/);
  expect(Objm).toBeTypeOf("function");
});
