// nats-xs/obj (the built dist/ code through the host simulator) against a real nats-server with
// JetStream, with @nats-io/obj 3.4.0 as the independent peer both ways: 1 MB and 10 MB objects, a
// 128 KB-chunk object written by nats.js read in pieces on the device, a digest mismatch, a missing
// object and a missing bucket, list and delete seen by both.
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Objm as PeerObjm } from "@nats-io/obj";
import { jetstreamManager as peerManager } from "@nats-io/jetstream";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import type { NatsConnection } from "nats-xs";
import { InvalidArgumentError } from "nats-xs";
import { StreamNotFoundError } from "nats-xs/jetstream";
import { DigestMismatchError, ObjectNotFoundError, ObjectStoreError, Objm } from "nats-xs/obj";
import { Fixture, pattern, until } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let nc: NatsConnection;
let peer: JsConnection;
let seq = 0;
let B: string;

beforeAll(async () => {
  server = await shared.server({ jetstream: true });
});
afterAll(() => shared.cleanup());
beforeEach(async () => {
  B = `o${++seq}`;
  ({ nc } = await fx.xs({ servers: server.url, name: "device-obj" }));
  peer = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

/** A PayloadSource over `data` that hands out at most `step` bytes per read. */
function source(data: Uint8Array, step = 1000) {
  return {
    size: data.length,
    read(offset: number, into: Uint8Array): number {
      const n = Math.min(into.length, step, data.length - offset);
      into.set(data.subarray(offset, offset + n));
      return n;
    },
  };
}

/** A sink that hashes what it gets and keeps the largest piece size (never the bytes). */
function hashingSink() {
  const h = createHash("sha256");
  const s = { bytes: 0, largest: 0, write(v: Uint8Array) {
    h.update(v);
    s.bytes += v.length;
    if (v.length > s.largest) s.largest = v.length;
  }, digest: () => h.digest("hex") };
  return s;
}

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

async function peerBytes(os: Awaited<ReturnType<PeerObjm["open"]>>, name: string): Promise<Uint8Array | null> {
  return os.getBlob(name);
}

describe("objects shared with nats.js", () => {
  test("a 1 MB object put by nats-xs (128 KB chunks from a PayloadSource) is read by nats.js", async () => {
    const os = await new Objm(nc).create(B);
    const data = pattern(1 << 20, 1);
    const info = await os.put({ name: "frames/1.raw", description: "a frame" }, source(data, 3000));
    expect(info).toMatchObject({ name: "frames/1.raw", size: 1 << 20, chunks: 8, deleted: false, bucket: B });
    expect(info.digest).toMatch(/^SHA-256=[A-Za-z0-9_-]{43}=$/);
    const pos = await new PeerObjm(peer).open(B);
    const pinfo = await pos.info("frames/1.raw");
    expect(pinfo?.digest).toBe(info.digest);
    expect(pinfo?.description).toBe("a frame");
    const got = await peerBytes(pos, "frames/1.raw");
    expect(got?.length).toBe(data.length);
    expect(sha(got!)).toBe(sha(data));
  });

  test("an object put by nats-xs from an async iterable of pieces is read by nats.js", async () => {
    const os = await new Objm(nc).create(B);
    const data = pattern(100_000, 2);
    async function* pieces() {
      for (let i = 0; i < data.length; i += 777) yield data.subarray(i, Math.min(i + 777, data.length));
    }
    const info = await os.put({ name: "log.txt" }, pieces());
    expect(info.size).toBe(100_000);
    const got = await (await new PeerObjm(peer).open(B)).getBlob("log.txt");
    expect(sha(got!)).toBe(sha(data));
  });

  test("a 1 MB object written by nats.js in 128 KB chunks is read on the device in pieces, never a whole chunk", async () => {
    const pos = await new PeerObjm(peer).create(B);
    const data = pattern(1 << 20, 3);
    await pos.putBlob({ name: "fw.bin", options: { max_chunk_size: 128 * 1024 } }, data);
    const os = await new Objm(nc).open(B);
    const sink = hashingSink();
    const info = await os.get("fw.bin", sink);
    expect(info.chunks).toBe(8);
    expect(sink.bytes).toBe(data.length);
    expect(sink.digest()).toBe(sha(data));
    // the connection's receive buffer is 4 KB: pieces are what the socket handed over
    expect(sink.largest).toBeLessThanOrEqual(64 * 1024);
    expect(sink.largest).toBeLessThan(128 * 1024);
  });

  test("10 MB both ways: nats-xs to nats.js and nats.js to nats-xs", async () => {
    const os = await new Objm(nc).create(B);
    const pos = await new PeerObjm(peer).open(B);
    const data = pattern(10 << 20, 4);
    const mine = await os.put({ name: "big-xs" }, source(data, 4096));
    expect(mine.chunks).toBe(80);
    const got = await pos.getBlob("big-xs");
    expect(sha(got!)).toBe(sha(data));
    await pos.putBlob({ name: "big-js" }, data);
    const sink = hashingSink();
    await os.get("big-js", sink);
    expect(sink.bytes).toBe(data.length);
    expect(sink.digest()).toBe(sha(data));
  }, 60_000);

  test("getBlob reads a small object nats.js wrote; a larger one is refused with a hint", async () => {
    const pos = await new PeerObjm(peer).create(B);
    await pos.putBlob({ name: "cfg.json" }, new TextEncoder().encode('{"a":1}'));
    await pos.putBlob({ name: "empty" }, new Uint8Array(0));
    const os = await new Objm(nc).open(B);
    expect(new TextDecoder().decode((await os.getBlob("cfg.json"))!)).toBe('{"a":1}');
    expect((await os.getBlob("empty"))?.length).toBe(0);
    await expect(os.getBlob("cfg.json", 3)).rejects.toThrow(/get\(name, sink\)/);
  });

  test("list and delete are seen by both; a replaced object's old chunks are purged", async () => {
    const os = await new Objm(nc).create(B);
    const pos = await new PeerObjm(peer).open(B);
    await os.putBlob({ name: "a" }, pattern(1000));
    await pos.putBlob({ name: "b" }, pattern(2000));
    await os.putBlob({ name: "a" }, pattern(500, 9));
    expect((await os.list()).map((i) => i.name).sort()).toEqual(["a", "b"]);
    expect((await pos.list()).map((i) => i.name).sort()).toEqual(["a", "b"]);
    const pjsm = await peerManager(peer);
    // chunks of a (the new one) and b, metas of a and b
    expect((await pjsm.streams.info(`OBJ_${B}`)).state.messages).toBe(4);
    expect((await os.delete("b")).success).toBe(true);
    expect(await pos.info("b").then((i) => i?.deleted)).toBe(true);
    expect(await pos.get("b")).toBeNull();
    await pos.delete("a");
    expect(await os.list()).toEqual([]);
    await expect(os.get("a", hashingSink())).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});

describe("watch", () => {
  test("the infos there are, then puts and deletes made by nats.js, as they happen", async () => {
    const os = await new Objm(nc).create(B);
    const pos = await new PeerObjm(peer).open(B);
    await pos.putBlob({ name: "a" }, pattern(10));
    const seen: string[] = [];
    let initialized = -1;
    const w = await os.watch({ callback: (i) => seen.push(`${i.name}:${i.size}:${i.deleted}`), initializedFn: () => (initialized = seen.length) });
    await until(() => initialized >= 0, "initialized");
    expect(initialized).toBe(1);
    await pos.putBlob({ name: "b" }, pattern(20));
    await pos.delete("a");
    await until(() => seen.length === 3, "three infos");
    expect(seen).toEqual(["a:10:false", "b:20:false", "a:0:true"]);
    w.stop();
    // deleted "a" is left out; "c" comes after the initial infos
    const it = await os.watch({ ignoreDeletes: true });
    await pos.putBlob({ name: "c" }, pattern(30));
    const names: string[] = [];
    for await (const i of it) {
      names.push(i.name);
      if (names.length === 2) break;
    }
    expect(names).toEqual(["b", "c"]);
  });
});

describe("failures", () => {
  test("a digest mismatch is a DigestMismatchError after the last byte reached the sink", async () => {
    const pos = await new PeerObjm(peer).create(B);
    const data = pattern(300_000, 5);
    const info = await pos.putBlob({ name: "x" }, data);
    // a meta whose digest is another object's, written as nats.js would
    const pjsm = await peerManager(peer);
    const stored = (await pjsm.streams.getMessage(`OBJ_${B}`, { last_by_subj: `$O.${B}.M.eA==` }))!.json<Record<string, unknown>>();
    const wrong = { ...stored, digest: `SHA-256=${Buffer.from(createHash("sha256").update("other").digest()).toString("base64url")}=` };
    const js = (await import("@nats-io/jetstream")).jetstream(peer);
    const h = (await import("@nats-io/transport-node")).headers();
    h.set("Nats-Rollup", "sub");
    await js.publish(`$O.${B}.M.eA==`, JSON.stringify(wrong), { headers: h }); // "x", base64url padded
    const os = await new Objm(nc).open(B);
    const sink = hashingSink();
    const err = await os.get("x", sink).catch((e) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(err.expected).toBe(wrong.digest);
    expect(err.computed).toBe(info.digest);
    expect(sink.bytes).toBe(data.length);
  });

  test("a missing object and a missing bucket", async () => {
    const os = await new Objm(nc).create(B);
    await expect(os.get("nothing", hashingSink())).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await os.info("nothing")).toBeNull();
    expect(await os.getBlob("nothing")).toBeNull();
    const err = await new Objm(nc).open("nosuchbucket").catch((e) => e);
    expect(err).toBeInstanceOf(StreamNotFoundError);
  });

  test("a hostile meta (nested 1,000 deep, or a nuid that is not a token) is an ObjectStoreError and the connection goes on", async () => {
    await new PeerObjm(peer).create(B);
    const js = (await import("@nats-io/jetstream")).jetstream(peer);
    await js.publish(`$O.${B}.M.eA==`, "[".repeat(1000) + "]".repeat(1000));
    await js.publish(`$O.${B}.M.eQ==`, JSON.stringify({ name: "y", bucket: B, nuid: "a.>", size: 1, chunks: 1, digest: "" }));
    const os = await new Objm(nc).open(B);
    await expect(os.info("x")).rejects.toBeInstanceOf(ObjectStoreError);
    await expect(os.get("y", hashingSink())).rejects.toBeInstanceOf(ObjectStoreError);
    await expect(os.list()).rejects.toBeInstanceOf(ObjectStoreError);
    expect(await os.info("z")).toBeNull();
  });

  test("misuse is refused at once", async () => {
    const os = await new Objm(nc).create(B);
    await expect(os.put({ name: "" }, source(new Uint8Array(1)))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(os.get("a", null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(new Objm(nc).create("bad.name")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(new Objm(nc).create(B, { nope: 1 } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const bad = { size: 10, read: () => 0 };
    await expect(os.put({ name: "z" }, bad)).rejects.toThrow(/1 or more/);
  });
});
