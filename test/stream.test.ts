// publishStream against a real server with nats.js as the receiving peer: a payload written in
// pieces under backpressure arrives whole, other publishes wait behind it, and abort() withdraws
// it cleanly whether or not part of it was already sent.
import { afterEach, describe, expect, test } from "vitest";
import { InvalidArgumentError, StreamBusyError } from "nats-xs";
import { publishStream, streamIdle } from "nats-xs/stream";
import { Collector, Fixture, diffBytes, pattern, within } from "./helpers.ts";

const fx = new Fixture();
afterEach(() => fx.cleanup());

async function pair() {
  const server = await fx.server();
  const { nc, status } = await fx.xs({ servers: server.url, reconnectTimeWait: 50 });
  const js = await fx.js({ servers: server.url });
  return { server, nc, status, js };
}

describe("publishStream", () => {
  test("a 900 KB payload written in 1000-byte pieces arrives whole at nats.js", async () => {
    const { nc, js } = await pair();
    const got = new Collector<Uint8Array>(1, "streamed message");
    js.subscribe("stream.big", { callback: (_e, m) => got.push(m.data) });
    await js.flush();
    const want = pattern(900_000, 3);
    const w = publishStream(nc, "stream.big", want.length);
    for (let at = 0; at < want.length; at += 1000) if (!w.write(want.subarray(at, at + 1000))) await w.ready();
    w.end();
    const [data] = await got.done;
    expect(diffBytes(data, want)).toBe("");
  });

  test("publishes made while a stream is open follow it, in order", async () => {
    const { nc, js } = await pair();
    const got = new Collector<string>(3, "messages");
    js.subscribe("order.>", { callback: (_e, m) => got.push(`${m.subject}:${m.data.length}`) });
    await js.flush();
    nc.publish("order.before", "x");
    const w = publishStream(nc, "order.stream", 50_000);
    nc.publish("order.after", "yy");
    for (let at = 0; at < 50_000; at += 5000) if (!w.write(pattern(5000, at))) await w.ready();
    w.end();
    expect(await got.done).toEqual(["order.before:1", "order.stream:50000", "order.after:2"]);
  });

  test("a second stream gets StreamBusyError until the first ends; streamIdle(nc) says when", async () => {
    const { nc } = await pair();
    const w = publishStream(nc, "busy.a", 3);
    expect(() => publishStream(nc, "busy.b", 1)).toThrow(StreamBusyError);
    const idle = streamIdle(nc);
    w.write(new Uint8Array(3));
    w.end();
    await within(idle, "streamIdle");
    const w2 = publishStream(nc, "busy.b", 1);
    w2.write(new Uint8Array(1));
    w2.end();
    await nc.flush();
  });

  test("writing more or fewer bytes than announced is refused", async () => {
    const { nc } = await pair();
    const w = publishStream(nc, "size.x", 4);
    expect(() => w.write(new Uint8Array(5))).toThrow(InvalidArgumentError);
    w.write(new Uint8Array(2));
    expect(() => w.end()).toThrow(InvalidArgumentError);
    w.abort();
    await nc.flush();
  });

  test("a stream aborted before any of it was sent vanishes; the connection stays up", async () => {
    const { nc, js, status } = await pair();
    const got = new Collector<string>(2, "messages");
    js.subscribe("abort.>", { callback: (_e, m) => got.push(m.subject) });
    await js.flush();
    // open the stream and abort it within one turn: nothing has reached the socket yet
    const w = publishStream(nc, "abort.stream", 10);
    nc.publish("abort.meanwhile", "m");
    w.write(new Uint8Array(4));
    w.abort();
    expect(() => w.write(new Uint8Array(1))).toThrow();
    nc.publish("abort.after", "a");
    expect(await got.done).toEqual(["abort.meanwhile", "abort.after"]);
    expect(status.types()).not.toContain("disconnect");
  });

  test("a stream aborted after part of it was sent is dropped by reconnecting; later messages arrive", async () => {
    const { nc, js, status } = await pair();
    const got: string[] = [];
    js.subscribe("cut.>", { callback: (_e, m) => got.push(m.subject) });
    await js.flush();
    const w = publishStream(nc, "cut.stream", 100_000);
    for (let at = 0; at < 40_000; at += 10_000) if (!w.write(pattern(10_000, at))) await w.ready();
    await new Promise((r) => setTimeout(r, 50)); // let the socket take the head and some bytes
    w.abort();
    await status.next("reconnect");
    nc.publish("cut.after", "a");
    await nc.flush();
    await js.flush();
    expect(got).toEqual(["cut.after"]);
  });
});
