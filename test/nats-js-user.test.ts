// What a nats.js user's code meets on nats-xs (issue 13): options nats-xs does not have are refused
// with what to do (never ignored), kept msg.data stays intact, a zeroCopy view read too late
// throws, and `debug: true` traces the protocol and the connection's decisions through `trace()`.
// Runs the built dist/ code through the host simulator against a real nats-server, nats.js as the peer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, InvalidArgumentError } from "nats-xs";
import type { Msg, MsgChunk } from "nats-xs";
import { Collector, Fixture, until } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const fx = new Fixture();
let server: ServerHandle;
let seq = 0;
const subject = () => `user.${process.pid}.${++seq}`;

beforeAll(async () => {
  server = await fx.server();
});
afterAll(() => fx.cleanup());

/** The message connect() rejects `options` with. */
async function refusal(options: Record<string, unknown>): Promise<string> {
  const err = await connect({ servers: server.url, ...options } as never).then(
    (nc) => {
      void nc.close();
      throw new Error(`connect() accepted ${JSON.stringify(Object.keys(options))}`);
    },
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return err.message;
}

describe("options nats-xs does not have are refused, never ignored", () => {
  it("refuses each nats.js connect option it does not honour, saying what to do instead", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["pedantic", true, /pedantic.*leave it out/],
      ["verbose", true, /verbose.*flush\(\)/],
      ["reconnectDelayHandler", () => 10, /reconnectDelayHandler.*reconnectTimeWait/],
      ["reconnectToServer", () => "x", /reconnectToServer.*noRandomize/],
    ];
    for (const [name, value, expected] of cases) {
      const message = await refusal({ [name]: value });
      expect(message, name).toMatch(/does not support the nats.js option/);
      expect(message, name).toMatch(expected);
    }
  });

  it("takes nats.js options whose only meaning nats-xs has as true, and refuses false", async () => {
    for (const name of ["ignoreAuthErrorAbort", "noAsyncTraces", "resolve"]) {
      expect(await refusal({ [name]: false }), name).toMatch(new RegExp(`${name} can only be true`));
      const { nc } = await fx.xs({ servers: server.url, [name]: true });
      expect(nc.isClosed()).toBe(false);
    }
  });

  it("decides every name of nats.js's ConnectionOptions: each is honoured (its value checked) or refused", async () => {
    // the names as @nats-io/nats-core declares them, so that a new nats.js option shows up here
    const { readFileSync } = await import("node:fs");
    const core = new URL("../node_modules/@nats-io/nats-core/lib/core.d.ts", import.meta.url);
    const text = readFileSync(core, "utf8");
    const body = /export interface ConnectionOptions \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? "";
    const names = [...body.matchAll(/^ {4}(\w+)\?:/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(28);
    for (const name of names) {
      if (name === "tls") continue; // the TLS transport decides it
      // a value no option takes: an honoured option says what it must be, a refused one says so
      const message = await refusal({ [name]: 0.5 });
      expect(message, name).not.toMatch(/unknown option/);
      expect(message, name).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });

  it("refuses an unknown option, such as a misspelt one, listing the options", async () => {
    const message = await refusal({ maxReconectAttempts: 3 });
    expect(message).toMatch(/unknown option maxReconectAttempts/);
    expect(message).toMatch(/maxReconnectAttempts/);
  });

  it("honours nats.js's port, and refuses it together with servers", async () => {
    const { nc } = await fx.xs({ port: server.port } as never);
    expect(nc.getServer()).toBe(`127.0.0.1:${server.port}`);
    expect(await refusal({ port: server.port })).toMatch(/port and servers exclude each other/);
  });

  it("refuses a servers list with a non-string entry instead of dropping it", async () => {
    expect(await refusal({ servers: [server.url, 4222] })).toMatch(/servers must hold non-empty strings/);
  });

  it("refuses subscribe, request and publish options nats-xs does not have", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const s = subject();
    expect(() => nc.subscribe(s, { timeout: 1000 } as never)).toThrow(/subscribe\(\): nats-xs does not support the nats.js option timeout.*Timer\.set/);
    expect(() => nc.subscribe(s, { slow: 10 } as never)).toThrow(/option slow.*maxPending/);
    expect(() => nc.subscribe(s, { callbak: () => {} } as never)).toThrow(/subscribe\(\): unknown option callbak/);
    await expect(nc.request(s, "x", { timeout: 100, noMux: true } as never)).rejects.toThrow(/request\(\).*noMux.*publish with \{ reply \}/);
    await expect(nc.request(s, "x", { timeout: 100, reply: "mine" } as never)).rejects.toThrow(/request\(\).*option reply/);
    await expect(nc.request(s, "x", { timeout: 100, traceDestination: "t" } as never)).rejects.toThrow(/traceDestination.*2\.11/);
    expect(() => nc.publish(s, "x", { traceOnly: true } as never)).toThrow(/publish\(\).*traceOnly/);
    expect(() => nc.publish(s, "x", { replyTo: "r" } as never)).toThrow(/publish\(\): unknown option replyTo/);
    // nothing was sent or subscribed by the refused calls; the honoured forms still work
    expect(nc.stats().outMsgs).toBe(0);
    nc.publish(s, "x", { reply: "r", headers: undefined });
    expect(nc.stats().outMsgs).toBe(1);
  });
});

describe("msg.json takes nats.js's reviver", () => {
  it("passes the reviver to JSON.parse", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const js = await fx.js({ servers: server.url });
    const s = subject();
    const got = new Collector<unknown>(1, "message");
    nc.subscribe(s, { callback: (_err, msg) => got.push((msg as Msg).json((k, v) => (k === "t" ? new Date(v as number).getUTCFullYear() : v))) });
    await nc.flush();
    js.publish(s, JSON.stringify({ t: Date.UTC(2026, 10, 30), n: 1 }));
    expect(await got.done).toEqual([{ t: 2026, n: 1 }]);
  });
});

