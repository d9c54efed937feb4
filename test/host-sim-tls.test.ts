// host-sim's embedded:io/socket/tcp/tls on its own: Moddable's TLS socket contract over node:tls
// (it makes its socket beneath with TCP.io; ECMA-419 counts; a bounded send buffer; a failed
// handshake is onError with the reason), against a real nats-server websocket listener with TLS
// (TLS from the first byte there).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import TCP from "../host-sim/tcp.js";
import TLSSocket from "../host-sim/tls.js";
import { freePort } from "../tools/nats-server.mjs";
import { makeCerts } from "../tools/certs.mjs";
import type { Certs } from "../tools/certs.mjs";
import { Fixture, until } from "./helpers.js";

let certs: Certs;
const fx = new Fixture();
let port = 0;
beforeAll(async () => {
  certs = makeCerts();
  port = await freePort();
  await fx.server({ config: `websocket {\n  port: ${port}\n  host: "127.0.0.1"\n  tls { cert_file: "${certs.server.certFile}"\n key_file: "${certs.server.keyFile}" }\n}\n` });
});
afterAll(async () => {
  await fx.cleanup();
  certs.remove();
});

/** A TLS socket to the listener, recording its callbacks. */
function open(ca: string) {
  const seen = { writable: [] as number[], readable: 0, errors: [] as (string | undefined)[], bytes: [] as number[] };
  const socket = new TLSSocket({
    TCP: { io: TCP },
    address: "127.0.0.1",
    port,
    secure: { ca },
    onWritable: (count: number) => seen.writable.push(count),
    onReadable(count: number) {
      seen.readable += count;
      const b = new Uint8Array(count);
      expect(socket.read(b)).toBe(count);
      seen.bytes.push(...b);
    },
    onError: (detail?: string) => seen.errors.push(detail),
  });
  return { socket, seen };
}

describe("host-sim TLS socket", () => {
  test("it is writable once the handshake is done, refuses a write beyond its send buffer whole, and carries bytes both ways", async () => {
    const { socket, seen } = open(certs.ca);
    await until(() => seen.writable.length > 0, "onWritable after the handshake");
    const room = seen.writable[0];
    expect(room).toBeGreaterThan(0);
    expect(room).toBeLessThanOrEqual(8192);
    expect(() => socket.write(new Uint8Array(room + 1))).toThrow(/would block/);
    const request = new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(socket.write(request)).toBe(room - request.length);
    await until(() => new TextDecoder().decode(Uint8Array.from(seen.bytes)).includes("\r\n\r\n"), "the upgrade answer");
    expect(new TextDecoder().decode(Uint8Array.from(seen.bytes))).toMatch(/^HTTP\/1\.1 101 /);
    expect(seen.errors).toEqual([]);
    socket.close();
  });

  test("a server certificate from a CA not given is onError with the reason, and the socket is never writable", async () => {
    const { seen } = open(certs.otherCa);
    await until(() => seen.errors.length > 0, "onError");
    expect(seen.errors[0]).toMatch(/unable to verify|self.signed|issuer/i);
    expect(seen.writable).toEqual([]);
  });
});
