// nats-xs/services (the built dist/ code through the host simulator) against a real nats-server,
// with @nats-io/services 3.0.0-25 as the peer: a backend discovers the device's service with the
// peer's client (PING, INFO, STATS in their three subject forms), calls its endpoints and groups,
// sees the ADR-32 error headers, counts, queue groups across two device instances, stop, option and
// name checks, and hostile requests.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ServiceError as PeerServiceError, Svcm as PeerSvcm } from "@nats-io/services";
import type { ServiceClient, ServiceIdentity as PeerIdentity, ServiceInfo as PeerInfo, ServiceStats as PeerStats } from "@nats-io/services";
import type { Msg as JsMsg, NatsConnection as JsConnection } from "@nats-io/transport-node";
import { headers as jsHeaders } from "@nats-io/transport-node";
import type { NatsConnection } from "nats-xs";
import { headers, InvalidArgumentError, InvalidSubjectError, JsonLimitError } from "nats-xs";
import { LAST_ERROR_MAX, ServiceError, ServiceErrorCodeHeader, ServiceErrorHeader, Svcm, validateVersion } from "nats-xs/services";
import type { Service, ServiceMsg } from "nats-xs/services";
import { Fixture, until, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let nc: NatsConnection;
let peer: JsConnection;
let seq = 0;
/** A service name of this test's own (the server is shared). */
let NAME: string;

beforeAll(async () => {
  server = await shared.server();
});
afterAll(() => shared.cleanup());
beforeEach(async () => {
  NAME = `svc${++seq}`;
  ({ nc } = await fx.xs({ servers: server.url, name: "device-svc" }));
  peer = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

/** The peer's discovery client, waiting for `n` answers (5 s at most). */
function client(n: number): ServiceClient {
  return new PeerSvcm(peer).client({ strategy: "count", maxMessages: n, maxWait: 5000 });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** The answers with our service's name (a `$SRV.PING` also reaches services of other tests). */
function mine<T extends { name: string }>(all: T[]): T[] {
  return all.filter((a) => a.name === NAME);
}

async function sensor(conn = nc, extra: Record<string, unknown> = {}): Promise<Service> {
  const svc = await new Svcm(conn).add({ name: NAME, version: "1.2.3-rc.1+b7", description: "a sensor", metadata: { site: "lab" }, ...extra });
  svc.addEndpoint("ping", { handler: (_err, msg) => void msg.respond("pong"), metadata: { idempotent: "yes" } });
  const cmd = svc.addGroup("cmd");
  cmd.addEndpoint("reboot", (_err, msg) => void msg.respond(`rebooting ${msg.string()}`));
  cmd.addEndpoint("config", { subject: "config.*", handler: (_err, msg) => void msg.respond(msg.subject) });
  await nc.flush();
  if (conn !== nc) await conn.flush();
  return svc;
}

describe("discovery by a nats.js backend", () => {
  test("PING in all three subject forms: type, name, id (a NUID), version, metadata", async () => {
    const svc = await sensor();
    expect(svc.id).toMatch(/^[0-9A-Za-z]{22}$/);
    const all = mine(await collect<PeerIdentity>(await client(1).ping()));
    const byName = await collect<PeerIdentity>(await client(1).ping(NAME));
    const byId = await collect<PeerIdentity>(await client(1).ping(NAME, svc.id));
    for (const answers of [all, byName, byId]) {
      expect(answers).toEqual([{ type: "io.nats.micro.v1.ping_response", name: NAME, id: svc.id, version: "1.2.3-rc.1+b7", metadata: { site: "lab" } }]);
    }
    // another id of the same name is not this instance: nobody answers
    await expect(collect(await client(1).ping(NAME, "OTHERID"))).rejects.toThrow(/no responders/i);
  });

  test("INFO lists every endpoint with its subject, queue group and metadata, in all three forms", async () => {
    const svc = await sensor();
    const expected = {
      type: "io.nats.micro.v1.info_response",
      name: NAME,
      id: svc.id,
      version: "1.2.3-rc.1+b7",
      description: "a sensor",
      metadata: { site: "lab" },
      endpoints: [
        { name: "ping", subject: "ping", queue_group: "q", metadata: { idempotent: "yes" } },
        { name: "reboot", subject: "cmd.reboot", queue_group: "q", metadata: {} },
        { name: "config", subject: "cmd.config.*", queue_group: "q", metadata: {} },
      ],
    };
    expect(mine(await collect<PeerInfo>(await client(1).info()))).toEqual([expected]);
    expect(await collect<PeerInfo>(await client(1).info(NAME))).toEqual([expected]);
    expect(await collect<PeerInfo>(await client(1).info(NAME, svc.id))).toEqual([expected]);
    expect(svc.info()).toEqual(expected);
  });

  test("STATS in all three forms counts requests and errors per endpoint; times are whole nanoseconds", async () => {
    const svc = await sensor();
    for (let i = 0; i < 5; i++) expect((await peer.request("ping", "", { timeout: 5000 })).string()).toBe("pong");
    expect((await peer.request("cmd.reboot", "now", { timeout: 5000 })).string()).toBe("rebooting now");
    expect((await peer.request("cmd.config.led", "", { timeout: 5000 })).string()).toBe("cmd.config.led");
    const before = Date.now();
    for (const answers of [mine(await collect<PeerStats>(await client(1).stats())), await collect<PeerStats>(await client(1).stats(NAME)), await collect<PeerStats>(await client(1).stats(NAME, svc.id))]) {
      expect(answers).toHaveLength(1);
      const s = answers[0];
      expect(s).toMatchObject({ type: "io.nats.micro.v1.stats_response", name: NAME, id: svc.id, version: "1.2.3-rc.1+b7", metadata: { site: "lab" } });
      expect(s.started).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(s.started) - before)).toBeLessThan(120_000);
      expect(s.endpoints?.map((e) => [e.name, e.subject, e.queue_group, e.num_requests, e.num_errors, e.last_error])).toEqual([
        ["ping", "ping", "q", 5, 0, ""],
        ["reboot", "cmd.reboot", "q", 1, 0, ""],
        ["config", "cmd.config.*", "q", 1, 0, ""],
      ]);
      for (const e of s.endpoints ?? []) {
        expect(Number.isSafeInteger(e.processing_time) && e.processing_time >= 0).toBe(true);
        expect(Number.isSafeInteger(e.average_processing_time) && e.average_processing_time >= 0).toBe(true);
        expect(e.average_processing_time).toBe(e.num_requests === 0 ? 0 : Math.round(e.processing_time / e.num_requests));
      }
    }
    svc.reset();
    const after = (await svc.stats()).endpoints;
    expect(after.map((e) => [e.num_requests, e.num_errors, e.processing_time, e.last_error])).toEqual([
      [0, 0, 0, ""],
      [0, 0, 0, ""],
      [0, 0, 0, ""],
    ]);
  });

  test("the answers carry every field a nats.js service's answers carry, of the same JSON type", async () => {
    const svc = await sensor();
    const theirs = await new PeerSvcm(peer).add({ name: `${NAME}js`, version: "1.2.3-rc.1+b7", description: "a sensor", metadata: { site: "lab" } });
    theirs.addEndpoint("pingjs", { handler: (_e, m) => void m.respond("pong"), metadata: { idempotent: "yes" } });
    theirs.addEndpoint("failjs", (_e, m) => void m.respondError(500, "no"));
    svc.addEndpoint("fail", (_e, m) => void m.respondError(500, "no"));
    await peer.flush();
    await nc.flush();
    await peer.request("failjs", "", { timeout: 5000 });
    await peer.request("fail", "", { timeout: 5000 });
    const shape = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
      if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === "metadata" ? "object" : shape(x)]));
      return typeof v;
    };
    for (const verb of ["PING", "INFO", "STATS"]) {
      const a = JSON.parse((await peer.request(`$SRV.${verb}.${NAME}`, "", { timeout: 5000 })).string());
      const b = JSON.parse((await peer.request(`$SRV.${verb}.${NAME}js`, "", { timeout: 5000 })).string());
      const want = shape(b) as Record<string, unknown>;
      const got = shape(a) as Record<string, unknown>;
      // every field nats.js sends is here, with the same JSON type (ours may add last_error "" where nats.js omits it)
      expect(got).toMatchObject(want);
      expect(a.type).toBe(b.type);
    }
    await theirs.stop();
  });
});

