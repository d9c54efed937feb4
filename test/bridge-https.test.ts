// NATSBridge links over HTTPS: the device (built dist/ code in the host simulator) uploads a link
// payload to the Plik-subset file server in its HTTPS mode and downloads one from it, through the
// core's TLS layer (nats-xs/tls, loaded by the HTTP client only for https://) with the CA given in
// the link option `tls`; nats.js is the peer on a real nats-server. A file server of another CA is
// refused with a typed LinkError (not retried) while the connection and the subscription go on; a
// build without nats-xs/tls gets the core's TransportUnavailableError naming the manifest.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import { InvalidArgumentError, TlsError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { LinkError, smartsend, smartsubscribe } from "nats-xs/bridge";
import type { MessageEnvelope, ReceiveOptions } from "nats-xs/bridge";
import { startFileServer } from "../tools/fileserver.mjs";
import { makeCerts } from "../tools/certs.mjs";
import type { Certs } from "../tools/certs.mjs";
import { Collector, Fixture, pattern } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";
import { peerEnvelope, peerFetch, peerRead, peerUpload } from "./shared/bridge-peer.mjs";

type FileServer = Awaited<ReturnType<typeof startFileServer>>;

const shared = new Fixture();
const fx = new Fixture();
let certs: Certs;
let server: ServerHandle;
let files: FileServer;
let otherFiles: FileServer;
let xs: NatsConnection;
let js: JsConnection;
let seq = 0;
let s: string;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  certs = makeCerts();
  server = await shared.server();
  files = await startFileServer({ tls: { cert: certs.server.cert, key: certs.server.key } });
  // a server whose certificate a CA the device was not given signed
  otherFiles = await startFileServer({ tls: { cert: certs.untrusted.cert, key: certs.untrusted.key } });
});
afterAll(async () => {
  await files?.close();
  await otherFiles?.close();
  await shared.cleanup();
  certs?.remove();
});
beforeEach(async () => {
  s = `bridge.https.t${++seq}`;
  ({ nc: xs } = await fx.xs({ servers: server.url, name: "device-https" }));
  js = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

function deviceInbox(subject: string, n: number, options: ReceiveOptions) {
  const c = new Collector<{ err: Error | null; env: MessageEnvelope | null }>(n, `envelopes on ${subject}`, 20_000);
  smartsubscribe(xs, subject, { ...options, callback: (err, env) => c.push({ err, env }) });
  return c;
}

describe("links over https", () => {
  test("the file server's HTTPS mode serves Plik's API to a client that trusts its CA", async () => {
    expect(files.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const data = pattern(5000, 3);
    const url = await peerUpload(files.url, data, "peer.bin", peerFetch(certs.ca));
    const res = await peerFetch(certs.ca)(url);
    expect(res.status).toBe(200);
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(sha(data));
    // Node's own fetch does not trust the test CA: the server really speaks TLS
    await expect(fetch(url)).rejects.toThrow();
  });

  test("a link payload goes up over https and the nats.js peer reads it; one comes down over https into the device", async () => {
    // up: 40 KB with a 1 KB threshold goes by link to https://
    const up = pattern(40_000, 1);
    const got = new Collector<Uint8Array>(1, "the device's envelope", 20_000);
    js.subscribe(`${s}.up`, { callback: (err, m) => (err ? undefined : got.push(m.data)) });
    await js.flush();
    const uploadsBefore = files.stats.files;
    const sent = await smartsend(xs, `${s}.up`, [{ dataname: "up.bin", type: "binary", data: up }], {
      fileserver_url: files.url,
      size_threshold: 1024,
      tls: { ca: certs.ca },
    });
    expect(sent.payloads[0].transport).toBe("link");
    expect(files.stats.files - uploadsBefore).toBe(1);
    const [raw] = await got.done;
    const out = await peerRead(raw, { fetch: peerFetch(certs.ca) });
    expect(out.payloads[0].data).toMatch(new RegExp(`^${files.url}/file/`));
    expect(sha(out.payloads[0].bytes)).toBe(sha(up));

    // down: the peer's file, announced by an https link, read by the device
    const down = pattern(70_000, 2);
    const url = await peerUpload(files.url, down, "down.bin", peerFetch(certs.ca));
    const inbox = deviceInbox(`${s}.down`, 1, { fileserver_url: files.url, tls: { ca: certs.ca }, max_held_bytes: 1 << 20 });
    await xs.flush();
    js.publish(`${s}.down`, peerEnvelope([{ dataname: "down.bin", type: "binary", transport: "link", url, size: down.length }]));
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    const p = (env as MessageEnvelope).payloads[0];
    expect(p.transport).toBe("link");
    expect(sha(p.data as Uint8Array)).toBe(sha(down));
  });

  test("a file server of another CA is a LinkError caused by a TlsError, not retried; the subscription and the connection go on", async () => {
    const data = pattern(3000, 4);
    const bad = await peerUpload(otherFiles.url, data, "other.bin", peerFetch(certs.otherCa));
    const good = await peerUpload(files.url, data, "good.bin", peerFetch(certs.ca));
    const downloadsBefore = otherFiles.stats.downloads;
    const connectionsBefore = otherFiles.stats.connections;
    // both file servers on the allowlist, the CA of only one given
    const inbox = deviceInbox(`${s}.cmd`, 2, { link_hosts: ["127.0.0.1"], tls: { ca: certs.ca }, base_delay: 10 });
    await xs.flush();
    js.publish(`${s}.cmd`, peerEnvelope([{ dataname: "other.bin", type: "binary", transport: "link", url: bad, size: data.length }]));
    js.publish(`${s}.cmd`, peerEnvelope([{ dataname: "good.bin", type: "binary", transport: "link", url: good, size: data.length }]));
    const [first, second] = await inbox.done;
    expect(first.err).toBeInstanceOf(LinkError);
    expect((first.err as LinkError).message).toMatch(/TLS handshake failed .*tls\.ca/);
    expect((first.err as LinkError).cause).toBeInstanceOf(TlsError);
    expect(((first.err as LinkError).cause as TlsError).code).toBe("TLS_HANDSHAKE");
    // the handshake failed before any request reached the server
    expect(otherFiles.stats.downloads).toBe(downloadsBefore);
    // one attempt: the same certificate would fail the same check again
    expect(otherFiles.stats.connections - connectionsBefore).toBe(1);
    expect(second.err).toBeNull();
    expect(sha((second.env as MessageEnvelope).payloads[0].data as Uint8Array)).toBe(sha(data));
    expect(xs.isClosed()).toBe(false);

    // sending to it fails the same way, and nothing was uploaded
    await expect(
      smartsend(xs, `${s}.out`, [{ dataname: "x.bin", type: "binary", data }], { fileserver_url: otherFiles.url, size_threshold: 1024, tls: { ca: certs.ca } }),
    ).rejects.toSatisfy((e: unknown) => e instanceof LinkError && e.cause instanceof TlsError);
    await xs.flush();
  });

  test("without tls.ca the device's trusted roots do not include a test CA: refused", async () => {
    const data = pattern(3000, 5);
    await expect(smartsend(xs, `${s}.out`, [{ dataname: "x.bin", type: "binary", data }], { fileserver_url: files.url, size_threshold: 1024 })).rejects.toBeInstanceOf(LinkError);
  });

  test("the link option tls is checked as connect() checks its own", async () => {
    const data = pattern(3000, 6);
    for (const [tls, why] of [
      [{ cert: "x" }, /both cert and key/],
      [{ caFile: "/etc/ssl/ca.pem" }, /tls\.caFile is not supported/],
      [{ ca: 42 }, /PEM text or its bytes/],
      ["yes", /must be an object/],
    ] as const) {
      const err = await smartsend(xs, `${s}.out`, [{ dataname: "x.bin", type: "binary", data }], { fileserver_url: files.url, size_threshold: 1024, tls: tls as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(why);
    }
  });

  test("a build without nats-xs/tls gets TransportUnavailableError naming the manifest for an https link", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "./host-sim/register.js", "--import", "./test/shared/without-layers.mjs", "test/shared/plain-build-https.mjs", `${files.url}/file/a/b/c`],
      { timeout: 30_000 },
    );
    expect(stdout.trim()).toMatch(/^TransportUnavailableError TRANSPORT_UNAVAILABLE the https link \S+ needs the module nats-xs\/tls.*manifests\/nats-xs-tls\/manifest\.json/);
  });
});
