// TLS through the transport seam (nats-xs/tls over host-sim's node:tls socket): real nats-servers
// with certificates made at test time, nats.js as the peer, and the failures a fielded device
// meets, each a typed TlsError with an actionable message while the device retries per its options.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { connect, InvalidArgumentError, TlsError } from "../dist/nats-xs.js";
import type { NatsConnection } from "nats-xs";
import { makeCerts, tlsBlock } from "../tools/certs.mjs";
import type { Certs } from "../tools/certs.mjs";
import { Collector, Fixture, within } from "./helpers.js";

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());
const fx = new Fixture();
afterEach(() => fx.cleanup());

/** A message from the device reaches a nats.js peer (which speaks TLS itself), and one back. */
async function exchange(nc: NatsConnection, port: number, subject: string, peerTls: Record<string, string> = {}): Promise<void> {
  const peer = await fx.js({ servers: `127.0.0.1:${port}`, tls: { ca: certs.ca, ...peerTls } });
  const got = new Collector<string>(1, "messages at the peer");
  peer.subscribe(subject, { callback: (_e, m) => got.push(m.string()) });
  await peer.flush();
  const back = new Collector<string>(1, "messages at the device");
  nc.subscribe(`${subject}.back`, { callback: (_e, m) => back.push(m!.string()) });
  await nc.flush();
  nc.publish(subject, "over tls");
  expect(await got.done).toEqual(["over tls"]);
  peer.publish(`${subject}.back`, "and back");
  expect(await back.done).toEqual(["and back"]);
}