describe("endpoints and groups", () => {
  test("groups nest; an endpoint's subject is below its group's; queue groups come from the endpoint, the group, then the service", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0", queue: "svcq" });
    const a = svc.addGroup("a", "aq");
    const b = a.addGroup("b");
    const c = b.addGroup("c", "");
    a.addEndpoint("x", (_e, m) => void m.respond("a.x"));
    b.addEndpoint("y", { subject: "why", handler: (_e, m) => void m.respond("a.b.why") });
    c.addEndpoint("z", (_e, m) => void m.respond("a.b.c.z"));
    svc.addEndpoint("w", { queue: "own", handler: (_e, m) => void m.respond("w") });
    svc.addGroup("").addEndpoint("v", (_e, m) => void m.respond("v"));
    await nc.flush();
    for (const [subject, body] of [["a.x", "a.x"], ["a.b.why", "a.b.why"], ["a.b.c.z", "a.b.c.z"], ["w", "w"], ["v", "v"]])
      expect((await peer.request(subject, "", { timeout: 5000 })).string()).toBe(body);
    expect(svc.info().endpoints.map((e) => [e.subject, e.queue_group])).toEqual([
      ["a.x", "aq"],
      ["a.b.why", "aq"],
      ["a.b.c.z", ""],
      ["w", "own"],
      ["v", "svcq"],
    ]);
  });

  test("an endpoint without a handler is read with for await; ending the loop stops the service", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    const ep = svc.addEndpoint("echo");
    await nc.flush();
    const loop = (async () => {
      let n = 0;
      for await (const m of ep) {
        m.respond(`echo ${m.string()}`);
        if (++n === 3) break;
      }
      return n;
    })();
    for (let i = 0; i < 3; i++) expect((await peer.request("echo", `${i}`, { timeout: 5000 })).string()).toBe(`echo ${i}`);
    expect(await within(loop, "the loop to end")).toBe(3);
    expect(await within(svc.stopped, "the service to stop")).toBeNull();
    expect(svc.isStopped).toBe(true);
    expect((await svc.stats()).endpoints[0].num_requests).toBe(3);
    expect(() => svc.addEndpoint("late", () => {})).toThrow(InvalidArgumentError);
  });

  test("a handler endpoint cannot also be iterated", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    const ep = svc.addEndpoint("h", () => {});
    expect(() => ep[Symbol.asyncIterator]()).toThrow(InvalidArgumentError);
  });

  test("a statsHandler's value is each endpoint's data; one that throws counts an error", async () => {
    const svc = await new Svcm(nc).add({
      name: NAME,
      version: "1.0.0",
      statsHandler: async (e) => {
        if (e.name === "bad") throw new Error("stats failed");
        return { depth: 7, of: e.name };
      },
    });
    svc.addEndpoint("good", () => {});
    svc.addEndpoint("bad", () => {});
    await nc.flush();
    const s = (await collect<PeerStats>(await client(1).stats(NAME)))[0];
    expect(s.endpoints?.[0]).toMatchObject({ name: "good", data: { depth: 7, of: "good" }, num_errors: 0 });
    expect(s.endpoints?.[1]).toMatchObject({ name: "bad", num_errors: 1, last_error: "stats failed" });
  });
});

