// nats-xs (the built dist/ code through the host simulator) and the official nats.js client as
// peers on one real nats-server: payloads, headers, request/reply, queue groups, wildcards, limits
// and lifecycle, each checked from the other client's side.
import { test, expect, describe, beforeAll, beforeEach, afterAll, afterEach, vi } from "vitest";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { Msg as JsMsg, NatsConnection as JsConnection } from "@nats-io/transport-node";
import {
  headers,
  ClosedConnectionError,
  InvalidSubjectError,
  MaxPayloadError,
  MessageTooLargeError,
  NoRespondersError,
  TimeoutError,
} from "nats-xs";
import type { Msg, MsgChunk, NatsConnection } from "nats-xs";
import { Collector, Fixture, diffBytes, pattern, until, within } from "./helpers.js";
import type { ServerHandle, StatusLog } from "./helpers.js";

/** Just under the server's default max_payload of 1 MiB. */
const ONE_MB = 1_048_000;

vi.setConfig({ testTimeout: 15_000 });

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
/** nats-xs and nats.js connections of the current test. */
let xs: NatsConnection;
let xsStatus: StatusLog;
let js: JsConnection;
let seq = 0;
/** A subject prefix no other test uses. */
let s: string;

beforeAll(async () => {
  server = await shared.server();
});
afterAll(() => shared.cleanup());

async function peers(options: Record<string, unknown> = {}): Promise<void> {
  ({ nc: xs, status: xsStatus } = await fx.xs({ servers: server.url, ...options }));
  js = await fx.js({ servers: server.url });
}

/**
 * Round trips in sequence: once nats.js has a PONG, the server has routed its publishes, so the PONG
 * nats-xs asks for next comes after them (and the reverse for the last one). Everything either
 * client published or subscribed before the call has then been delivered.
 */
async function settle(): Promise<void> {
  await js.flush();
  await xs.flush();
  await js.flush();
}

/** What nats-xs received: copies, since payload views die with the callback. */
interface Got {
  subject: string;
  data: Uint8Array;
  reply: string;
}

function xsCollect(subject: string, n: number, options: { queue?: string; max?: number } = {}): Collector<Got> {
  const c = new Collector<Got>(n, `nats-xs messages on ${subject}`);
  xs.subscribe(subject, {
    ...options,
    callback: (err, msg) => {
      if (err !== null) throw err;
      const m = msg as Msg;
      c.push({ subject: m.subject, data: m.data.slice(), reply: m.reply });
    },
  });
  return c;
}

function jsCollect(subject: string, n: number, options: { queue?: string } = {}): Collector<JsMsg> {
  const c = new Collector<JsMsg>(n, `nats.js messages on ${subject}`);
  js.subscribe(subject, { ...options, callback: (err, msg) => (err ? undefined : c.push(msg)) });
  return c;
}

const text = "héllo wörld ✓ 𝄞 — sensor 7";
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const fakeFrame = new TextEncoder().encode("\r\nMSG fake 1 2\r\nab\r\n\r\nPING\r\n");
const payloads: Array<[string, Uint8Array]> = [
  ["an empty payload", new Uint8Array(0)],
  ["a UTF-8 text payload", new TextEncoder().encode(text)],
  ["all 256 byte values", allBytes],
  ["protocol lines with CR and LF inside the payload", fakeFrame],
];

// a fresh subject prefix per test, so that a late message of one test cannot reach the next
beforeEach(() => {
  s = `t${++seq}`;
});
afterEach(() => fx.cleanup());

describe("payloads from nats.js to nats-xs", () => {
  test.each(payloads)("delivers %s byte for byte", async (_, payload) => {
    await peers();
    const got = xsCollect(`${s}.in`, 1);
    await settle();
    js.publish(`${s}.in`, payload);
    const [m] = await got.done;
    expect(diffBytes(m.data, payload)).toBe("");
  });

  test("a text payload reads back with msg.string()", async () => {
    await peers();
    const got = new Collector<string>(1, "strings");
    xs.subscribe(`${s}.str`, { callback: (_e, m) => got.push((m as Msg).string()) });
    await settle();
    js.publish(`${s}.str`, text);
    expect(await got.done).toEqual([text]);
  });

  test("a 1 MB payload arrives whole when receiveBufferBytes exceeds it", async () => {
    await peers({ receiveBufferBytes: ONE_MB + 4096 });
    const got = xsCollect(`${s}.big`, 1);
    await settle();
    const payload = pattern(ONE_MB, 1);
    js.publish(`${s}.big`, payload);
    const [m] = await got.done;
    expect(diffBytes(m.data, payload)).toBe("");
  });

  test("two 1 MB payloads in a row arrive whole and distinct", async () => {
    await peers({ receiveBufferBytes: ONE_MB + 4096 });
    const got = xsCollect(`${s}.big2`, 2);
    await settle();
    const a = pattern(ONE_MB, 2);
    const b = pattern(ONE_MB, 3);
    js.publish(`${s}.big2`, a);
    js.publish(`${s}.big2`, b);
    const [ma, mb] = await got.done;
    expect(diffBytes(ma.data, a)).toBe("");
    expect(diffBytes(mb.data, b)).toBe("");
  });
});

