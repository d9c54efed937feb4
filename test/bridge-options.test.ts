// The bridge's calls refuse option names they do not have (issue 13, point 1): a typo or an option
// of another call is an InvalidArgumentError naming it, before anything is sent or subscribed; and
// smartrequest's NoRespondersError names the subject the caller gave, not the reply inbox.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InvalidArgumentError, NoRespondersError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { smartreceive, smartreply, smartrequest, smartsend, smartsubscribe } from "nats-xs/bridge";
import type { MessageEnvelope } from "nats-xs/bridge";
import { Collector, Fixture } from "./helpers.js";

const fx = new Fixture();
let xs: NatsConnection;
const payloads = [{ dataname: "q", type: "text", data: "?" }];

beforeAll(async () => {
  const server = await fx.server();
  ({ nc: xs } = await fx.xs({ servers: server.url, name: "device-7" }));
});
afterAll(() => fx.cleanup());

/** Options of a type the call does not declare, as a JavaScript caller passes them. */
function loose<T>(o: Record<string, unknown>): T {
  return o as T;
}

describe("bridge option names", () => {
  test("smartsend refuses an unknown name, naming it and the call", async () => {
    const e = await smartsend(xs, "opt.a", payloads, loose({ fileserverUrl: "http://127.0.0.1:1" })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toMatch(/^smartsend\(\): unknown option fileserverUrl; the options are .*fileserver_url/);
  });

  test("smartsend refuses a receive option (max_size is smartsubscribe's)", async () => {
    await expect(smartsend(xs, "opt.b", payloads, loose({ max_size: 10 }))).rejects.toThrow(/smartsend\(\): unknown option max_size/);
  });

  test("smartsend takes a name given as undefined as absent", async () => {
    const env = await smartsend(xs, "opt.c", payloads, loose({ msg_purpose: "chat", nothing: undefined }));
    expect(env.msg_purpose).toBe("chat");
  });

  test("smartsubscribe refuses an unknown name at once and subscribes nothing", () => {
    const before = xs.stats().subscriptions;
    expect(() => smartsubscribe(xs, "opt.d", loose({ callback: () => {}, maxSize: 10 }))).toThrow(InvalidArgumentError);
    expect(() => smartsubscribe(xs, "opt.d", loose({ callback: () => {}, maxSize: 10 }))).toThrow(/smartsubscribe\(\): unknown option maxSize/);
    expect(xs.stats().subscriptions).toBe(before);
  });

  test("smartsubscribe refuses a send option (msg_purpose is smartsend's)", () => {
    expect(() => smartsubscribe(xs, "opt.e", loose({ callback: () => {}, msg_purpose: "x" }))).toThrow(/unknown option msg_purpose/);
  });

  test("smartreceive refuses an unknown name", async () => {
    const got = new Collector<unknown>(1, "a message on opt.f");
    xs.subscribe("opt.f", { max: 1, callback: (_e, m) => got.push(smartreceive(m, loose({ timeoutMs: 5 })).catch((x: unknown) => x)) });
    await smartsend(xs, "opt.f", payloads);
    const [p] = await got.done;
    const e = await p;
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toMatch(/^smartreceive\(\): unknown option timeoutMs/);
  });

  test("smartrequest refuses an unknown name; it takes send and receive options and timeout_ms", async () => {
    await expect(smartrequest(xs, "opt.g", payloads, loose({ timeout: 100, timeoutMs: 100 }))).rejects.toThrow(/^smartrequest\(\): unknown option timeoutMs/);
    await expect(smartrequest(xs, "opt.g", payloads, loose({ callback: () => {} }))).rejects.toThrow(/unknown option callback/);
    const responder = smartsubscribe(xs, "opt.h", {
      callback: (err, env) => {
        if (err) return;
        void smartreply(xs, env, [{ dataname: "a", type: "text", data: "!" }]);
      },
    });
    const reply: MessageEnvelope = await smartrequest(xs, "opt.h", payloads, { msg_purpose: "ask", max_size: 4096, timeout_ms: 5000 });
    expect(reply.payloads[0].data).toBe("!");
    responder.unsubscribe();
  });

  test("smartreply refuses an unknown name", async () => {
    const got = new Collector<MessageEnvelope>(1, "an envelope on opt.i");
    smartsubscribe(xs, "opt.i", { max: 1, callback: (err, env) => (err ? undefined : got.push(env)) });
    await smartsend(xs, "opt.i", payloads, { reply_to: "opt.i.back" });
    const [env] = await got.done;
    await expect(smartreply(xs, env, payloads, loose({ replyTo: "x" }))).rejects.toThrow(/smartsend\(\): unknown option replyTo/);
  });
});

describe("smartrequest without a responder", () => {
  test("its NoRespondersError names the subject the caller gave, not the inbox", async () => {
    const e = await smartrequest(xs, "opt.nobody.here", payloads, { timeout_ms: 5000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoRespondersError);
    expect((e as NoRespondersError).subject).toBe("opt.nobody.here");
    expect((e as Error).message).toContain('"opt.nobody.here"');
    expect((e as Error).message).not.toContain("_INBOX");
  });
});
