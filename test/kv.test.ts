// nats-xs/kv (the built dist/ code through the host simulator) against a real nats-server with
// JetStream, with @nats-io/kv 3.4.0 as the independent peer both ways: buckets made by one and used
// by the other, compare-and-set conflicts, deletes and purges seen by both, keys and history,
// watches (initial values, updates, bounded queue, a server restart), a missing bucket, key checks.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Kvm as PeerKvm } from "@nats-io/kv";
import { jetstreamManager as peerManager } from "@nats-io/jetstream";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import type { NatsConnection } from "nats-xs";
import { InvalidArgumentError, TimeoutError } from "nats-xs";
import { jetstream, JetStreamApiError, NoStreamError, StreamNotFoundError } from "nats-xs/jetstream";
import { Kvm, KvError, KvWatchInclude, KvWatchOverflowError, validateKey } from "nats-xs/kv";
import type { KvEntry } from "nats-xs/kv";
import { Collector, Fixture, within } from "./helpers.js";
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
  B = `b${++seq}`;
  ({ nc } = await fx.xs({ servers: server.url, name: "device-kv" }));
  peer = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe("buckets shared with nats.js", () => {
  test("a bucket made by nats-xs is the stream nats.js makes, and nats.js reads and writes it", async () => {
    const kv = await new Kvm(nc).create(B, { history: 5, ttl: 3_600_000, max_bytes: 1 << 20, replicas: 1 });
    await new PeerKvm(peer).create(`${B}p`, { history: 5, ttl: 3_600_000, max_bytes: 1 << 20, replicas: 1 });
    const pjsm = await peerManager(peer);
    const mine = (await pjsm.streams.info(`KV_${B}`)).config as unknown as Record<string, unknown>;
    const theirs = (await pjsm.streams.info(`KV_${B}p`)).config as unknown as Record<string, unknown>;
    for (const k of ["retention", "max_msgs_per_subject", "max_bytes", "max_age", "max_msg_size", "storage", "discard", "allow_direct", "allow_rollup_hdrs", "num_replicas", "deny_delete", "deny_purge", "duplicate_window"]) {
      expect([k, mine[k]]).toEqual([k, theirs[k]]);
    }
    expect(mine.subjects).toEqual([`$KV.${B}.>`]);
    const rev = await kv.put("sensor.temp", "21.5");
    const pkv = await new PeerKvm(peer).open(B);
    const e = await pkv.get("sensor.temp");
    expect(e?.string()).toBe("21.5");
    expect(e?.revision).toBe(rev);
    const prev = await pkv.put("sensor.temp", "22");
    const got = await kv.get("sensor.temp");
    expect(got?.string()).toBe("22");
    expect(got?.revision).toBe(prev);
    expect(got?.operation).toBe("PUT");
    expect(got?.key).toBe("sensor.temp");
    expect(got?.created).toBeInstanceOf(Date);
    expect(Math.abs((got?.created.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect((await kv.get("sensor.temp", { revision: rev }))?.string()).toBe("21.5");
    const s = await kv.status();
    expect(s).toMatchObject({ bucket: B, values: 2, history: 5, ttl: 3_600_000, max_bytes: 1 << 20, replicas: 1, backingStore: "JetStream" });
  });

  test("a bucket made by nats.js is opened and used by nats-xs; json() reads a value nats.js wrote", async () => {
    const pkv = await new PeerKvm(peer).create(B, { history: 3 });
    await pkv.put("cfg", JSON.stringify({ led: "red", n: 3 }));
    const kv = await new Kvm(nc).open(B);
    expect((await kv.get("cfg"))?.json()).toEqual({ led: "red", n: 3 });
    await kv.put("cfg", JSON.stringify({ led: "green" }));
    expect((await pkv.get("cfg"))?.json()).toEqual({ led: "green" });
    expect(await kv.get("missing")).toBeNull();
    expect((await kv.status()).history).toBe(3);
  });

  test("a missing bucket: open rejects with StreamNotFoundError", async () => {
    const err = await new Kvm(nc).open("nosuch").catch((e) => e);
    expect(err).toBeInstanceOf(StreamNotFoundError);
    expect(err.code).toBe(10059);
  });

  test("a bucket deleted by nats.js under an open handle: put fails with NoStreamError, get with TimeoutError", async () => {
    const kv = await new Kvm(jetstream(nc, { noStreamWait: 500, timeout: 1000 })).create(B);
    await kv.put("a", "1");
    await (await new PeerKvm(peer).open(B)).destroy();
    await expect(kv.put("a", "2")).rejects.toBeInstanceOf(NoStreamError);
    // server 2.9 does not answer a direct get on a stream that is gone
    await expect(kv.get("a")).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe("compare-and-set", () => {
  test("create succeeds only when the key has no value, and again after a delete", async () => {
    const kv = await new Kvm(nc).create(B);
    const r1 = await kv.create("k", "first");
    const err = await kv.create("k", "second").catch((e) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err.code).toBe(10071);
    await kv.delete("k");
    const r3 = await kv.create("k", "third");
    expect(r3).toBeGreaterThan(r1);
    expect((await kv.get("k"))?.string()).toBe("third");
    // nats.js's create sees the same rule
    const pkv = await new PeerKvm(peer).open(B);
    await expect(pkv.create("k", "peer")).rejects.toThrow();
  });

  test("update with a stale revision loses to the peer's write, and the winner's value stays", async () => {
    const kv = await new Kvm(nc).create(B, { history: 2 });
    const pkv = await new PeerKvm(peer).open(B);
    const r = await kv.put("door", "closed");
    const theirs = await pkv.update("door", "open", r);
    const err = await kv.update("door", "locked", r).catch((e) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err.code).toBe(10071);
    expect((await kv.get("door"))?.string()).toBe("open");
    const mine = await kv.update("door", "locked", theirs);
    await expect(pkv.update("door", "ajar", theirs)).rejects.toThrow();
    expect((await pkv.get("door"))?.revision).toBe(mine);
    await expect(kv.update("door", "x", 0)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe("deletes, purges, keys, history", () => {
  test("a delete by nats-xs and a purge by nats.js are seen by both", async () => {
    const kv = await new Kvm(nc).create(B, { history: 10 });
    const pkv = await new PeerKvm(peer).open(B);
    for (let i = 0; i < 3; i++) await kv.put("a", `a${i}`);
    await kv.put("b", "b0");
    await kv.delete("a");
    expect((await pkv.get("a"))?.operation).toBe("DEL");
    expect((await kv.get("a"))?.operation).toBe("DEL");
    expect((await collect(await kv.history({ key: "a" }))).map((e) => `${e.operation}:${e.string()}`)).toEqual(["PUT:a0", "PUT:a1", "PUT:a2", "DEL:"]);
    await pkv.purge("b");
    const b = await kv.get("b");
    expect(b?.operation).toBe("PURGE");
    expect((await collect(await kv.history({ key: "b" }))).map((e) => e.operation)).toEqual(["PURGE"]);
    await kv.purge("a");
    expect((await collect(await pkv.history({ key: "a" }))).map((e) => e.operation)).toEqual(["PURGE"]);
    await kv.put("c.x", "1");
    await pkv.put("c.y", "2");
    expect((await collect(await kv.keys())).sort()).toEqual(["c.x", "c.y"]);
    expect((await collect(await kv.keys("c.*"))).sort()).toEqual(["c.x", "c.y"]);
    expect(await collect(await pkv.keys())).toEqual(expect.arrayContaining(["c.x", "c.y"]));
  });

  test("keys and history of an empty bucket end at once", async () => {
    const kv = await new Kvm(nc).create(B);
    expect(await within(collect(await kv.keys()), "keys of an empty bucket")).toEqual([]);
    expect(await within(collect(await kv.history()), "history of an empty bucket")).toEqual([]);
  });

  test("history with too small a queue ends with KvWatchOverflowError naming what it dropped", async () => {
    const kv = await new Kvm(nc).create(B, { history: 64 });
    const pkv = await new PeerKvm(peer).open(B);
    const value = "x".repeat(200);
    for (let i = 0; i < 40; i++) await pkv.put("k", value);
    const h = await kv.history({ key: "k", maxQueueBytes: 2048 });
    await h.closed;
    const err = await collect(h).catch((e) => e);
    expect(err).toBeInstanceOf(KvWatchOverflowError);
    expect(err.dropped).toBeGreaterThan(0);
    expect(h.status().dropped).toBe(err.dropped);
    expect(h.status().received + err.dropped).toBe(40);
  });
});

describe("watch", () => {
  test("the last values first, then updates from nats.js, deletes included; initializedFn between", async () => {
    const kv = await new Kvm(nc).create(B, { history: 5 });
    const pkv = await new PeerKvm(peer).open(B);
    await pkv.put("a", "1");
    await pkv.put("a", "2");
    await pkv.put("b", "1");
    const got = new Collector<string>(5, "watched entries");
    let initialized = -1;
    const w = await kv.watch({
      initializedFn: () => (initialized = got.items.length),
      callback: (e: KvEntry) => got.push(`${e.key}=${e.string()}:${e.operation}:${e.isUpdate}`),
    });
    await within(new Promise<void>((r) => { const t = setInterval(() => { if (initialized >= 0) { clearInterval(t); r(); } }, 10); }), "initialized");
    expect(initialized).toBe(2);
    await pkv.put("c", "9");
    await pkv.delete("a");
    await pkv.put("b", "2");
    expect(await got.done).toEqual(["a=2:PUT:false", "b=1:PUT:false", "c=9:PUT:true", "a=:DEL:true", "b=2:PUT:true"]);
    w.stop();
    await w.closed;
  });

  test("ignoreDeletes, a key filter, UpdatesOnly and AllHistory", async () => {
    const kv = await new Kvm(nc).create(B, { history: 5 });
    const pkv = await new PeerKvm(peer).open(B);
    await pkv.put("x.1", "old");
    await pkv.put("x.1", "older");
    await pkv.put("y", "skip");
    const all = await kv.watch({ key: "x.*", include: KvWatchInclude.AllHistory, ignoreDeletes: true });
    const upd = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    await pkv.delete("x.1");
    await pkv.put("x.2", "new");
    const seen: string[] = [];
    for await (const e of all) {
      seen.push(`${e.key}=${e.string()}`);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(["x.1=old", "x.1=older", "x.2=new"]);
    const u: string[] = [];
    for await (const e of upd) {
      u.push(`${e.key}:${e.operation}`);
      if (u.length === 2) break;
    }
    expect(u).toEqual(["x.1:DEL", "x.2:PUT"]);
  });

  test("a watch not read keeps no more than maxQueueBytes and counts what it dropped", async () => {
    const kv = await new Kvm(nc).create(B);
    const pkv = await new PeerKvm(peer).open(B);
    const w = await kv.watch({ include: KvWatchInclude.UpdatesOnly, maxQueueBytes: 1024 });
    for (let i = 0; i < 50; i++) await pkv.put(`k${i}`, "v".repeat(100));
    await within(new Promise<void>((r) => { const t = setInterval(() => { const s = w.status(); if (s.received + s.dropped === 50) { clearInterval(t); r(); } }, 10); }), "50 updates seen");
    const s = w.status();
    expect(s.queuedBytes).toBeLessThanOrEqual(1024);
    expect(s.received).toBeGreaterThan(0);
    expect(s.dropped).toBe(50 - s.received);
    w.stop();
    expect((await collect(w)).length).toBe(s.received);
  });

  test("a watch goes on across a server restart and sees what nats.js writes after it", async () => {
    const local = await fx.server({ jetstream: true });
    const { nc: dev, status } = await fx.xs({ servers: local.url, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
    const kv = await new Kvm(dev).create(B);
    const got = new Collector<string>(3, "entries across the restart", 30_000);
    const w = await kv.watch({ heartbeat: 300, callback: (e: KvEntry) => got.push(`${e.key}=${e.string()}`) });
    const p1 = await fx.js({ servers: local.url });
    await (await new PeerKvm(p1).open(B)).put("a", "before");
    await within(new Promise<void>((r) => { const t = setInterval(() => { if (got.items.length === 1) { clearInterval(t); r(); } }, 10); }), "the first entry");
    await local.restart();
    await status.next("reconnect", 20_000);
    const p2 = await fx.js({ servers: local.url });
    const pkv = await new PeerKvm(p2).open(B);
    await pkv.put("b", "after");
    await pkv.put("a", "after");
    expect(await got.done).toEqual(["a=before", "b=after", "a=after"]);
    expect(w.status().resets).toBeGreaterThan(0);
    w.stop();
  }, 60_000);
});

describe("checks", () => {
  test("keys and options outside ADR-8 are refused at once", async () => {
    const kv = await new Kvm(nc).create(B);
    for (const k of ["", ".a", "a.", "a..b", "a b", "a*", "a.>", "ü", "a\r\n"]) {
      await expect(kv.put(k, "x")).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(() => validateKey("a-b_c/d=e.F9")).not.toThrow();
    expect(validateKey("a.*.>", true)).toBe(true);
    expect(() => validateKey("a.>.b", true)).toThrow(InvalidArgumentError);
    await expect(new Kvm(nc).create("bad.name")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(new Kvm(nc).create(B, { history: 65 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(new Kvm(nc).create(B, { bogus: 1 } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(kv.watch({ include: "sometimes" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(kv.watch({ nope: true } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test("json() of a value nested deeper than the bound is a KvError, not a stack overflow", async () => {
    const kv = await new Kvm(nc).create(B);
    await (await new PeerKvm(peer).open(B)).put("deep", "[".repeat(1000) + "]".repeat(1000));
    const e = await kv.get("deep");
    expect(() => e?.json()).toThrow(KvError);
  });
});

describe("buckets made without direct get", () => {
  test("get reads the last entry and a revision through a consumer; deletes show as such", async () => {
    // a bucket as older clients made it: the KV stream without allow_direct
    const jsm = await peerManager(peer);
    await jsm.streams.add({
      name: `KV_${B}`,
      subjects: [`$KV.${B}.>`],
      max_msgs_per_subject: 5,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: false,
      discard: "new" as never,
    });
    const kv = await new Kvm(nc).open(B);
    const r1 = await kv.put("led", "red");
    const r2 = await kv.put("led", "green");
    await kv.put("other", "x");
    const last = await kv.get("led");
    expect(last?.string()).toBe("green");
    expect(last?.revision).toBe(r2);
    expect((await kv.get("led", { revision: r1 }))?.string()).toBe("red");
    // a revision that belongs to another key is not this key's
    expect(await kv.get("led", { revision: r2 + 1 })).toBeNull();
    expect(await kv.get("missing")).toBeNull();
    await kv.delete("led");
    expect((await kv.get("led"))?.operation).toBe("DEL");
    // nats.js reads the same bucket the same way
    const theirs = await (await new PeerKvm(peer).open(B)).get("other");
    expect(theirs?.string()).toBe("x");
  });
});