describe("payloads from nats-xs to nats.js", () => {
  test.each(payloads)("delivers %s byte for byte", async (_, payload) => {
    await peers();
    const got = jsCollect(`${s}.out`, 1);
    await settle();
    xs.publish(`${s}.out`, payload);
    const [m] = await got.done;
    expect(diffBytes(m.data, payload)).toBe("");
  });

  test("a string payload is sent as UTF-8", async () => {
    await peers();
    const got = jsCollect(`${s}.str`, 1);
    await settle();
    xs.publish(`${s}.str`, text);
    const [m] = await got.done;
    expect(m.string()).toBe(text);
  });

  test("publishing with no data sends an empty payload", async () => {
    await peers();
    const got = jsCollect(`${s}.none`, 1);
    await settle();
    xs.publish(`${s}.none`);
    const [m] = await got.done;
    expect(m.data.length).toBe(0);
  });

  test("a 1 MB payload arrives byte for byte", async () => {
    await peers();
    const got = jsCollect(`${s}.big`, 1);
    await settle();
    const payload = pattern(ONE_MB, 4);
    xs.publish(`${s}.big`, payload);
    const [m] = await got.done;
    expect(diffBytes(m.data, payload)).toBe("");
  });

  test("messages of mixed sizes keep their order", async () => {
    await peers();
    const sizes = [0, 1, 100, 5000, 70_000, 3, ONE_MB, 2, 40_000, 0];
    const got = jsCollect(`${s}.mix`, sizes.length);
    await settle();
    sizes.forEach((n, i) => xs.publish(`${s}.mix`, pattern(n, i)));
    const msgs = await got.done;
    msgs.forEach((m, i) => expect(diffBytes(m.data, pattern(sizes[i], i)), `message ${i}`).toBe(""));
  });
});