describe("msg.data that the caller keeps stays intact", () => {
  it("keeps every payload of a callback subscription intact after later messages arrive", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const js = await fx.js({ servers: server.url });
    const s = subject();
    const kept = new Collector<Uint8Array>(200, "messages");
    nc.subscribe(s, { callback: (_err, msg) => kept.push((msg as Msg).data) });
    await nc.flush();
    for (let i = 0; i < 200; i++) js.publish(s, new TextEncoder().encode(`message ${i} ${"x".repeat(i % 50)}`));
    const all = await kept.done;
    all.forEach((data, i) => expect(new TextDecoder().decode(data)).toBe(`message ${i} ${"x".repeat(i % 50)}`));
  });

  it("keeps headers read after the callback intact", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const js = await fx.js({ servers: server.url });
    const { headers: jsHeaders } = await import("@nats-io/transport-node");
    const s = subject();
    const kept = new Collector<Msg>(20, "messages");
    nc.subscribe(s, { callback: (_err, msg) => kept.push(msg as Msg) });
    await nc.flush();
    for (let i = 0; i < 20; i++) {
      const h = jsHeaders();
      h.set("N", String(i));
      js.publish(s, `m${i}`, { headers: h });
    }
    const all = await kept.done;
    all.forEach((m, i) => {
      expect(m.headers?.get("N")).toBe(String(i));
      expect(m.string()).toBe(`m${i}`);
    });
  });

  it("zeroCopy gives views; reading the message after its callback throws, and msg.copy() made inside keeps it", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const js = await fx.js({ servers: server.url });
    const s = subject();
    const late = new Collector<Msg>(2, "messages");
    const copies: Msg[] = [];
    nc.subscribe(s, {
      zeroCopy: true,
      callback: (_err, msg) => {
        copies.push((msg as Msg).copy());
        late.push(msg as Msg);
      },
    });
    await nc.flush();
    js.publish(s, "first");
    js.publish(s, "second");
    const [first] = await late.done;
    expect(() => first.string()).toThrow(InvalidArgumentError);
    expect(() => first.json()).toThrow(/read after its callback returned.*msg\.copy\(\)/);
    expect(() => first.copy()).toThrow(/msg\.copy\(\) inside the callback/);
    expect(copies.map((m) => m.string())).toEqual(["first", "second"]);
  });

  it("a chunk read after its callback throws the same way", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const js = await fx.js({ servers: server.url });
    const s = subject();
    const chunks: MsgChunk[] = [];
    nc.subscribe(s, { chunks: true, callback: (_err, msg) => chunks.push(msg as MsgChunk) });
    await nc.flush();
    js.publish(s, "piece");
    await until(() => chunks.some((c) => c.last), "the last chunk");
    expect(() => chunks[0].string()).toThrow(/read after its callback returned/);
  });
});

