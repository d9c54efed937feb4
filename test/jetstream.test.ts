// nats-xs/jetstream (the built dist/ code through the host simulator) against a real nats-server
// with JetStream, with @nats-io/jetstream as the independent peer in both directions: publish with
// ack and every expectation, typed API errors, hostile replies refused by bound, the manager
// (streams, consumers, direct get), pull consumers (fetch, next, consume, acks, statuses), ordered
// consumers and deliver policies, and a durable that resumes after a device restart.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { jetstream as peerJetstream, jetstreamManager as peerManager, AckPolicy as PeerAck } from "@nats-io/jetstream";
import type { JetStreamManager as PeerJsm } from "@nats-io/jetstream";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import { headers, InvalidArgumentError, TimeoutError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import {
  jetstream,
  jetstreamManager,
  ConsumerNotFoundError,
  JetStreamApiError,
  JetStreamNotEnabled,
  JetStreamResponseError,
  JetStreamStatusError,
  NoStreamError,
  OutboxFullError,
  StreamNotFoundError,
  parseInfo,
  MAX_DEPTH,
} from "nats-xs/jetstream";
import { checkJson, JsonLimitError } from "nats-xs";
import type { JsMsg, PullConsumer, OrderedConsumer } from "nats-xs/jetstream";
import { Fixture, sleep, until, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let nc: NatsConnection;
let peer: JsConnection;
let pjsm: PeerJsm;
let seq = 0;
/** A stream name and subject prefix no other test uses. */
let S: string;
let s: string;

beforeAll(async () => {
  server = await shared.server({ jetstream: true });
});
afterAll(() => shared.cleanup());
beforeEach(async () => {
  seq++;
  S = `S${seq}`;
  s = `js${seq}`;
  ({ nc } = await fx.xs({ servers: server.url, name: "device-js" }));
  peer = await fx.js({ servers: server.url });
  pjsm = await peerManager(peer);
});
afterEach(() => fx.cleanup());

async function peerStream(extra: Record<string, unknown> = {}): Promise<void> {
  await pjsm.streams.add({ name: S, subjects: [`${s}.>`], ...extra });
}

describe("publish with ack", () => {
  test("a publish resolves with the PubAck and the stream holds the message with its headers (read by nats.js)", async () => {
    await peerStream();
    const js = jetstream(nc);
    const h = headers();
    h.set("file-name", "cat.jpg");
    const ack = await js.publish(`${s}.a`, "hello", { headers: h });
    expect(ack).toEqual({ stream: S, seq: 1, duplicate: false });
    const m = await pjsm.streams.getMessage(S, { seq: 1 });
    expect(m?.string()).toBe("hello");
    expect(m?.header.get("file-name")).toBe("cat.jpg");
    expect(m?.header.get("Nats-Msg-Id")).not.toBe("");
  });

  test("the same msgID twice is stored once and the second ack says duplicate", async () => {
    await peerStream();
    const js = jetstream(nc);
    const a = await js.publish(`${s}.a`, "one", { msgID: "m-1" });
    const b = await js.publish(`${s}.a`, "one again", { msgID: "m-1" });
    expect(a).toEqual({ stream: S, seq: 1, duplicate: false });
    expect(b).toEqual({ stream: S, seq: 1, duplicate: true });
    expect((await pjsm.streams.info(S)).state.messages).toBe(1);
  });

  test("expect.lastSequence not met rejects with JetStreamApiError carrying code and err_code", async () => {
    await peerStream();
    const js = jetstream(nc);
    await js.publish(`${s}.a`, "1");
    const err = await js.publish(`${s}.a`, "2", { expect: { lastSequence: 5 } }).catch((e) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err.code).toBe(10071);
    expect(err.err_code).toBe(10071);
    expect(err.status).toBe(400);
    expect(err.description).toMatch(/wrong last sequence/);
    expect(await js.publish(`${s}.a`, "2", { expect: { lastSequence: 1 } })).toMatchObject({ seq: 2 });
  });

  test("expect.streamName, lastMsgID and lastSubjectSequence are enforced by the server", async () => {
    await peerStream();
    const js = jetstream(nc);
    await js.publish(`${s}.a`, "1", { msgID: "first" });
    await expect(js.publish(`${s}.a`, "x", { expect: { streamName: "OTHER" } })).rejects.toBeInstanceOf(JetStreamApiError);
    await expect(js.publish(`${s}.a`, "x", { expect: { lastMsgID: "nope" } })).rejects.toBeInstanceOf(JetStreamApiError);
    await expect(js.publish(`${s}.b`, "x", { expect: { lastSubjectSequence: 1 } })).rejects.toBeInstanceOf(JetStreamApiError);
    const ok = await js.publish(`${s}.b`, "b", { expect: { streamName: S, lastMsgID: "first", lastSubjectSequence: 0 } });
    expect(ok.seq).toBe(2);
  });

  test("a subject no stream captures rejects with NoStreamError, clearly worded", async () => {
    const js = jetstream(nc, { noStreamWait: 500 });
    const err = await js.publish(`${s}.nostream`, "x").catch((e) => e);
    expect(err).toBeInstanceOf(NoStreamError);
    expect(err.message).toMatch(/no JetStream stream captures subject/);
    expect(js.outboxStatus()).toMatchObject({ waiting: 0, failed: 1 });
  });

  test("options nats-xs does not support are refused, not ignored", async () => {
    const js = jetstream(nc);
    await expect(js.publish(`${s}.a`, "x", { retries: 3 } as never)).rejects.toThrow(/not supported/);
    await expect(js.publish(`${s}.a`, "x", { expect: { lastSubjectSequenceSubject: "a" } } as never)).rejects.toThrow(/not supported/);
    expect(() => jetstream(nc, { watcher: true } as never)).toThrow(/not supported/);
  });

  test("a domain changes the API prefix", () => {
    expect(jetstream(nc, { domain: "hub" }).apiPrefix).toBe("$JS.hub.API");
    expect(jetstream(nc).apiPrefix).toBe("$JS.API");
  });

  test("a full outbox rejects with OutboxFullError and queues nothing", async () => {
    await peerStream();
    const js = jetstream(nc, { outboxBytes: 1500 });
    const big = new Uint8Array(300);
    const first = js.publish(`${s}.a`, big);
    const err = await js.publish(`${s}.a`, big).catch((e) => e);
    expect(err).toBeInstanceOf(OutboxFullError);
    expect(err.limit).toBe(1500);
    await first;
    expect(js.outboxStatus()).toMatchObject({ waiting: 0, acked: 1, refused: 1 });
    expect((await pjsm.streams.info(S)).state.messages).toBe(1);
  });

  test("publishes made while the server is down wait in the outbox and are stored once after it returns", async () => {
    const local = await fx.server({ jetstream: true });
    const { nc: dev, status } = await fx.xs({ servers: local.url, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
    const pm = await peerManager(await fx.js({ servers: local.url }));
    await pm.streams.add({ name: S, subjects: [`${s}.>`], storage: "file" as never });
    const js = jetstream(dev);
    await local.kill();
    await status.next("disconnect", 10_000);
    const acks = [1, 2, 3].map((i) => js.publish(`${s}.a`, `m${i}`));
    expect(js.outboxStatus().waiting).toBe(3);
    await local.restart();
    const got = await within(Promise.all(acks), "the acks after the restart", 20_000);
    expect(got.map((a) => a.seq).sort()).toEqual([1, 2, 3]);
    const after = await peerManager(await fx.js({ servers: local.url }));
    expect((await after.streams.info(S)).state.messages).toBe(3);
  });
});

describe("hostile replies", () => {
  /** A nats.js responder on the JetStream API subjects that answers `reply` to everything. */
  async function fakeApi(prefix: string, reply: string | Uint8Array): Promise<void> {
    peer.subscribe(`${prefix}.>`, { callback: (_e, m) => m.respond(reply) });
    await peer.flush();
  }

  test("a reply nested deeper than the bound is refused before JSON.parse", async () => {
    // 1,500 levels fit the connection's 4 KB receive buffer; JSON.parse on XS would need far more stack
    await fakeApi("$X1.API", "[".repeat(1500) + "]".repeat(1500));
    const jsm = await jetstreamManager(nc, { apiPrefix: "$X1.API", checkAPI: false });
    const err = await jsm.streams.info("A").catch((e) => e);
    expect(err).toBeInstanceOf(JetStreamResponseError);
    expect(err.message).toMatch(/nests deeper/);
    // the connection goes on
    await nc.flush();
  });

  test("a reply larger than maxResponseBytes is refused", async () => {
    await fakeApi("$X2.API", JSON.stringify({ pad: "x".repeat(3000) }));
    const jsm = await jetstreamManager(nc, { apiPrefix: "$X2.API", checkAPI: false, maxResponseBytes: 1024 });
    await expect(jsm.streams.info("A")).rejects.toThrow(/more than the 1024 accepted/);
  });

  test("a reply larger than the connection's receive buffer ends the call in TimeoutError; the connection goes on", async () => {
    await fakeApi("$X5.API", JSON.stringify({ pad: "x".repeat(6000) }));
    const jsm = await jetstreamManager(nc, { apiPrefix: "$X5.API", checkAPI: false, timeout: 1000 });
    await expect(jsm.streams.info("A")).rejects.toBeInstanceOf(TimeoutError);
    await nc.flush();
  });

  test("a reply whose fields have the wrong types is refused", async () => {
    await fakeApi("$X3.API", JSON.stringify({ config: { name: 7 }, state: {} }));
    const jsm = await jetstreamManager(nc, { apiPrefix: "$X3.API", checkAPI: false });
    await expect(jsm.streams.info("A")).rejects.toBeInstanceOf(JetStreamResponseError);
    await fakeApi("$X4.API", "not json");
    const jsm4 = await jetstreamManager(nc, { apiPrefix: "$X4.API", checkAPI: false });
    await expect(jsm4.streams.info("A")).rejects.toThrow(/not valid JSON/);
  });

  test("a publish answered with a malformed or deep ack fails that publish only", async () => {
    peer.subscribe(`${s}.deep`, { callback: (_e, m) => m.respond("{".repeat(100)) });
    peer.subscribe(`${s}.seq`, { callback: (_e, m) => m.respond(JSON.stringify({ stream: "S", seq: -1 })) });
    await peer.flush();
    const js = jetstream(nc);
    await expect(js.publish(`${s}.deep`, "x")).rejects.toBeInstanceOf(JetStreamResponseError);
    await expect(js.publish(`${s}.seq`, "x")).rejects.toBeInstanceOf(JetStreamResponseError);
    await peerStream();
    expect((await js.publish(`${s}.ok`, "x")).seq).toBe(1);
  });

  test("replies are checked with the core's bounded JSON check: nesting counts outside strings only", () => {
    const enc = new TextEncoder();
    const limits = { maxDepth: MAX_DEPTH, maxBytes: 4096 };
    expect(() => checkJson(enc.encode('{"a":[{"b":"[[[[{{{{[[[[{{{{[[[[{{{{"}]}'), limits)).not.toThrow();
    expect(() => checkJson(enc.encode('{"a":"\\"[[["}'), limits)).not.toThrow();
    expect(() => checkJson(enc.encode("[".repeat(MAX_DEPTH + 1)), limits)).toThrow(JsonLimitError);
  });

  test("ack subjects in the 2.9 layout and the newer one with domain and account hash both parse", () => {
    expect(parseInfo("$JS.ACK.ORDERS.worker.2.15.7.1700000000000000000.3")).toEqual({
      domain: "",
      stream: "ORDERS",
      consumer: "worker",
      deliveryCount: 2,
      streamSequence: 15,
      deliverySequence: 7,
      timestampNanos: 1700000000000000000,
      pending: 3,
      redelivered: true,
    });
    expect(parseInfo("$JS.ACK.hub.ACCHASH.ORDERS.worker.1.15.7.1700000000000000000.0.xyz")).toMatchObject({
      domain: "hub",
      account_hash: "ACCHASH",
      stream: "ORDERS",
      deliveryCount: 1,
      redelivered: false,
    });
    expect(parseInfo("$JS.ACK._.H.S.c.1.1.1.1.0")).toMatchObject({ domain: "", stream: "S" });
    expect(() => parseInfo("$JS.ACK.S.c.1.x.1.1.0")).toThrow(JetStreamResponseError);
    expect(() => parseInfo("foo.bar")).toThrow(JetStreamResponseError);
    expect(() => parseInfo("$JS.ACK." + "a.".repeat(40) + "a")).toThrow(JetStreamResponseError);
  });
});

describe("manager", () => {
  test("streams.add is idempotent, info/update/delete work, and nats.js sees the result", async () => {
    const jsm = await jetstreamManager(nc);
    const cfg = { name: S, subjects: [`${s}.>`], storage: "file", max_msgs: 100 };
    const a = await jsm.streams.add(cfg);
    expect(a.config.name).toBe(S);
    const again = await jsm.streams.add(cfg);
    expect(again.config.max_msgs).toBe(100);
    const u = await jsm.streams.update(S, { max_msgs: 50 });
    expect(u.config.max_msgs).toBe(50);
    expect((await pjsm.streams.info(S)).config.max_msgs).toBe(50);
    expect(await jsm.streams.delete(S)).toBe(true);
    const err = await jsm.streams.info(S).catch((e) => e);
    expect(err).toBeInstanceOf(StreamNotFoundError);
    expect(err.code).toBe(10059);
    expect(err.status).toBe(404);
  });

  test("adding a stream that exists with another config is a JetStreamApiError", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: S, subjects: [`${s}.>`] });
    await expect(jsm.streams.add({ name: S, subjects: [`${s}.other`] })).rejects.toBeInstanceOf(JetStreamApiError);
  });

  test("consumers.add is idempotent; info and delete; a missing one is ConsumerNotFoundError", async () => {
    await peerStream();
    const jsm = await jetstreamManager(nc);
    const cfg = { durable_name: "dur", ack_policy: "explicit", filter_subject: `${s}.a` };
    const c = await jsm.consumers.add(S, cfg);
    expect(c.name).toBe("dur");
    expect((await jsm.consumers.add(S, cfg)).name).toBe("dur");
    expect((await pjsm.consumers.info(S, "dur")).config.filter_subject).toBe(`${s}.a`);
    expect((await jsm.consumers.info(S, "dur")).num_pending).toBe(0);
    expect(await jsm.consumers.delete(S, "dur")).toBe(true);
    await expect(jsm.consumers.info(S, "dur")).rejects.toBeInstanceOf(ConsumerNotFoundError);
  });

  test("a server without JetStream gives JetStreamNotEnabled", async () => {
    const plain = await fx.server();
    const { nc: dev } = await fx.xs({ servers: plain.url });
    await expect(jetstreamManager(dev)).rejects.toBeInstanceOf(JetStreamNotEnabled);
  });

  test("direct get reads by sequence and the last message of a subject; null when none", async () => {
    await peerStream({ allow_direct: true });
    const pjs = peerJetstream(peer);
    await pjs.publish(`${s}.t`, "21.0");
    await pjs.publish(`${s}.h`, "40");
    await pjs.publish(`${s}.t`, "21.5");
    const jsm = await jetstreamManager(nc);
    const last = await jsm.direct.getMessage(S, { last_by_subj: `${s}.t` });
    expect(last?.string()).toBe("21.5");
    expect(last?.seq).toBe(3);
    expect(last?.subject).toBe(`${s}.t`);
    expect(last?.time.getTime()).toBeGreaterThan(0);
    const first = await jsm.direct.getMessage(S, { seq: 1 });
    expect(first?.string()).toBe("21.0");
    expect(await jsm.direct.getMessage(S, { last_by_subj: `${s}.none` })).toBeNull();
  });
});

describe("pull consumers", () => {
  /** A stream made by nats.js with `n` messages on `${s}.a` (payloads "0".."n-1"), and a durable. */
  async function seeded(n: number, durable = "dur", extra: Record<string, unknown> = {}): Promise<PullConsumer> {
    await peerStream();
    const pjs = peerJetstream(peer);
    for (let i = 0; i < n; i++) await pjs.publish(`${s}.a`, String(i));
    await pjsm.consumers.add(S, { durable_name: durable, ack_policy: PeerAck.Explicit, ...extra });
    return (await jetstream(nc).consumers.get(S, durable)) as PullConsumer;
  }

  test("fetch returns max_messages, with delivery info parsed from the ack subject; acks move the ack floor", async () => {
    const c = await seeded(10);
    const got: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: 5, expires: 5000 })) got.push(m);
    expect(got.map((m) => m.string())).toEqual(["0", "1", "2", "3", "4"]);
    expect(got[4].info).toMatchObject({ stream: S, consumer: "dur", deliveryCount: 1, streamSequence: 5, deliverySequence: 5, pending: 5, redelivered: false });
    expect(got[0].seq).toBe(1);
    for (const m of got) m.ack();
    await nc.flush();
    await sleep(100);
    const info = await pjsm.consumers.info(S, "dur");
    expect(info.ack_floor.stream_seq).toBe(5);
    expect(info.num_pending).toBe(5);
  });

  test("a fetch ends when its pull expires with fewer messages than asked for", async () => {
    const c = await seeded(3);
    const got: string[] = [];
    for await (const m of await c.fetch({ max_messages: 10, expires: 1000 })) got.push(m.string());
    expect(got).toEqual(["0", "1", "2"]);
  });

  test("max_bytes bounds what one fetch brings", async () => {
    await peerStream();
    const pjs = peerJetstream(peer);
    for (let i = 0; i < 10; i++) await pjs.publish(`${s}.a`, new Uint8Array(200));
    await pjsm.consumers.add(S, { durable_name: "b", ack_policy: PeerAck.Explicit });
    const c = (await jetstream(nc).consumers.get(S, "b")) as PullConsumer;
    let n = 0;
    for await (const m of await c.fetch({ max_bytes: 1000, expires: 2000 })) {
      expect(m.data.length).toBe(200);
      n++;
    }
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(5);
    // without max_bytes, the iterator's buffer bound limits what is pulled
    let m = 0;
    for await (const x of await c.fetch({ max_messages: 10, buffer_bytes: 1000, expires: 2000 })) {
      x.ack();
      m++;
    }
    expect(m).toBeGreaterThan(0);
    expect(m).toBeLessThan(5);
  });

  test("next() returns the next message, and null when none comes before expires", async () => {
    const c = await seeded(1);
    const m = await c.next({ expires: 2000 });
    expect(m?.string()).toBe("0");
    m?.ack();
    expect(await c.next({ expires: 1000 })).toBeNull();
  });

  test("consume with a callback delivers everything, including messages published later, and acks stick", async () => {
    const c = await seeded(150);
    const got: string[] = [];
    const msgs = await c.consume({ max_messages: 20, callback: (m) => {
      got.push(m.string());
      m.ack();
    } });
    await until(() => got.length === 150, "150 messages", 15_000);
    const pjs = peerJetstream(peer);
    for (let i = 150; i < 160; i++) await pjs.publish(`${s}.a`, String(i));
    await until(() => got.length === 160, "160 messages", 15_000);
    expect(got).toEqual(Array.from({ length: 160 }, (_, i) => String(i)));
    expect(msgs.stats().pulls).toBeGreaterThan(5);
    await nc.flush();
    await sleep(100);
    await within(
      (async () => {
        while ((await pjsm.consumers.info(S, "dur")).num_ack_pending !== 0) await new Promise((r) => setTimeout(r, 50));
      })(),
      "every ack to be recorded",
      10_000,
    );
    await msgs.close();
    expect(await msgs.closed()).toBeUndefined();
  });

  test("a callback that throws is counted and the consume goes on", async () => {
    const c = await seeded(3);
    const got: string[] = [];
    const msgs = await c.consume({ callback: (m) => {
      got.push(m.string());
      m.ack();
      if (got.length === 1) throw new Error("app bug");
    } });
    await until(() => got.length === 3, "all 3 messages", 10_000);
    expect(msgs.stats().callbackErrors).toBe(1);
    await msgs.close();
  });

  test("consume without a callback is read with for await", async () => {
    const c = await seeded(30);
    const msgs = await c.consume({ max_messages: 8 });
    const got: string[] = [];
    for await (const m of msgs) {
      got.push(m.string());
      m.ack();
      if (got.length === 30) break;
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
  });

  test("consume honours idle heartbeats while nothing arrives", async () => {
    const c = await seeded(0);
    const msgs = await c.consume({ expires: 2000, idle_heartbeat: 500, callback: () => {} });
    await until(() => msgs.stats().heartbeats >= 2, "two idle heartbeats", 10_000);
    expect(msgs.stats().resets).toBe(0);
    await msgs.close();
  });

  test("nak(delay) redelivers with a higher delivery count, term() stops redelivery, working() and ackAck() are answered", async () => {
    const c = await seeded(1, "dur", { ack_wait: 2_000_000_000 });
    const first = await c.next({ expires: 2000 });
    expect(first?.string()).toBe("0");
    first?.nak(300);
    const again = await c.next({ expires: 3000 });
    expect(again?.string()).toBe("0");
    expect(again?.info.deliveryCount).toBe(2);
    expect(again?.redelivered).toBe(true);
    again?.working();
    expect(await again?.ackAck()).toBe(true);
    expect(await again?.ackAck()).toBe(false);
    await peerJetstream(peer).publish(`${s}.a`, "1");
    const second = await c.next({ expires: 2000 });
    expect(second?.string()).toBe("1");
    second?.term("bad reading");
    await nc.flush();
    expect(await c.next({ expires: 1000 })).toBeNull();
    expect((await pjsm.consumers.info(S, "dur")).num_ack_pending).toBe(0);
  });

  test("consume pulls again when its pulls expire, and a message published after several expiries arrives", async () => {
    const c = await seeded(0);
    const got: string[] = [];
    const msgs = await c.consume({ max_messages: 10, expires: 1000, idle_heartbeat: 400, callback: (m) => {
      got.push(m.string());
      m.ack();
    } });
    await until(() => msgs.stats().pulls >= 3, "three pulls (each expiring after 1 s)", 10_000);
    expect(msgs.stats().lastStatus).toBe(408);
    await peerJetstream(peer).publish(`${s}.a`, "late");
    await until(() => got.length === 1, "the late message", 10_000);
    expect(got).toEqual(["late"]);
    expect(msgs.stats().pendingMessages).toBeLessThanOrEqual(10);
    await msgs.close();
  });

  test("a consume whose durable is deleted ends, and closed() gives the 409 as JetStreamStatusError", async () => {
    const c = await seeded(0);
    const msgs = await c.consume({ expires: 5000, callback: () => {} });
    await sleep(200);
    await pjsm.consumers.delete(S, "dur");
    const err = await within(msgs.closed(), "the consume to end", 10_000);
    expect(err).toBeInstanceOf(JetStreamStatusError);
    expect((err as JetStreamStatusError).code).toBe(409);
    expect((err as JetStreamStatusError).description).toMatch(/Consumer Deleted/i);
  });

  test("a fetch refused by a consumer limit (409, max_waiting) rejects with JetStreamStatusError", async () => {
    const c = await seeded(0, "dur", { max_waiting: 1 });
    const first = await c.fetch({ max_messages: 1, expires: 3000 });
    const second = await c.fetch({ max_messages: 1, expires: 3000 });
    const err = await (async () => {
      for await (const _ of second) return null;
      return null;
    })().catch((e) => e);
    expect(err).toBeInstanceOf(JetStreamStatusError);
    expect(err.code).toBe(409);
    expect(err.description).toMatch(/MaxWaiting/i);
    await first.close();
  });

  test("pull options nats-xs does not take, or values out of range, are refused with InvalidArgumentError", async () => {
    const c = await seeded(0);
    await expect(c.fetch({ expires: 100 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.consume({ expires: 2000, idle_heartbeat: 1500 })).rejects.toThrow(/half of expires/);
    await expect(c.fetch({ max_messages: 0 })).rejects.toThrow(/positive whole number/);
    await expect(c.consume({ ordered: true } as never)).rejects.toThrow(/not supported/);
  });

  test("get() of a missing consumer is ConsumerNotFoundError", async () => {
    await peerStream();
    await expect(jetstream(nc).consumers.get(S, "nope")).rejects.toBeInstanceOf(ConsumerNotFoundError);
  });

  test("a durable resumes where it left off after a device restart (a new connection)", async () => {
    await peerStream();
    const pjs = peerJetstream(peer);
    for (let i = 0; i < 10; i++) await pjs.publish(`${s}.cmd`, `c${i}`);
    const boot = async (conn: NatsConnection): Promise<PullConsumer> => {
      const jsm = await jetstreamManager(conn);
      await jsm.consumers.add(S, { durable_name: "device", ack_policy: "explicit", deliver_policy: "all", filter_subject: `${s}.cmd` });
      return (await jetstream(conn).consumers.get(S, "device")) as PullConsumer;
    };
    const c1 = await boot(nc);
    for await (const m of await c1.fetch({ max_messages: 4, expires: 2000 })) await m.ackAck();
    await nc.close();
    const { nc: rebooted } = await fx.xs({ servers: server.url });
    const c2 = await boot(rebooted);
    const got: string[] = [];
    for await (const m of await c2.fetch({ max_messages: 6, expires: 2000 })) {
      got.push(m.string());
      m.ack();
    }
    expect(got).toEqual(["c4", "c5", "c6", "c7", "c8", "c9"]);
  });
});

describe("ordered consumers and deliver policies", () => {
  async function seed(): Promise<void> {
    await peerStream();
    const pjs = peerJetstream(peer);
    for (let i = 1; i <= 6; i++) await pjs.publish(i % 2 === 0 ? `${s}.even` : `${s}.odd`, `v${i}`);
  }

  async function read(c: OrderedConsumer | PullConsumer, n: number): Promise<string[]> {
    const got: string[] = [];
    if (n === 0) return got;
    for await (const m of await c.fetch({ max_messages: n, expires: 1500 })) got.push(m.string());
    return got;
  }

  test("an ordered consumer replays the stream in order, with a filter", async () => {
    await seed();
    const js = jetstream(nc);
    expect(await read(await js.consumers.get(S), 6)).toEqual(["v1", "v2", "v3", "v4", "v5", "v6"]);
    expect(await read(await js.consumers.get(S, { filter_subjects: `${s}.even` }), 3)).toEqual(["v2", "v4", "v6"]);
  });

  test("deliver policies: last, new, by_start_sequence, by_start_time, last_per_subject", async () => {
    await seed();
    const js = jetstream(nc);
    expect(await read(await js.consumers.get(S, { deliver_policy: "last" }), 6)).toEqual(["v6"]);
    expect(await read(await js.consumers.get(S, { deliver_policy: "by_start_sequence", opt_start_seq: 4 }), 6)).toEqual(["v4", "v5", "v6"]);
    expect(await read(await js.consumers.get(S, { deliver_policy: "last_per_subject", filter_subjects: `${s}.>` }), 6)).toEqual(["v5", "v6"]);
    const t4 = (await pjsm.streams.getMessage(S, { seq: 4 }))!.timestamp; // nanoseconds, as the server wrote it
    expect(await read(await js.consumers.get(S, { deliver_policy: "by_start_time", opt_start_time: t4 }), 6)).toEqual(["v4", "v5", "v6"]);
    const fresh = await js.consumers.get(S, { deliver_policy: "new" });
    const msgs = await fresh.consume({ max_messages: 10 });
    await new Promise((r) => setTimeout(r, 300));
    await peerJetstream(peer).publish(`${s}.odd`, "v7");
    for await (const m of msgs) {
      expect(m.string()).toBe("v7");
      break;
    }
  });

  test("an ordered consumer that loses deliveries in a reconnect starts again after the last one it handed out", async () => {
    await peerStream();
    const pjs = peerJetstream(peer);
    const N = 3000;
    for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => pjs.publish(`${s}.n`, String(i + k))));
    const oc = (await jetstream(nc).consumers.get(S)) as OrderedConsumer;
    const got: number[] = [];
    let first = "";
    // what the server already sent on the old socket is lost; whether anything was on its way at
    // that moment depends on timing, so the reconnect is tried again while no reset has happened
    const at = [700, 1500, 2200];
    let msgs: Awaited<ReturnType<OrderedConsumer["consume"]>> | null = null;
    msgs = await oc.consume({ max_messages: 200, expires: 5000, idle_heartbeat: 1000, callback: (m) => {
      got.push(Number(m.string()));
      if (at.includes(got.length) && (msgs === null || msgs.stats().resets === 0)) {
        if (first === "") first = oc.name;
        nc.reconnect();
      }
    } });
    await until(() => got.length >= N, `${N} messages`, 30_000);
    await sleep(200);
    expect(got.length).toBe(N);
    expect(got.every((v, i) => v === i)).toBe(true);
    // the skipped delivery sequence made the client replace the server-side consumer
    expect(oc.name).not.toBe(first);
    expect(msgs.stats().resets).toBeGreaterThan(0);
    await msgs.close();
  });

  test("an ordered consumer whose server-side consumer vanishes is made again and continues without a gap", async () => {
    await seed();
    const oc = (await jetstream(nc).consumers.get(S)) as OrderedConsumer;
    const got: string[] = [];
    const msgs = await oc.consume({ max_messages: 10, expires: 2000, idle_heartbeat: 500, callback: (m) => got.push(m.string()) });
    await until(() => got.length === 6, "the first 6", 10_000);
    const first = oc.name;
    await pjsm.consumers.delete(S, first);
    const pjs = peerJetstream(peer);
    for (let i = 7; i <= 9; i++) await pjs.publish(`${s}.odd`, `v${i}`);
    await until(() => got.length === 9, "the 3 after the consumer was deleted", 15_000);
    expect(got).toEqual(["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"]);
    expect(oc.name).not.toBe(first);
    expect(msgs.stats().resets).toBeGreaterThan(0);
    expect((await oc.info()).num_pending).toBe(0);
    await msgs.close();
    // closing removes the server-side consumer; a later fetch goes on after the last message read
    await pjs.publish(`${s}.odd`, "v10");
    const more: string[] = [];
    for await (const m of await oc.fetch({ max_messages: 1, expires: 2000 })) more.push(m.string());
    expect(more).toEqual(["v10"]);
    const names: string[] = [];
    // a consumer the device is deleting right now may be listed by server 2.9 as null: it is gone
    for await (const ci of pjsm.consumers.list(S)) if (ci !== null) names.push(ci.name);
    expect(names.length).toBeLessThanOrEqual(1);
  });
});