describe("headers", () => {
  test("nats-xs reads nats.js headers: repeated keys, case, spaces in values", async () => {
    await peers();
    const got = new Collector<{ keys: string[]; multi: string[]; camel: string; spaced: string; data: string }>(1, "messages");
    xs.subscribe(`${s}.h`, {
      callback: (_e, m) => {
        const h = (m as Msg).headers!;
        got.push({ keys: h.keys(), multi: h.values("X-Multi"), camel: h.get("X-CamelCase-Key"), spaced: h.get("x-lower"), data: (m as Msg).string() });
      },
    });
    await settle();
    const h = natsHeaders();
    h.append("X-Multi", "one");
    h.append("X-Multi", "two");
    h.append("X-CamelCase-Key", "Value");
    h.append("x-lower", "a value  with spaces");
    js.publish(`${s}.h`, "body", { headers: h });
    const [m] = await got.done;
    expect(m.keys).toEqual(expect.arrayContaining(["X-Multi", "X-CamelCase-Key", "x-lower"]));
    expect(m.multi).toEqual(["one", "two"]);
    expect(m.camel).toBe("Value");
    expect(m.spaced).toBe("a value  with spaces");
    expect(m.data).toBe("body");
  });

  test("nats.js reads nats-xs headers: repeated keys, case, spaces in values", async () => {
    await peers();
    const got = jsCollect(`${s}.h`, 1);
    await settle();
    const h = headers();
    h.append("X-Multi", "one");
    h.append("X-Multi", "two");
    h.append("X-CamelCase-Key", "Value");
    h.append("x-lower", "a value  with spaces");
    xs.publish(`${s}.h`, "body", { headers: h });
    const [m] = await got.done;
    expect(m.headers).toBeDefined();
    expect(m.headers!.keys()).toEqual(expect.arrayContaining(["X-Multi", "X-CamelCase-Key", "x-lower"]));
    expect(m.headers!.values("X-Multi")).toEqual(["one", "two"]);
    expect(m.headers!.get("X-CamelCase-Key")).toBe("Value");
    expect(m.headers!.get("x-lower")).toBe("a value  with spaces");
    expect(m.string()).toBe("body");
  });

  test("headers with an empty payload reach nats.js", async () => {
    await peers();
    const got = jsCollect(`${s}.h0`, 1);
    await settle();
    const h = headers();
    h.set("Only", "headers");
    xs.publish(`${s}.h0`, undefined, { headers: h });
    const [m] = await got.done;
    expect(m.headers!.get("Only")).toBe("headers");
    expect(m.data.length).toBe(0);
  });

  test("a message with a 503 status header and a body is delivered as a message", async () => {
    await peers();
    const got = new Collector<{ code: number; description: string; hasError: boolean; data: string }>(1, "messages");
    xs.subscribe(`${s}.status`, {
      callback: (err, m) => {
        if (err !== null) throw err;
        const h = (m as Msg).headers!;
        got.push({ code: h.code, description: h.description, hasError: h.hasError, data: (m as Msg).string() });
      },
    });
    await settle();
    js.publish(`${s}.status`, "still data", { headers: natsHeaders(503, "Service Unavailable") });
    expect(await got.done).toEqual([{ code: 503, description: "Service Unavailable", hasError: true, data: "still data" }]);
  });

  test("a message with a 404 status header and no body is delivered to a plain subscription", async () => {
    await peers();
    const got = new Collector<{ code: number; description: string; size: number }>(1, "messages");
    xs.subscribe(`${s}.s404`, {
      callback: (err, m) => {
        if (err !== null) throw err;
        got.push({ code: (m as Msg).headers!.code, description: (m as Msg).headers!.description, size: (m as Msg).data.length });
      },
    });
    await settle();
    js.publish(`${s}.s404`, undefined, { headers: natsHeaders(404, "No Messages") });
    expect(await got.done).toEqual([{ code: 404, description: "No Messages", size: 0 }]);
  });

  test("nats.js reads a status line that nats-xs sends", async () => {
    await peers();
    const got = jsCollect(`${s}.st`, 1);
    await settle();
    const h = headers(503, "Busy Now");
    h.set("Retry", "later");
    xs.publish(`${s}.st`, "x", { headers: h });
    const [m] = await got.done;
    expect(m.headers!.code).toBe(503);
    expect(m.headers!.description).toBe("Busy Now");
    expect(m.headers!.get("Retry")).toBe("later");
  });
});