describe("queue groups across devices", () => {
  test("two device instances in the default queue group share the requests; both answer discovery", async () => {
    const { nc: nc2 } = await fx.xs({ servers: server.url, name: "device-svc-2" });
    const served = [0, 0];
    const one = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    const two = await new Svcm(nc2).add({ name: NAME, version: "1.0.0" });
    one.addEndpoint("work", (_e, m) => void (served[0]++, m.respond("1")));
    two.addEndpoint("work", (_e, m) => void (served[1]++, m.respond("2")));
    await nc.flush();
    await nc2.flush();
    const N = 60;
    for (let i = 0; i < N; i++) await peer.request("work", "", { timeout: 5000 });
    expect(served[0] + served[1]).toBe(N);
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    const pings = await collect<PeerIdentity>(await client(2).ping(NAME));
    expect(pings.map((p) => p.id).sort()).toEqual([one.id, two.id].sort());
    const stats = await collect<PeerStats>(await client(2).stats(NAME));
    expect(stats.map((s) => s.endpoints?.[0].num_requests ?? -1).reduce((a, b) => a + b)).toBe(N);
  });

  test('with queue "" every instance gets every request', async () => {
    const { nc: nc2 } = await fx.xs({ servers: server.url, name: "device-svc-2" });
    const got = [0, 0];
    const one = await new Svcm(nc).add({ name: NAME, version: "1.0.0", queue: "" });
    const two = await new Svcm(nc2).add({ name: NAME, version: "1.0.0", queue: "" });
    one.addEndpoint("all", (_e, m) => void (got[0]++, m.respond("1")));
    two.addEndpoint("all", (_e, m) => void (got[1]++, m.respond("2")));
    await nc.flush();
    await nc2.flush();
    for (let i = 0; i < 5; i++) peer.publish("all", "x");
    await peer.flush();
    await until(() => got[0] === 5 && got[1] === 5, `both instances to take 5 (${got})`);
    expect(one.info().endpoints[0].queue_group).toBe("");
  });
});

