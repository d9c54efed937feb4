// WebSocket through the transport seam (nats-xs/ws, our RFC 6455 client over the TCP and TLS
// layers): nats-server's websocket listener without and with TLS, nats.js on the same server's
// NATS port as the peer, large messages streamed through a small receive buffer, and reconnects.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { connect, TlsError } from "../dist/nats-xs.js";
import type { MsgChunk, NatsConnection } from "nats-xs";
import { freePort } from "../tools/nats-server.mjs";
import { makeCerts } from "../tools/certs.mjs";
import type { Certs } from "../tools/certs.mjs";
import { Collector, diffBytes, Fixture, pattern, within } from "./helpers.js";

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());
const fx = new Fixture();
afterEach(() => fx.cleanup());

/** A server with a websocket listener (plain, or TLS with `pair`); returns it and the ws port. */
async function wsServer(secure: boolean, pair = certs?.server) {
  const port = await freePort();
  const tls = secure ? `  tls { cert_file: "${pair.certFile}"\n key_file: "${pair.keyFile}" }\n` : "  no_tls: true\n";
  const s = await fx.server({ config: `max_payload: 4MB\nwebsocket {\n  port: ${port}\n  host: "127.0.0.1"\n${tls}}\n` });
  return { s, port };
}

async function exchange(nc: NatsConnection, natsPort: number, subject: string): Promise<void> {
  const peer = await fx.js({ servers: `127.0.0.1:${natsPort}` });
  const got = new Collector<string>(1, "messages at the peer");
  peer.subscribe(subject, { callback: (_e, m) => got.push(m.string()) });
  await peer.flush();
  const back = new Collector<string>(1, "messages at the device");
  nc.subscribe(`${subject}.back`, { callback: (_e, m) => back.push(m!.string()) });
  await nc.flush();
  nc.publish(subject, "over websocket");
  expect(await got.done).toEqual(["over websocket"]);
  peer.publish(`${subject}.back`, "and back");
  expect(await back.done).toEqual(["and back"]);
}

/** A large message each way: the device publishes `n` bytes, and takes `n` bytes in chunks. */
async function large(nc: NatsConnection, natsPort: number, subject: string, n: number): Promise<void> {
  const peer = await fx.js({ servers: `127.0.0.1:${natsPort}` });
  const data = pattern(n, 7);
  const heard = new Collector<Uint8Array>(1, "the large message at the peer", 20_000);
  peer.subscribe(subject, { callback: (_e, m) => heard.push(m.data.slice()) });
  await peer.flush();
  nc.publish(subject, data);
  expect(diffBytes((await heard.done)[0], data)).toBe("");

  const into = new Uint8Array(n);
  let pieces = 0;
  const done = new Collector<number>(1, "the large message at the device", 20_000);
  nc.subscribe(`${subject}.in`, {
    chunks: true,
    callback: (_e, m) => {
      const c = m as unknown as MsgChunk;
      into.set(c.data, c.offset);
      pieces++;
      if (c.last) done.push(c.size);
    },
  });
  await nc.flush();
  peer.publish(`${subject}.in`, data);
  expect(await done.done).toEqual([n]);
  expect(diffBytes(into, data)).toBe("");
  expect(pieces).toBeGreaterThan(n / 4096);
}

describe("WebSocket", () => {
  test("ws:// to the websocket listener carries messages both ways with nats.js", async () => {
    const { s, port } = await wsServer(false);
    const { nc } = await fx.xs({ servers: `ws://127.0.0.1:${port}` });
    await exchange(nc, s.port, "ws.both");
  });

  test("wss:// verifies the listener's certificate and carries messages both ways", async () => {
    const { s, port } = await wsServer(true);
    const { nc } = await fx.xs({ servers: `wss://127.0.0.1:${port}`, tls: { ca: certs.ca } });
    await exchange(nc, s.port, "wss.both");
  });

  test("a 1 MB message passes each way over ws:// in small frames and chunks", async () => {
    const { s, port } = await wsServer(false);
    const { nc } = await fx.xs({ servers: `ws://127.0.0.1:${port}` });
    await large(nc, s.port, "ws.large", 1 << 20);
  });

  test("a 1 MB message passes each way over wss://", async () => {
    const { s, port } = await wsServer(true);
    const { nc } = await fx.xs({ servers: `wss://127.0.0.1:${port}`, tls: { ca: certs.ca } });
    await large(nc, s.port, "wss.large", 1 << 20);
  });

  test("wss:// to a listener with a certificate from another CA is a TLS_HANDSHAKE error", async () => {
    const { port } = await wsServer(true, certs.untrusted);
    let err: unknown;
    try {
      await within(connect({ servers: `wss://127.0.0.1:${port}`, tls: { ca: certs.ca } }), "connect", 20_000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).code).toBe("TLS_HANDSHAKE");
  });

  test("a URL that is not a websocket listener fails the upgrade with a message naming it", async () => {
    const s = await fx.server();
    let err: unknown;
    try {
      await within(connect({ servers: `ws://127.0.0.1:${s.port}` }), "connect", 20_000);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/WebSocket/);
  });

  test("the device reconnects over ws:// when the server restarts, and its subscriptions carry on", async () => {
    const { s, port } = await wsServer(false);
    const { nc, status } = await fx.xs({ servers: `ws://127.0.0.1:${port}`, reconnectTimeWait: 100, reconnectJitter: 0, reconnectJitterTLS: 0 });
    const got = new Collector<string>(1, "a message after the reconnect");
    nc.subscribe("ws.again", { callback: (_e, m) => got.push(m!.string()) });
    await nc.flush();
    await s.restart();
    await status.next("reconnect", 20_000);
    const peer = await fx.js({ servers: `127.0.0.1:${s.port}` });
    peer.publish("ws.again", "still here");
    expect(await got.done).toEqual(["still here"]);
  });
});