describe("debug: true traces the protocol and the connection's decisions", () => {
  it("writes protocol lines and decisions with trace(), with secrets redacted and no payload", async () => {
    const lines: string[] = [];
    const g = globalThis as unknown as { trace: (...v: unknown[]) => void };
    const original = g.trace;
    g.trace = (...v: unknown[]) => {
      lines.push(v.join(""));
    };
    try {
      const auth = await fx.server({ config: "authorization { user: u, password: s3cret }\n" });
      const { nc } = await fx.xs({ servers: `nats://u:s3cret@127.0.0.1:${auth.port}`, debug: true });
      const s = subject();
      const got = new Collector<string>(1, "message");
      nc.subscribe(s, { callback: (_err, msg) => got.push((msg as Msg).string()) });
      nc.publish(s, "payload-not-traced");
      await got.done;
      await nc.flush();
      await nc.close();
      const text = lines.join("");
      expect(text).toMatch(new RegExp(`nats-xs - dialing 127\\.0\\.0\\.1:${auth.port}\\n`));
      expect(text).toMatch(/nats-xs < INFO \{/);
      expect(text).toMatch(/nats-xs > CONNECT \{.*"lang":"nats-xs"/);
      expect(text).toMatch(/nats-xs - connected to /);
      expect(text).toContain(`nats-xs > SUB ${s} 1\n`);
      expect(text).toContain(`nats-xs > PUB ${s} 18\n`);
      expect(text).toContain(`nats-xs < MSG ${s} 1 18\n`);
      expect(text).toMatch(/nats-xs > PING\n[\s\S]*nats-xs < PONG\n/);
      expect(text).toMatch(/nats-xs - status close/);
      expect(text).not.toContain("payload-not-traced");
      expect(text).not.toContain("s3cret");
      expect(text).toMatch(/"pass":"\[redacted\]"/);
    } finally {
      g.trace = original;
    }
  });

  it("traces a lost connection and the reconnect", async () => {
    const lines: string[] = [];
    const g = globalThis as unknown as { trace: (...v: unknown[]) => void };
    const original = g.trace;
    g.trace = (...v: unknown[]) => {
      lines.push(v.join(""));
    };
    try {
      const own = await fx.server();
      const { nc, status } = await fx.xs({ servers: own.url, debug: true, reconnectTimeWait: 100 });
      await own.kill();
      await own.restart();
      await status.next("reconnect", 10_000);
      const text = lines.join("");
      expect(text).toMatch(/nats-xs - dropping the connection to 127\.0\.0\.1:\d+/);
      expect(text).toMatch(/nats-xs - status disconnect/);
      expect(text).toMatch(/nats-xs - status reconnect 127\.0\.0\.1/);
      await nc.close();
    } finally {
      g.trace = original;
    }
  });

  it("writes nothing when debug is off", async () => {
    const lines: string[] = [];
    const g = globalThis as unknown as { trace: (...v: unknown[]) => void };
    const original = g.trace;
    g.trace = (...v: unknown[]) => {
      lines.push(v.join(""));
    };
    try {
      const { nc } = await fx.xs({ servers: server.url });
      const s = subject();
      const got = new Collector<string>(1, "message");
      nc.subscribe(s, { callback: (_err, msg) => got.push((msg as Msg).string()) });
      nc.publish(s, "quiet");
      await got.done;
      await nc.close();
      expect(lines).toEqual([]);
    } finally {
      g.trace = original;
    }
  });
});