describe("errors a nats.js requester sees", () => {
  let svc: Service;
  beforeEach(async () => {
    svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
  });

  async function ask(subject: string, data: string | Uint8Array = ""): Promise<JsMsg> {
    return await peer.request(subject, data, { timeout: 5000 });
  }

  test("respondError sets Nats-Service-Error and Nats-Service-Error-Code, keeps the caller's headers, and counts", async () => {
    svc.addEndpoint("busy", (_e, m) => {
      const h = headers();
      h.set("X-Reading", "21.5");
      void m.respondError(409, "busy updating", "detail", { headers: h });
    });
    svc.addEndpoint("plain", (_e, m) => void m.respondError(404, "no such sensor"));
    await nc.flush();
    const r = await ask("busy");
    expect(r.headers?.get(ServiceErrorCodeHeader)).toBe("409");
    expect(r.headers?.get(ServiceErrorHeader)).toBe("busy updating");
    expect(r.string()).toBe("detail");
    expect(r.headers?.get("X-Reading")).toBe("21.5");
    const e = PeerServiceError.toServiceError(r);
    expect(e?.code).toBe(409);
    expect(e?.message).toBe("busy updating");
    expect(PeerServiceError.toServiceError(await ask("plain"))?.code).toBe(404);
    const st = (await svc.stats()).endpoints;
    expect(st.map((x) => [x.name, x.num_requests, x.num_errors, x.last_error])).toEqual([
      ["busy", 1, 1, "409:busy updating"],
      ["plain", 1, 1, "404:no such sensor"],
    ]);
  });

  test("a handler that throws is answered 500 with its message and counted; a ServiceError keeps its code; a rejection too", async () => {
    svc.addEndpoint("throws", () => {
      throw new Error("sensor on fire");
    });
    svc.addEndpoint("typed", () => {
      throw new ServiceError(503, "calibrating");
    });
    svc.addEndpoint("rejects", async () => {
      await Promise.resolve();
      throw new Error("later");
    });
    svc.addEndpoint("string", () => {
      throw "not an Error";
    });
    await nc.flush();
    const codes: [number | undefined, string | undefined][] = [];
    for (const s of ["throws", "typed", "rejects", "string"]) {
      const e = PeerServiceError.toServiceError(await ask(s));
      codes.push([e?.code, e?.message]);
    }
    expect(codes).toEqual([
      [500, "sensor on fire"],
      [503, "calibrating"],
      [500, "later"],
      [500, "not an Error"],
    ]);
    expect((await svc.stats()).endpoints.map((x) => [x.num_requests, x.num_errors, x.last_error])).toEqual([
      [1, 1, "500:sensor on fire"],
      [1, 1, "503:calibrating"],
      [1, 1, "500:later"],
      [1, 1, "500:not an Error"],
    ]);
    // the device's own ServiceError reads the peer's answer too
    expect(ServiceError.toServiceError(await nc.request("typed", "", { timeout: 5000 }))?.code).toBe(503);
    expect(ServiceError.isServiceError(await nc.request("typed", "", { timeout: 5000 }))).toBe(true);
  });

  test("respondError refuses a code that is not a whole number, and a description with a line break", async () => {
    let seen: unknown[] = [];
    svc.addEndpoint("misuse", (_e, m) => {
      seen = [];
      for (const f of [() => m.respondError(4.5, "x"), () => m.respondError(NaN, "x"), () => m.respondError(400, "a\r\nInjected: yes")])
        try {
          f();
        } catch (err) {
          seen.push((err as Error).name);
        }
      m.respond("ok");
    });
    await nc.flush();
    expect((await ask("misuse")).string()).toBe("ok");
    expect(seen).toEqual(["InvalidArgumentError", "InvalidArgumentError", "InvalidArgumentError"]);
  });
});