describe("request and reply", () => {
  test("a nats-xs request gets the data of a nats.js responder", async () => {
    await peers();
    js.subscribe(`${s}.svc`, { callback: (_e, m) => { m.respond(`echo:${m.string()}`); } });
    await settle();
    const reply = await xs.request(`${s}.svc`, "ping", { timeout: 5000 });
    expect(reply.string()).toBe("echo:ping");
  });

  test("a nats-xs request carries headers to the responder and reply headers back", async () => {
    await peers();
    js.subscribe(`${s}.svc`, {
      callback: (_e, m) => {
        const h = natsHeaders();
        h.set("Echo", m.headers?.get("Ask") ?? "missing");
        m.respond(m.data, { headers: h });
      },
    });
    await settle();
    const h = headers();
    h.set("Ask", "question one");
    const reply = await xs.request(`${s}.svc`, pattern(300), { timeout: 5000, headers: h });
    expect(reply.headers!.get("Echo")).toBe("question one");
    expect(diffBytes(reply.data, pattern(300))).toBe("");
  });

  test("a nats.js request gets the data of a nats-xs responder using msg.respond()", async () => {
    await peers();
    xs.subscribe(`${s}.svc`, { callback: (_e, m) => (m as Msg).respond(`xs:${(m as Msg).string()}`) });
    await settle();
    const reply = await js.request(`${s}.svc`, "hi", { timeout: 5000 });
    expect(reply.string()).toBe("xs:hi");
  });

  test("a nats-xs responder can answer with headers and binary data", async () => {
    await peers();
    xs.subscribe(`${s}.svc`, {
      callback: (_e, m) => {
        const h = headers();
        h.set("Content-Kind", "bytes");
        (m as Msg).respond(allBytes, { headers: h });
      },
    });
    await settle();
    const reply = await js.request(`${s}.svc`, "", { timeout: 5000 });
    expect(reply.headers!.get("Content-Kind")).toBe("bytes");
    expect(diffBytes(reply.data, allBytes)).toBe("");
  });

  test("concurrent nats-xs requests each get their own reply", async () => {
    await peers();
    js.subscribe(`${s}.svc`, { callback: (_e, m) => { setTimeout(() => m.respond(`r${m.string()}`), Math.random() * 20); } });
    await settle();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => xs.request(`${s}.svc`, String(i), { timeout: 5000 })));
    expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
  });

  test("a reply from nats-xs stays readable after the callback returned", async () => {
    await peers();
    js.subscribe(`${s}.svc`, { callback: (_e, m) => { m.respond(pattern(2000, 9)); } });
    await settle();
    const first = await xs.request(`${s}.svc`, "a", { timeout: 5000 });
    await xs.request(`${s}.svc`, "b", { timeout: 5000 });
    expect(diffBytes(first.data, pattern(2000, 9))).toBe("");
  });

  test("msg.respond() returns false for a message without a reply subject", async () => {
    await peers();
    const got = new Collector<boolean>(1, "respond results");
    xs.subscribe(`${s}.noreply`, { callback: (_e, m) => got.push((m as Msg).respond("x")) });
    await settle();
    js.publish(`${s}.noreply`, "");
    expect(await got.done).toEqual([false]);
  });

  test("a publish with a reply subject reaches nats.js with that reply", async () => {
    await peers();
    const got = jsCollect(`${s}.r`, 1);
    await settle();
    xs.publish(`${s}.r`, "x", { reply: `${s}.answer.here` });
    const [m] = await got.done;
    expect(m.reply).toBe(`${s}.answer.here`);
  });

  test("a request to a subject without subscribers rejects with NoRespondersError well before its timeout", async () => {
    await peers();
    const started = Date.now();
    const err = await within(
      xs.request(`${s}.nobody`, "x", { timeout: 10_000 }).then(
        () => new Error("resolved"),
        (e: unknown) => e,
      ),
      "the request to settle",
      4000,
    );
    expect(err).toBeInstanceOf(NoRespondersError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("a request whose responder never answers rejects with TimeoutError", async () => {
    await peers();
    const seen = new Collector<string>(1, "requests seen by the silent responder");
    js.subscribe(`${s}.silent`, { callback: (_e, m) => seen.push(m.string()) });
    await settle();
    await expect(xs.request(`${s}.silent`, "anyone?", { timeout: 300 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await seen.done).toEqual(["anyone?"]);
  });

  test("a reply with a status header and a body resolves the request", async () => {
    await peers();
    js.subscribe(`${s}.svc`, { callback: (_e, m) => { m.respond("partial", { headers: natsHeaders(408, "Request Timeout") }); } });
    await settle();
    const reply = await xs.request(`${s}.svc`, "x", { timeout: 5000 });
    expect(reply.headers!.code).toBe(408);
    expect(reply.string()).toBe("partial");
  });
});

describe("queue groups", () => {
  test("a queue group of nats-xs and nats.js members gets each message exactly once", async () => {
    await peers();
    const n = 300;
    const got: string[] = [];
    let xsCount = 0;
    let jsCount = 0;
    xs.subscribe(`${s}.work`, {
      queue: "workers",
      callback: (_e, m) => {
        xsCount++;
        got.push((m as Msg).string());
      },
    });
    js.subscribe(`${s}.work`, {
      queue: "workers",
      callback: (_e, m) => {
        jsCount++;
        got.push(m.string());
      },
    });
    await settle();
    const pub = await fx.js({ servers: server.url });
    for (let i = 0; i < n; i++) pub.publish(`${s}.work`, String(i));
    await pub.flush(); // the server has routed every publish: the members' next PONGs come after them
    await settle();
    expect(got.length).toBe(n);
    expect(new Set(got).size).toBe(n);
    expect(xsCount).toBeGreaterThan(0);
    expect(jsCount).toBeGreaterThan(0);
    expect(xsCount + jsCount).toBe(n);
  });

  test("nats-xs queue subscribers share the messages of a nats-xs publisher with nats.js members", async () => {
    await peers();
    const n = 200;
    const xs2 = (await fx.xs({ servers: server.url })).nc;
    const counts = [0, 0, 0];
    const seen = new Set<string>();
    xs.subscribe(`${s}.q`, { queue: "g", callback: (_e, m) => { counts[0]++; seen.add((m as Msg).string()); } });
    xs2.subscribe(`${s}.q`, { queue: "g", callback: (_e, m) => { counts[1]++; seen.add((m as Msg).string()); } });
    js.subscribe(`${s}.q`, { queue: "g", callback: (_e, m) => { counts[2]++; seen.add(m.string()); } });
    await Promise.all([xs.flush(), xs2.flush(), js.flush()]);
    for (let i = 0; i < n; i++) xs.publish(`${s}.q`, String(i));
    await xs.flush(); // the server has routed every publish: the members' next PONGs come after them
    await Promise.all([xs2.flush(), js.flush(), xs.flush()]);
    expect(counts[0] + counts[1] + counts[2]).toBe(n);
    expect(seen.size).toBe(n);
  });
});

describe("wildcards", () => {
  test("'*' matches exactly one token", async () => {
    await peers();
    const got: string[] = [];
    xs.subscribe(`${s}.*.temp`, { callback: (_e, m) => got.push((m as Msg).subject) });
    await settle();
    for (const subj of [`${s}.a.temp`, `${s}.b.temp`, `${s}.temp`, `${s}.a.b.temp`, `${s}.a.temp.x`, `${s}.a.tempx`]) js.publish(subj, "");
    await settle();
    expect(got).toEqual([`${s}.a.temp`, `${s}.b.temp`]);
  });

  test("'>' matches one or more trailing tokens", async () => {
    await peers();
    const got: string[] = [];
    xs.subscribe(`${s}.dev.>`, { callback: (_e, m) => got.push((m as Msg).subject) });
    await settle();
    for (const subj of [`${s}.dev.a`, `${s}.dev.a.b.c`, `${s}.dev`, `${s}.devx.a`, `${s}.other.a`]) js.publish(subj, "");
    await settle();
    expect(got).toEqual([`${s}.dev.a`, `${s}.dev.a.b.c`]);
  });

  test("'*' and '>' combined deliver the matching subject to nats-xs", async () => {
    await peers();
    const got: string[] = [];
    xs.subscribe(`${s}.*.cmd.>`, { callback: (_e, m) => got.push((m as Msg).subject) });
    await settle();
    for (const subj of [`${s}.d1.cmd.reboot`, `${s}.d2.cmd.led.on`, `${s}.d1.cmd`, `${s}.d1.x.cmd.reboot`]) js.publish(subj, "");
    await settle();
    expect(got).toEqual([`${s}.d1.cmd.reboot`, `${s}.d2.cmd.led.on`]);
  });

  test("nats.js wildcard subscribers receive nats-xs publishes", async () => {
    await peers();
    const got: string[] = [];
    js.subscribe(`${s}.*.x.>`, { callback: (_e, m) => { got.push(m.subject); } });
    await settle();
    for (const subj of [`${s}.a.x.1`, `${s}.a.y.1`, `${s}.a.x`, `${s}.b.x.1.2`]) xs.publish(subj, "");
    await settle();
    expect(got).toEqual([`${s}.a.x.1`, `${s}.b.x.1.2`]);
  });
});

describe("auto-unsubscribe", () => {
  test("subscribe with max: 3 receives exactly 3 messages and then is closed", async () => {
    await peers();
    let n = 0;
    const sub = xs.subscribe(`${s}.max`, { max: 3, callback: () => n++ });
    await settle();
    for (let i = 0; i < 6; i++) js.publish(`${s}.max`, String(i));
    await settle();
    expect(n).toBe(3);
    expect(sub.isClosed()).toBe(true);
    expect(sub.getProcessed()).toBe(3);
  });

  test("sub.unsubscribe(3) receives exactly 3 messages and then is closed", async () => {
    await peers();
    let n = 0;
    const sub = xs.subscribe(`${s}.un`, { callback: () => n++ });
    sub.unsubscribe(3);
    await settle();
    for (let i = 0; i < 6; i++) js.publish(`${s}.un`, String(i));
    await settle();
    expect(n).toBe(3);
    expect(sub.isClosed()).toBe(true);
  });

  test("sub.unsubscribe(3) after 1 message received stops after 3 in total", async () => {
    await peers();
    let n = 0;
    const sub = xs.subscribe(`${s}.un1`, { callback: () => n++ });
    await settle();
    js.publish(`${s}.un1`, "first");
    await settle();
    expect(n).toBe(1);
    sub.unsubscribe(3);
    await xs.flush();
    for (let i = 0; i < 5; i++) js.publish(`${s}.un1`, String(i));
    await settle();
    expect(n).toBe(3);
    expect(sub.isClosed()).toBe(true);
  });

  test("sub.unsubscribe() stops delivery at once", async () => {
    await peers();
    let n = 0;
    const sub = xs.subscribe(`${s}.now`, { callback: () => n++ });
    await settle();
    sub.unsubscribe();
    expect(sub.isClosed()).toBe(true);
    await xs.flush();
    js.publish(`${s}.now`, "x");
    await settle();
    expect(n).toBe(0);
  });
});

describe("limits checked before sending", () => {
  test("a publish over the server's max_payload throws MaxPayloadError and the connection stays usable", async () => {
    const small = await fx.server({ config: "max_payload: 2048\n" });
    const { nc, status } = await fx.xs({ servers: small.url });
    const peer = await fx.js({ servers: small.url });
    expect(nc.info?.max_payload).toBe(2048);
    const got = new Collector<JsMsg>(1, "messages");
    peer.subscribe(`${s}.mp`, { callback: (_e, m) => got.push(m) });
    await peer.flush();
    expect(() => nc.publish(`${s}.mp`, new Uint8Array(3000))).toThrow(MaxPayloadError);
    nc.publish(`${s}.mp`, "fits");
    await nc.flush();
    const [m] = await got.done;
    expect(m.string()).toBe("fits");
    expect(nc.isClosed()).toBe(false);
    expect(status.types()).not.toContain("error");
    expect(status.types()).not.toContain("disconnect");
  });

  test("headers count toward max_payload", async () => {
    const small = await fx.server({ config: "max_payload: 2048\n" });
    const { nc } = await fx.xs({ servers: small.url });
    const h = headers();
    h.set("Padding", "x".repeat(100));
    expect(() => nc.publish(`${s}.mph`, new Uint8Array(2000), { headers: h })).toThrow(MaxPayloadError);
    nc.publish(`${s}.mph`, new Uint8Array(1900), { headers: h });
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
  });

  test("a request over max_payload rejects with MaxPayloadError", async () => {
    const small = await fx.server({ config: "max_payload: 2048\n" });
    const { nc } = await fx.xs({ servers: small.url });
    await expect(nc.request(`${s}.mpr`, new Uint8Array(3000), { timeout: 1000 })).rejects.toBeInstanceOf(MaxPayloadError);
    await nc.flush();
  });

  test.each(["", "a..b", "a b", "foo.*", "foo.>", ".a", "a.", "a\tb", "a\r\nb"])(
    "publish to %j throws InvalidSubjectError",
    async (subject) => {
      await peers();
      expect(() => xs.publish(subject, "x")).toThrow(InvalidSubjectError);
      await xs.flush();
      expect(xsStatus.types()).not.toContain("error");
    },
  );

  test.each(["a.>.b", "", "a..b", "a b", ">.a", "a.b."])("subscribe to %j throws InvalidSubjectError", async (subject) => {
    await peers();
    expect(() => xs.subscribe(subject, { callback: () => {} })).toThrow(InvalidSubjectError);
    await xs.flush();
    expect(xsStatus.types()).not.toContain("error");
  });

  test("a request to a wildcard subject rejects with InvalidSubjectError", async () => {
    await peers();
    await expect(xs.request("foo.*", "x")).rejects.toBeInstanceOf(InvalidSubjectError);
  });

  test("a reply subject with a wildcard is refused", async () => {
    await peers();
    expect(() => xs.publish(`${s}.ok`, "x", { reply: "r.*" })).toThrow(InvalidSubjectError);
  });

  test("a queue name with a space is refused", async () => {
    await peers();
    expect(() => xs.subscribe(`${s}.q`, { queue: "a b", callback: () => {} })).toThrow(InvalidSubjectError);
  });

  test("'a.b*' and 'a.*b' are literal subjects, accepted both ways", async () => {
    await peers();
    const xsGot: string[] = [];
    const jsGot: string[] = [];
    xs.subscribe(`${s}.b*`, { callback: (_e, m) => xsGot.push((m as Msg).subject) });
    js.subscribe(`${s}.*b`, { callback: (_e, m) => { jsGot.push(m.subject); } });
    await settle();
    js.publish(`${s}.b*`, "");
    js.publish(`${s}.bx`, ""); // not matched by the literal b*
    xs.publish(`${s}.*b`, "");
    await settle();
    expect(xsGot).toEqual([`${s}.b*`]);
    expect(jsGot).toEqual([`${s}.*b`]);
  });
});

describe("lifecycle", () => {
  test("drain delivers the messages already sent to a subscription, then closes", async () => {
    await peers();
    const n = 200;
    let got = 0;
    const sub = xs.subscribe(`${s}.drain`, { callback: () => got++ });
    await xs.flush();
    for (let i = 0; i < n; i++) xs.publish(`${s}.drain`, String(i));
    await within(xs.drain(), "drain");
    expect(got).toBe(n);
    expect(sub.isClosed()).toBe(true);
    expect(xs.isClosed()).toBe(true);
    await expect(within(xs.closed(), "closed()")).resolves.toBeUndefined();
  });

  test("drain delivers messages nats.js published before it", async () => {
    await peers();
    const n = 500;
    let got = 0;
    xs.subscribe(`${s}.drainjs`, { callback: () => got++ });
    await settle();
    for (let i = 0; i < n; i++) js.publish(`${s}.drainjs`, pattern(100, i));
    await js.flush();
    await within(xs.drain(), "drain");
    expect(got).toBe(n);
  });

  test("drain sends queued publishes before closing", async () => {
    await peers();
    const got = jsCollect(`${s}.dpub`, 50);
    await settle();
    for (let i = 0; i < 50; i++) xs.publish(`${s}.dpub`, String(i));
    await xs.drain();
    expect((await got.done).map((m) => m.string())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  test("close() then closed() resolves without an error and isClosed() is true", async () => {
    await peers();
    await xs.close();
    await expect(within(xs.closed(), "closed()")).resolves.toBeUndefined();
    expect(xs.isClosed()).toBe(true);
  });

  test("close() sends what was published before it", async () => {
    await peers();
    const got = jsCollect(`${s}.cpub`, 3);
    await settle();
    xs.publish(`${s}.cpub`, "1");
    xs.publish(`${s}.cpub`, "2");
    xs.publish(`${s}.cpub`, pattern(50_000));
    await xs.close();
    const msgs = await got.done;
    expect(msgs.map((m) => m.data.length)).toEqual([1, 1, 50_000]);
  });

  test("publish after close throws ClosedConnectionError", async () => {
    await peers();
    await xs.close();
    expect(() => xs.publish(`${s}.late`, "x")).toThrow(ClosedConnectionError);
  });

  test("subscribe, request and flush after close fail with ClosedConnectionError", async () => {
    await peers();
    await xs.close();
    expect(() => xs.subscribe(`${s}.late`)).toThrow(ClosedConnectionError);
    await expect(xs.request(`${s}.late`, "x")).rejects.toBeInstanceOf(ClosedConnectionError);
    await expect(xs.flush()).rejects.toBeInstanceOf(ClosedConnectionError);
  });

  test("close() ends open subscriptions and a pending request", async () => {
    await peers();
    js.subscribe(`${s}.slow`, { callback: () => {} });
    await settle();
    const sub = xs.subscribe(`${s}.open`, { callback: () => {} });
    const pending = xs.request(`${s}.slow`, "x", { timeout: 10_000 });
    await xs.flush();
    await xs.close();
    await expect(within(pending, "the pending request")).rejects.toBeInstanceOf(ClosedConnectionError);
    expect(sub.isClosed()).toBe(true);
  });

  test("the status stream reports close and ends", async () => {
    await peers();
    await xs.close();
    await xsStatus.next("close", 2000);
  });
});

describe("chunked delivery", () => {
  test("a chunked subscription receives 1 MB through the default 4096-byte receive buffer, in order", async () => {
    await peers();
    const chunks: Array<{ offset: number; size: number; last: boolean; data: Uint8Array }> = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    xs.subscribe(`${s}.chunks`, {
      chunks: true,
      callback: (err, m) => {
        if (err !== null) throw err;
        const c = m as MsgChunk;
        chunks.push({ offset: c.offset, size: c.size, last: c.last, data: c.data.slice() });
        if (c.last) resolve();
      },
    });
    await settle();
    const payload = pattern(ONE_MB, 5);
    js.publish(`${s}.chunks`, payload);
    await within(done, "the last chunk", 10_000);
    expect(xs.options.receiveBufferBytes).toBe(4096);
    expect(chunks.length).toBeGreaterThan(1);
    let offset = 0;
    for (const c of chunks) {
      expect(c.offset).toBe(offset);
      expect(c.size).toBe(ONE_MB);
      offset += c.data.length;
    }
    expect(offset).toBe(ONE_MB);
    expect(chunks.filter((c) => c.last).length).toBe(1);
    expect(chunks[chunks.length - 1].last).toBe(true);
    const whole = new Uint8Array(ONE_MB);
    for (const c of chunks) whole.set(c.data, c.offset);
    expect(diffBytes(whole, payload)).toBe("");
  });

  test("a chunked subscription gets headers with every piece", async () => {
    await peers();
    const seen: string[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    xs.subscribe(`${s}.ch`, {
      chunks: true,
      callback: (_e, m) => {
        seen.push((m as MsgChunk).headers?.get("File") ?? "none");
        if ((m as MsgChunk).last) resolve();
      },
    });
    await settle();
    const h = natsHeaders();
    h.set("File", "firmware.bin");
    js.publish(`${s}.ch`, pattern(20_000), { headers: h });
    await within(done, "the last chunk");
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(["firmware.bin"]));
  });

  test("a chunked subscription receives an empty message as one last piece", async () => {
    await peers();
    const got = new Collector<{ size: number; last: boolean; len: number }>(1, "chunks");
    xs.subscribe(`${s}.ch0`, { chunks: true, callback: (_e, m) => got.push({ size: (m as MsgChunk).size, last: (m as MsgChunk).last, len: (m as MsgChunk).data.length }) });
    await settle();
    js.publish(`${s}.ch0`, new Uint8Array(0));
    expect(await got.done).toEqual([{ size: 0, last: true, len: 0 }]);
  });

  test("a plain subscription gets MessageTooLargeError for 1 MB with the default buffer and the connection stays up", async () => {
    await peers();
    const errors: unknown[] = [];
    const msgs: string[] = [];
    let chunkedLast = 0;
    xs.subscribe(`${s}.big`, {
      callback: (err, m) => {
        if (err !== null) {
          expect(m).toBeNull();
          errors.push(err);
        } else msgs.push((m as Msg).string());
      },
    });
    xs.subscribe(`${s}.big`, { chunks: true, callback: (_e, m) => ((m as MsgChunk).last ? chunkedLast++ : 0) });
    await settle();
    js.publish(`${s}.big`, pattern(ONE_MB));
    js.publish(`${s}.big`, "small after big");
    await js.flush();
    await until(() => msgs.length >= 1, "the small message");
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(MessageTooLargeError);
    expect((errors[0] as MessageTooLargeError).size).toBe(ONE_MB);
    expect(msgs).toEqual(["small after big"]);
    expect(chunkedLast).toBe(2);
    expect(xs.isClosed()).toBe(false);
    expect(xsStatus.types()).not.toContain("disconnect");
    expect(xs.stats().dropped).toBe(1);
  });
});

describe("iterator subscriptions", () => {
  test("for await over a subscription without a callback gets the messages in order", async () => {
    await peers();
    const sub = xs.subscribe(`${s}.iter`);
    await settle();
    for (let i = 0; i < 5; i++) js.publish(`${s}.iter`, `m${i}`);
    const got: Msg[] = [];
    await within(
      (async () => {
        for await (const m of sub) {
          got.push(m);
          if (got.length === 5) break;
        }
      })(),
      "5 iterated messages",
    );
    // iterated messages are copies: still intact after more traffic
    expect(got.map((m) => m.string())).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(sub.isClosed()).toBe(true);
  });

  test("a subscription with a callback refuses to be iterated, as in nats.js, and keeps delivering to its callback", async () => {
    await peers();
    const got = new Collector<string>(1, "callback messages");
    const sub = xs.subscribe(`${s}.cbiter`, { callback: (_e, m) => got.push((m as Msg).string()) });
    expect(() => sub[Symbol.asyncIterator]()).toThrow(/cannot be iterated/);
    await expect(sub.next()).rejects.toThrow(/cannot be iterated/);
    await settle();
    js.publish(`${s}.cbiter`, "still here");
    expect(await got.done).toEqual(["still here"]);
  });

  test("an iterator over a subscription with max ends by itself", async () => {
    await peers();
    const sub = xs.subscribe(`${s}.itermax`, { max: 3 });
    await settle();
    for (let i = 0; i < 5; i++) js.publish(`${s}.itermax`, `m${i}`);
    const got: string[] = [];
    await within(
      (async () => {
        for await (const m of sub) got.push(m.string());
      })(),
      "the iterator to end",
    );
    expect(got).toEqual(["m0", "m1", "m2"]);
  });

  test("an iterator ends when the connection closes", async () => {
    await peers();
    const sub = xs.subscribe(`${s}.iterclose`);
    await settle();
    const loop = (async () => {
      let n = 0;
      for await (const _ of sub) n++;
      return n;
    })();
    js.publish(`${s}.iterclose`, "one");
    await settle();
    await xs.close();
    expect(await within(loop, "the iterator to end")).toBe(1);
  });
});