/** The error connect() rejects with. */
async function refused(options: Parameters<typeof connect>[0]): Promise<Error> {
  let caught: unknown;
  try {
    const nc = await within(connect(options), "connect to settle", 20_000);
    await nc.close();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(Error);
  return caught as Error;
}

describe("TLS", () => {
  test("tls:// verifies the server against the given CA and carries messages both ways with nats.js", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const { nc } = await fx.xs({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    expect(nc.info?.tls_required).toBe(true);
    await exchange(nc, s.port, "tls.both");
  });

  test("PEM given as bytes works as text does", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const te = new TextEncoder();
    const { nc } = await fx.xs({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: te.encode(certs.ca) } });
    await nc.flush();
  });

  test("a nats:// URL is upgraded when INFO says tls_required (INFO in clear, TLS on the same connection)", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const { nc } = await fx.xs({ servers: `nats://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    await exchange(nc, s.port, "tls.upgrade");
  });

  test("without a ca the device's own roots are used, and a private CA's server is refused as untrusted", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const err = await refused({ servers: `127.0.0.1:${s.port}` });
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).code).toBe("TLS_HANDSHAKE");
    expect(err.message).toMatch(/check tls\.ca/);
  });

  test("mutual TLS: a server with verify: true takes the client certificate and refuses a client without one", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server, certs.caFile, true) });
    const { nc } = await fx.xs({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca, cert: certs.client.cert, key: certs.client.key } });
    await exchange(nc, s.port, "tls.mutual", { cert: certs.client.cert, key: certs.client.key });
    const err = await refused({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).code).toBe("TLS_HANDSHAKE");
    expect(err.message).toMatch(/client certificate/);
  });

  test("a server certificate from another CA is a TLS_HANDSHAKE error naming the check", async () => {
    const s = await fx.server({ config: tlsBlock(certs.untrusted) });
    const err = await refused({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(/unable to verify|self.signed|issuer/i);
  });

  test("an expired server certificate is refused, saying so", async () => {
    const s = await fx.server({ config: tlsBlock(certs.expired) });
    const err = await refused({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(/expired/);
  });

  test("a certificate for another host name is refused; tls.serverName names the host it must carry", async () => {
    const s = await fx.server({ config: tlsBlock(certs.otherHost) });
    const err = await refused({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca } });
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(/does not match|altnames/i);
    const { nc } = await fx.xs({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca, serverName: "other.example" } });
    await nc.flush();
  });

  test("TLS required by the client but not offered by the server is TLS_NOT_OFFERED", async () => {
    const s = await fx.server();
    for (const options of [{ servers: `tls://127.0.0.1:${s.port}` }, { servers: `nats://127.0.0.1:${s.port}`, tls: { ca: certs.ca } }]) {
      const err = await refused(options);
      expect(err).toBeInstanceOf(TlsError);
      expect((err as TlsError).code).toBe("TLS_NOT_OFFERED");
      expect(err.message).toMatch(/does not offer TLS/);
    }
  });

  test("a client that refuses TLS (tls: null) meeting a TLS server is TLS_REQUIRED, not a refused connection", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const err = await refused({ servers: `127.0.0.1:${s.port}`, tls: null });
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).code).toBe("TLS_REQUIRED");
    expect(err.message).toMatch(/requires TLS/);
  });

  test("a failing handshake is retried per the options, each attempt reported as a TlsError", async () => {
    const s = await fx.server({ config: tlsBlock(certs.expired) });
    const conn = connect({
      servers: `tls://127.0.0.1:${s.port}`,
      tls: { ca: certs.ca },
      waitOnFirstConnect: true,
      maxReconnectAttempts: 3,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
      reconnectJitterTLS: 0,
    });
    const err = await within(conn.then(() => null, (e: Error) => e), "the attempts to end", 20_000);
    expect(err).toBeInstanceOf(TlsError);
    expect(err?.message).toMatch(/expired/);
  });

  test("the status stream reports each failed TLS attempt while the device keeps retrying, and it connects once the certificate is fixed", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const { nc, status } = await fx.xs({ servers: `tls://127.0.0.1:${s.port}`, tls: { ca: certs.ca }, reconnectTimeWait: 100, reconnectJitter: 0, reconnectJitterTLS: 0, maxReconnectAttempts: -1 });
    await s.stop();
    // the same port now serves an expired certificate: every attempt fails in the handshake
    const bad = await fx.server({ port: s.port, config: tlsBlock(certs.expired) });
    let errors = 0;
    await within(
      (async () => {
        while (errors < 2) {
          await new Promise((r) => setTimeout(r, 50));
          errors = status.events.filter((e) => e.type === "error" && e.error instanceof TlsError && /expired/.test(e.error.message)).length;
        }
      })(),
      "two failed TLS attempts",
      20_000,
    );
    expect(nc.isClosed()).toBe(false);
    await bad.stop();
    const good = await fx.server({ port: s.port, config: tlsBlock(certs.server) });
    await status.next("reconnect", 20_000);
    await exchange(nc, good.port, "tls.fixed");
  });

  test("connect_urls announced by a TLS cluster are dialed with TLS", async () => {
    const { freePort } = await import("../tools/nats-server.mjs");
    const [r1, r2] = [await freePort(), await freePort()];
    const cluster = (me: number) =>
      `cluster { name: "c", listen: "127.0.0.1:${me}", routes: ["nats-route://127.0.0.1:${r1}", "nats-route://127.0.0.1:${r2}"] }\n`;
    const a = await fx.server({ name: "a", config: tlsBlock(certs.server) + cluster(r1) });
    const b = await fx.server({ name: "b", config: tlsBlock(certs.server) + cluster(r2) });
    const { nc, status } = await fx.xs({ servers: `tls://127.0.0.1:${a.port}`, tls: { ca: certs.ca }, reconnectTimeWait: 100, reconnectJitter: 0, reconnectJitterTLS: 0 });
    // the first INFO may precede the route: wait until b is announced
    await within(
      (async () => {
        while (!(nc.info?.connect_urls ?? []).some((u) => u.endsWith(`:${b.port}`))) {
          await nc.flush();
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      "b in connect_urls",
      15_000,
    );
    await a.stop();
    const ev = await status.next("reconnect", 20_000);
    expect((ev as { server?: string }).server).toBe(`127.0.0.1:${b.port}`);
    expect(nc.info?.server_name).toBe("b");
    await exchange(nc, b.port, "tls.cluster");
  });

  test("tls options are checked when connecting", async () => {
    for (const [tls, why] of [
      [{ cert: "x" }, /both cert and key/],
      [{ caFile: "/etc/ssl/ca.pem" }, /tls\.caFile is not supported/],
      [{ ca: 42 }, /PEM text or its bytes/],
      ["yes", /must be an object/],
    ] as const) {
      await expect(connect({ servers: "tls://127.0.0.1:1", tls: tls as never })).rejects.toThrow(why);
    }
    await expect(connect({ servers: "tls://127.0.0.1:1", tls: null })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test("a build without nats-xs/tls or nats-xs/ws gets TransportUnavailableError naming the manifest, also when a nats:// server requires TLS", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    const plain = await fx.server();
    const urls = [`tls://127.0.0.1:${s.port}`, `nats://127.0.0.1:${s.port}`, `ws://127.0.0.1:${plain.port}`, `nats://127.0.0.1:${plain.port}`];
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "./host-sim/register.js", "--import", "./test/shared/without-layers.mjs", "test/shared/plain-build.mjs", ...urls],
      { timeout: 30_000 },
    );
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^tls:\S+ TransportUnavailableError TRANSPORT_UNAVAILABLE tls:\/\/ needs the module nats-xs\/tls.*manifests\/nats-xs-tls\/manifest\.json/);
    expect(lines[1]).toMatch(/^nats:\S+ TransportUnavailableError TRANSPORT_UNAVAILABLE TLS \(127\.0\.0\.1:\d+ requires it\) needs the module nats-xs\/tls/);
    expect(lines[2]).toMatch(/^ws:\S+ TransportUnavailableError TRANSPORT_UNAVAILABLE ws:\/\/ needs the module nats-xs\/ws.*manifests\/nats-xs-ws\/manifest\.json/);
    expect(lines[3]).toMatch(/connected$/);
  });
});