describe("hostile requests", () => {
  test("a payload nested past the bound is refused by json() before parsing, answered 500 and counted; the service goes on", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    let kind = "";
    svc.addEndpoint("cfg", (_e, m: ServiceMsg) => {
      try {
        m.json();
      } catch (err) {
        kind = (err as Error).name;
        throw err;
      }
      m.respond("applied");
    });
    await nc.flush();
    const deep = "[".repeat(1500) + "]".repeat(1500);
    const r = await peer.request("cfg", deep, { timeout: 5000 });
    expect(kind).toBe(new JsonLimitError("depth", 32).name);
    expect(PeerServiceError.toServiceError(r)?.code).toBe(500);
    expect((await peer.request("cfg", '{"interval":5}', { timeout: 5000 })).string()).toBe("applied");
    const s = (await svc.stats()).endpoints[0];
    expect([s.num_requests, s.num_errors]).toEqual([2, 1]);
  });

  test("an error message from a handler is cut to one line of LAST_ERROR_MAX characters in the header and in STATS", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    svc.addEndpoint("leak", (_e, m) => {
      throw new Error(`bad input ${m.string()}`);
    });
    await nc.flush();
    const payload = "x\r\nInjected: yes\r\n" + "y".repeat(3000);
    const r = await peer.request("leak", payload, { timeout: 5000 });
    const text = r.headers?.get(ServiceErrorHeader) ?? "";
    expect(text.length).toBe(LAST_ERROR_MAX);
    expect(text).not.toMatch(/[\r\n]/);
    expect(r.headers?.has("Injected")).toBe(false);
    const last = (await svc.stats()).endpoints[0].last_error;
    expect(last.length).toBeLessThanOrEqual(LAST_ERROR_MAX);
    expect(last).not.toMatch(/[\r\n]/);
  });

  test("discovery ignores the payload and headers of a request, answers one without a reply subject with nothing, and leaves unknown verbs unanswered", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    await nc.flush();
    const h = jsHeaders();
    h.set("X-Junk", "z".repeat(1000));
    const r = await peer.request(`$SRV.INFO.${NAME}`, new Uint8Array(2000).fill(91), { timeout: 5000, headers: h });
    expect(JSON.parse(r.string()).id).toBe(svc.id);
    // a request larger than the receive buffer is skipped and counted by the core; discovery goes on
    const dropped = nc.stats().dropped;
    await expect(peer.request(`$SRV.INFO.${NAME}`, new Uint8Array(200_000), { timeout: 500 })).rejects.toThrow();
    expect(nc.stats().dropped).toBe(dropped + 1);
    peer.publish(`$SRV.PING.${NAME}`, "no reply wanted");
    await expect(peer.request(`$SRV.SCHEMA.${NAME}`, "", { timeout: 400 })).rejects.toThrow();
    await expect(peer.request(`$SRV.ping.${NAME}`, "", { timeout: 400 })).rejects.toThrow();
    // still serving
    expect(JSON.parse((await peer.request(`$SRV.PING.${NAME}.${svc.id}`, "", { timeout: 5000 })).string()).type).toBe("io.nats.micro.v1.ping_response");
    expect(nc.isClosed()).toBe(false);
  });
});

describe("hostile requests to endpoints", () => {
  test("a request larger than the receive buffer never reaches the handler: counted as a request and an error, the endpoint goes on", async () => {
    const svc = await new Svcm(nc).add({ name: NAME, version: "1.0.0" });
    let calls = 0;
    svc.addEndpoint("small", (_e, m) => void (calls++, m.respond("ok")));
    await nc.flush();
    await expect(peer.request("small", new Uint8Array(100_000), { timeout: 500 })).rejects.toThrow();
    expect((await peer.request("small", "x", { timeout: 5000 })).string()).toBe("ok");
    expect(calls).toBe(1);
    const s = (await svc.stats()).endpoints[0];
    expect([s.num_requests, s.num_errors, svc.isStopped]).toEqual([2, 1, false]);
    expect(s.last_error).toMatch(/^a message of 100\d{3} bytes on "small"/);
    expect(s.last_error.length).toBeLessThanOrEqual(LAST_ERROR_MAX);
  });
});

describe("stop", () => {
  test("stop() drains every subscription: no discovery answer and no responders for its endpoints; stopped resolves with the error given", async () => {
    const svc = await sensor();
    const err = new Error("maintenance");
    expect(await within(svc.stop(err), "stop")).toBe(err);
    expect(await svc.stopped).toBe(err);
    expect(await svc.stop()).toBe(err);
    expect(svc.isStopped).toBe(true);
    await nc.flush();
    await expect(collect(await client(1).ping(NAME))).rejects.toThrow(/no responders/i);
    await expect(peer.request("ping", "", { timeout: 2000 })).rejects.toThrow(/no responders|503/i);
    await expect(peer.request("cmd.reboot", "", { timeout: 2000 })).rejects.toThrow(/no responders|503/i);
    expect(nc.isClosed()).toBe(false);
  });

  test("closing the connection stops the service", async () => {
    const { nc: nc2 } = await fx.xs({ servers: server.url, name: "device-svc-2" });
    const svc = await new Svcm(nc2).add({ name: NAME, version: "1.0.0" });
    const stopped = svc.stopped;
    await nc2.close();
    expect(await within(stopped, "the service to stop")).toBeNull();
    expect(svc.isStopped).toBe(true);
  });
});

describe("checks", () => {
  test("names are A-Z a-z 0-9 - _ only; versions are SemVer; unknown options are refused", async () => {
    const svcm = new Svcm(nc);
    for (const name of ["", "a.b", "a b", "ü", "a*", "$SRV"]) await expect(svcm.add({ name, version: "1.0.0" })).rejects.toThrow(InvalidArgumentError);
    for (const version of ["", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b", "1.0.0 ", "1.0.0_x"])
      expect(() => validateVersion(version), version).toThrow(InvalidArgumentError);
    for (const version of ["0.0.0", "1.2.3", "10.20.30-alpha.1", "1.0.0-0A.is.legal", "1.0.0+20130313144700", "1.0.0-rc.1+build.1-x", "1.0.0-0"]) expect(validateVersion(version)).toBe(version);
    await expect(svcm.add({ name: NAME, version: "1.0" })).rejects.toThrow(/SemVer/);
    await expect(svcm.add({ name: NAME, version: "1.0.0", queueGroup: "x" } as never)).rejects.toThrow(/unknown option queueGroup/);
    await expect(svcm.add({ name: NAME, version: "1.0.0", metadata: { n: 1 } } as never)).rejects.toThrow(InvalidArgumentError);
    await expect(svcm.add({ name: NAME, version: "1.0.0", queue: "a b" })).rejects.toThrow(InvalidArgumentError);
    expect(() => svcm.client()).toThrow(/no service client/);
    const svc = await svcm.add({ name: NAME, version: "1.0.0" });
    expect(() => svc.addEndpoint("a.b", () => {})).toThrow(InvalidArgumentError);
    expect(() => svc.addEndpoint("ok", { handler: () => {}, schema: {} } as never)).toThrow(/unknown option schema/);
    expect(() => svc.addEndpoint("ok", { subject: "a..b", handler: () => {} })).toThrow(InvalidSubjectError);
    expect(() => svc.addEndpoint("ok", { subject: "a.>.b", handler: () => {} })).toThrow(InvalidSubjectError);
    expect(() => svc.addGroup("a.>")).toThrow(InvalidArgumentError);
    expect(() => svc.addGroup("a b")).toThrow(InvalidArgumentError);
    expect(() => svc.addEndpoint("ok", { queue: "a b", handler: () => {} })).toThrow(InvalidSubjectError);
    expect(Object.isFrozen(svc.metadata)).toBe(true);
  });
});
