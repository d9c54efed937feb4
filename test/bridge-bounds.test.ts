// The bridge receiver's bounds against hostile peers, on the built dist/ code through the host
// simulator and on the XS engine under the ESP32 budget, with a real nats-server and nats.js as
// the peer: small envelopes that used to crash XS (deep JSON, many payloads, many values, heavy
// fields, a huge declared size) now cost a typed error on that envelope while later envelopes
// arrive; a slow link no longer stalls the subscription (overall deadline, bounded queue, counted
// drops); link URLs are validated and their hosts allowlisted before anything is sent; a declared
// size or Content-Length beyond max_size stops a download before its body; SHA-256 digests of link
// payloads are written by the sender and verified by the receiver.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import type { NatsConnection } from "nats-xs";
import {
  DigestError,
  EnvelopeDroppedError,
  EnvelopeLimitError,
  EnvelopeReceiver,
  LinkError,
  PayloadLimitError,
  hostAllowed,
  smartsend,
  smartsubscribe,
  validateLinkUrl,
} from "nats-xs/bridge";
import type { MessageEnvelope, PayloadSink, ReceiveOptions } from "nats-xs/bridge";
import { startFileServer } from "../tools/fileserver.mjs";
import { Collector, Fixture, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";
import { peerRead, peerUpload } from "./shared/bridge-peer.mjs";
import { attacks, atDefaultBounds, deepMetadata, link, plain } from "./shared/hostile-envelopes.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

type FileServer = Awaited<ReturnType<typeof startFileServer>>;
type Got = { err: Error | null; env: MessageEnvelope | null };

const shared = new Fixture();
const fx = new Fixture();
let server: ServerHandle;
let files: FileServer;
let xs: NatsConnection;
let js: JsConnection;
let seq = 0;
let s: string;

/** The SHA-256 tag of `bytes` as the Object Store writes it. */
const tag = (bytes: Uint8Array) => `SHA-256=${createHash("sha256").update(bytes).digest("base64url")}=`;
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

beforeAll(async () => {
  server = await shared.server();
  files = await startFileServer();
});
afterAll(async () => {
  await files.close();
  await shared.cleanup();
});
beforeEach(async () => {
  s = `bounds.t${++seq}.${process.pid}`;
  ({ nc: xs } = await fx.xs({ servers: server.url, name: "device-b" }));
  js = await fx.js({ servers: server.url });
});
afterEach(() => fx.cleanup());

function deviceInbox(subject: string, n: number, options: ReceiveOptions = {}) {
  const c = new Collector<Got>(n, `envelopes on ${subject}`, 30_000);
  smartsubscribe(xs, subject, { ...options, callback: (err, env) => c.push({ err, env }) });
  return c;
}

/** A loopback HTTP server whose handler the test writes; counts requests. */
async function httpServer(handler: http.RequestListener): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const srv = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  srv.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of sockets) c.destroy();
        srv.close(() => resolve());
      }),
  };
}

describe("small hostile envelopes: a typed error on that envelope, and the next one arrives (Node)", () => {
  test.each(attacks().map((a) => [a.name, a] as const))("%s", async (_name, a) => {
    const inbox = deviceInbox(`${s}.in`, 2);
    await xs.flush();
    js.publish(`${s}.in`, a.text);
    js.publish(`${s}.in`, plain("after"));
    const [bad, good] = await inbox.done;
    expect(bad.err).toBeInstanceOf(EnvelopeLimitError);
    expect((bad.err as EnvelopeLimitError).option).toBe(a.option);
    expect(good.err).toBeNull();
    expect(good.env!.correlation_id).toBe("after");
    expect(good.env!.payloads[0].data).toBe("hello");
  });

  test("an envelope at every default bound at once is accepted whole", async () => {
    const inbox = deviceInbox(`${s}.in`, 1);
    await xs.flush();
    js.publish(`${s}.in`, atDefaultBounds("edge"));
    const [{ err, env }] = await inbox.done;
    expect(err).toBeNull();
    expect(env!.payloads.length).toBe(16);
    expect((env!.payloads[0].data as string).length).toBe(12 * 1024);
    expect(Object.keys(env!.payloads[1].data as object).length).toBe(100);
  });

  test("bounds are options: raised, the same envelopes are read", async () => {
    const [deep, many] = attacks();
    const inbox = deviceInbox(`${s}.in`, 2, { max_depth: 400, max_values: 2000 });
    await xs.flush();
    js.publish(`${s}.in`, deep.text);
    js.publish(`${s}.in`, many.text);
    const got = await inbox.done;
    expect(got.map((g) => g.err)).toEqual([null, null]);
  });

  test("a bound below its minimum is refused when subscribing", () => {
    expect(() => smartsubscribe(xs, `${s}.x`, { max_depth: 0, callback: () => {} })).toThrow(/max_depth/);
    expect(() => smartsubscribe(xs, `${s}.x`, { max_payloads: 1.5, callback: () => {} })).toThrow(/max_payloads/);
  });
});

describe("a slow link: overall deadline, bounded queue behind it, counted drops (Node)", () => {
  test("one byte every 2 s: the download ends at its deadline; 4 envelopes wait, 6 are dropped and counted, later ones arrive", async () => {
    const slow = await httpServer((_req, res) => {
      res.writeHead(200, { "Content-Length": "1000" });
      const t = setInterval(() => res.write("x"), 2000);
      res.on("close", () => clearInterval(t));
    });
    try {
      const got: Got[] = [];
      const rx = new EnvelopeReceiver((err, env) => got.push({ err, env }), { deadline: 3000, max_retries: 0, link_hosts: ["127.0.0.1"] });
      xs.subscribe(`${s}.in`, { chunks: true, callback: (_e, m) => m && rx.push(m) });
      await xs.flush();
      js.publish(`${s}.in`, link("slow", `${slow.url}/file/a/b/slow.bin`, 1000));
      for (let i = 0; i < 10; i++) js.publish(`${s}.in`, plain(`q${i}`));
      await js.flush();
      // the 6 beyond max_pending are refused at once, while the link still runs
      await within(
        (async () => {
          while (got.length < 6) await new Promise((r) => setTimeout(r, 20));
        })(),
        "the drops",
        10_000,
      );
      expect(got.slice(0, 6).every((g) => g.err instanceof EnvelopeDroppedError)).toBe(true);
      expect((got[5].err as EnvelopeDroppedError).dropped).toBe(6);
      expect(rx.stats()).toMatchObject({ dropped: 6, pending: 5 });
      // then the deadline ends the slow download, and the 4 that waited arrive in order
      await within(
        (async () => {
          while (got.length < 11) await new Promise((r) => setTimeout(r, 20));
        })(),
        "the deadline and the queue",
        20_000,
      );
      expect(got[6].err).toBeInstanceOf(LinkError);
      expect(got[6].err!.message).toMatch(/deadline of 3000 ms/);
      expect(got.slice(7).map((g) => g.env?.correlation_id)).toEqual(["q0", "q1", "q2", "q3"]);
      // the subscription goes on
      js.publish(`${s}.in`, plain("later"));
      await within(
        (async () => {
          while (got.length < 12) await new Promise((r) => setTimeout(r, 20));
        })(),
        "a later envelope",
        10_000,
      );
      expect(got[11].env?.correlation_id).toBe("later");
      expect(rx.stats()).toMatchObject({ envelopes: 5, errors: 7, dropped: 6, pending: 0, pendingBytes: 0 });
    } finally {
      await slow.close();
    }
  }, 40_000);

  test("max_pending_bytes: an envelope whose held bytes would pass it is dropped", async () => {
    const slow = await httpServer((_req, res) => {
      res.writeHead(200, { "Content-Length": "10" });
      setTimeout(() => res.end("0123456789"), 1500);
    });
    try {
      const inbox = deviceInbox(`${s}.in`, 3, { link_hosts: ["127.0.0.1"], max_pending_bytes: 2000 });
      await xs.flush();
      js.publish(`${s}.in`, link("l", `${slow.url}/f/10.bin`, 10));
      js.publish(`${s}.in`, plain("x".repeat(10)));
      js.publish(`${s}.in`, atDefaultBounds("heavy"));
      const [first, second, third] = await inbox.done;
      // arrival order of reports: the drop at once, then the link, then the one that waited
      expect(first.err).toBeInstanceOf(EnvelopeDroppedError);
      expect(first.err!.message).toMatch(/max_pending_bytes 2000/);
      expect(second.err).toBeNull();
      expect(second.env!.correlation_id).toBe("l");
      expect(third.env!.correlation_id).toBe("x".repeat(10));
    } finally {
      await slow.close();
    }
  });
});

describe("link URLs: validated, allowlisted and size-checked before anything is sent (Node)", () => {
  const bad = [
    ["CR LF in the path (request injection)", "/a\r\nX-Injected: 1\r\n\r\nGET /b"],
    ["a space", "/a b"],
    ["a control character", "/a\u0001"],
    ["non-ASCII", "/fichier-é"],
    ["a bad escape", "/a%zz"],
    ["a quote", '/a"b'],
  ] as const;

  test.each(bad)("refuses %s; nothing reaches the server", async (_what, path) => {
    const srv = await httpServer((_q, res) => res.end("no"));
    try {
      const inbox = deviceInbox(`${s}.in`, 2);
      await xs.flush();
      js.publish(`${s}.in`, link("bad", `${srv.url}${path}`, 2));
      js.publish(`${s}.in`, plain("after"));
      const [first, second] = await inbox.done;
      expect(first.err).toBeInstanceOf(LinkError);
      expect(first.err!.message).toMatch(/refused a link URL/);
      expect(second.env!.correlation_id).toBe("after");
      expect(srv.requests).toEqual([]);
    } finally {
      await srv.close();
    }
  });

  test("the validator: schemes, user info, hosts and ports", () => {
    for (const ok of ["http://127.0.0.1:8080/file/a/b/c.bin", "https://files.example.com/x?y=1", "http://a-b.example:1/", "HTTP://Host.Example/p%20q"]) expect(() => validateLinkUrl(ok)).not.toThrow();
    for (const no of [
      "ftp://127.0.0.1/x",
      "file:///etc/passwd",
      "http://user:pw@127.0.0.1/x",
      "http://127.0.0.1@evil.example/x",
      "http://127.0.0.1:0/x",
      "http://127.0.0.1:65536/x",
      "http://127.0.0.1:+80/x",
      "http://[::1]/x",
      "http://256.1.1.1/x",
      "http://-a.example/x",
      "http:///x",
      "http://a..b/x",
      `http://h/${"a".repeat(2100)}`,
    ])
      expect(() => validateLinkUrl(no), no).toThrow(LinkError);
    const t = validateLinkUrl("http://LocalHost:8080/x");
    expect(hostAllowed(t, ["127.0.0.1"])).toBe(true);
    expect(hostAllowed(t, ["127.0.0.1:8081"])).toBe(false);
    expect(hostAllowed(t, ["*"])).toBe(true);
  });

  test("default allowlist: the NATS server's host; another host is refused before any connection", async () => {
    const url = await peerUpload(files.url, bytesOf(100, 1), "a.bin");
    const elsewhere = url.replace("127.0.0.1", "127.0.0.2");
    const inbox = deviceInbox(`${s}.in`, 2);
    await xs.flush();
    js.publish(`${s}.in`, link("other", elsewhere, 100));
    js.publish(`${s}.in`, link("same", url, 100));
    const [other, same] = await inbox.done;
    expect(other.err).toBeInstanceOf(LinkError);
    expect(other.err!.message).toMatch(/not on this receiver's link_hosts \(127\.0\.0\.1\)/);
    expect(same.err).toBeNull();
    expect((same.env!.payloads[0].data as Uint8Array).length).toBe(100);
  });

  test("fileserver_url in the receive options narrows the allowlist to its host and port", async () => {
    const url = await peerUpload(files.url, bytesOf(50, 2), "b.bin");
    const srv = await httpServer((_q, res) => res.end("x".repeat(50)));
    try {
      const inbox = deviceInbox(`${s}.in`, 2, { fileserver_url: files.url });
      await xs.flush();
      js.publish(`${s}.in`, link("other-port", `${srv.url}/file/a/b/b.bin`, 50));
      js.publish(`${s}.in`, link("configured", url, 50));
      const [a, b] = await inbox.done;
      expect(a.err).toBeInstanceOf(LinkError);
      expect(srv.requests).toEqual([]);
      expect(b.err).toBeNull();
    } finally {
      await srv.close();
    }
  });

  test("a declared size beyond max_size stops before the request; a Content-Length beyond it before the body; an undeclared stream at the limit", async () => {
    const srv = await httpServer((req, res) => {
      if (req.url === "/l.bin") {
        res.writeHead(200, { "Content-Length": "5000" });
        res.end("y".repeat(5000));
      } else {
        res.writeHead(200, { "Transfer-Encoding": "chunked" });
        res.end("z".repeat(5000));
      }
    });
    try {
      const inbox = deviceInbox(`${s}.in`, 3, { max_size: 1000, link_hosts: ["127.0.0.1"], max_retries: 0 });
      await xs.flush();
      const undeclared = (id: string, path: string) =>
        `{"correlation_id":"${id}","payloads":[{"id":"p","dataname":"u","type":"binary","transport":"link","encoding":"none","data":"${srv.url}${path}"}]}`;
      js.publish(`${s}.in`, link("declared", `${srv.url}/d.bin`, 5000));
      js.publish(`${s}.in`, undeclared("length", "/l.bin"));
      js.publish(`${s}.in`, undeclared("chunked", "/c.bin"));
      const got = await inbox.done;
      for (const g of got) expect(g.err).toBeInstanceOf(PayloadLimitError);
      expect(srv.requests).toEqual(["GET /l.bin", "GET /c.bin"]);
    } finally {
      await srv.close();
    }
  });
});

describe("SHA-256 digests of link payloads (Node, nats.js peer)", () => {
  test("the device's link payload carries SHA-256=<base64url> of its bytes in metadata.digest, next to the caller's metadata", async () => {
    const inbox = new Collector<Uint8Array>(1, "the envelope", 20_000);
    js.subscribe(`${s}.out`, { callback: (_e, m) => inbox.push(m.data) });
    await js.flush();
    const data = bytesOf(30_000, 3);
    const meta = { camera: "roof" };
    await smartsend(xs, `${s}.out`, [{ dataname: "p.bin", type: "binary", data, transport: "link", metadata: meta }], { fileserver_url: files.url });
    const out = await peerRead((await inbox.done)[0]);
    const raw = JSON.parse(Buffer.from((await inbox.done)[0]).toString());
    expect(raw.payloads[0].metadata).toEqual({ camera: "roof", digest: tag(data) });
    expect(meta).toEqual({ camera: "roof" }); // the caller's object is not changed
    expect(createHash("sha256").update(out.payloads[0].bytes).digest("base64url") + "=").toBe(tag(data).slice(8));
  });

  test("a matching digest passes; a mismatch is DigestError after the last byte, with the sink aborted and never ended", async () => {
    const data = bytesOf(20_000, 4);
    const url = await peerUpload(files.url, data, "d.bin");
    const events: string[] = [];
    const inbox = deviceInbox(`${s}.in`, 3, {
      sink: (): PayloadSink => {
        let n = 0;
        return {
          write: (b) => void (n += b.length),
          end: () => void events.push(`end ${n}`),
          abort: (e) => void events.push(`abort ${n} ${e.name}`),
        };
      },
    });
    await xs.flush();
    js.publish(`${s}.in`, link("good", url, data.length, tag(data)));
    js.publish(`${s}.in`, link("bad", url, data.length, tag(bytesOf(20_000, 5))));
    js.publish(`${s}.in`, link("malformed", url, data.length, "SHA-256=short"));
    const [good, bad, malformed] = await inbox.done;
    expect(good.err).toBeNull();
    expect(bad.err).toBeInstanceOf(DigestError);
    expect((bad.err as DigestError).actual).toBe(tag(data));
    expect(malformed.err).toBeInstanceOf(DigestError);
    // the malformed digest is refused before its download, so no sink was opened for it
    expect(events).toEqual(["end 20000", "abort 20000 DigestError"]);
  });

  test("require_digest refuses a link without one before downloading it; device to device round trip verifies", async () => {
    const data = bytesOf(5_000, 6);
    const url = await peerUpload(files.url, data, "n.bin");
    const before = files.stats.downloads;
    const inbox = deviceInbox(`${s}.in`, 2, { require_digest: true });
    await xs.flush();
    js.publish(`${s}.in`, link("none", url, data.length));
    await smartsend(xs, `${s}.in`, [{ dataname: "r.bin", type: "binary", data, transport: "link" }], { fileserver_url: files.url });
    const [none, round] = await inbox.done;
    expect(none.err).toBeInstanceOf(DigestError);
    expect(round.err).toBeNull();
    expect(Buffer.from(round.env!.payloads[0].data as Uint8Array).equals(Buffer.from(data))).toBe(true);
    expect(files.stats.downloads - before).toBe(1);
  });
});

describe("on the XS engine under the ESP32 budget", () => {
  const MODULE = join(ROOT, "test", "xs", "bridge-bounds.mjs");
  beforeAll(prepareXs, 300_000);

  /** Runs the module; sends `envelopes` once it is ready. */
  async function run(envelopes: string[], extra: string[] = []) {
    const subject = `${s}.xs`;
    const r = await runXs(
      MODULE,
      ["nats-xs", "nats-xs/bridge"],
      [`server=${server.url}`, `subject=${subject}`, `n=${envelopes.length}`, ...extra],
      (line) => {
        if (line === "ready") for (const e of envelopes) js.publish(subject, e);
      },
      25_000,
    );
    return r;
  }

  test("every attack is a typed error with its bound, the envelope at the bounds and the ones after arrive; memory stays in budget", async () => {
    const list = attacks();
    const data = bytesOf(3_000, 7);
    const url = await peerUpload(files.url, data, "x.bin");
    const envelopes = [...list.map((a) => a.text), atDefaultBounds("edge"), link("digest-ok", url, data.length, tag(data)), link("digest-bad", url, data.length, tag(bytesOf(3_000, 8))), plain("last")];
    const r = await run(envelopes);
    expect(r.code, explain(r)).toBe(0);
    const lines = r.lines.filter((l) => l.startsWith("env ") || l.startsWith("err "));
    expect(lines).toEqual([
      ...list.map((a) => `err EnvelopeLimitError ${a.option}`),
      "env edge 16 12288",
      "env digest-ok 1 3000",
      "err DigestError ",
      "env last 1 5",
    ]);
    // exit status 0: no stack overflow, no memory full under the ESP32 budget. The live heap while the
    // envelope at every default bound is held (its 16 payloads, 12 KB of text, 100-member
    // dictionary, 30-deep metadata):
    const edge = field<{ slots: number; chunkBytes: number }>(r, "live edge");
    const m = field<{ slots: number; slotsPeak: number; chunkBytes: number; chunkBytesPeak: number }>(r, "memory");
    console.log(`xs bridge bounds: envelope at the default bounds held: ${JSON.stringify(edge)}; after: ${JSON.stringify(m)}`);
    expect(edge.chunkBytes).toBeLessThan(40_000);
    expect(edge.slots).toBeLessThan(1_500);
  }, 40_000);

  test("with the bounds lifted, the same small envelopes crash XS (what the bounds prevent)", async () => {
    // 400 deep (935 bytes): 300 deep overflowed the stack while the bridge kept its state in
    // #fields; since they became TypeScript-private fields it takes 400. max_depth (32) stops both.
    const [, , few] = attacks();
    const a = await run([deepMetadata("a1", 400), plain("after")], ["unbounded=true"]);
    expect(a.code, explain(a)).toBe(4); // stack overflow
    const b = await run([few.text, plain("after")], ["unbounded=true"]);
    expect(b.code, explain(b)).toBe(3); // memory full
  }, 60_000);
});

describe("property names: XS keeps every name it sees, so a receiver lets through at most max_keys distinct ones", () => {
  test("new names in every envelope: refused past max_keys, names already seen still pass", async () => {
    const rx: Got[] = [];
    const r = new EnvelopeReceiver((err, env) => rx.push({ err, env }), { max_keys: 8 });
    const enc = new TextEncoder();
    const send = (id: string, keys: string[]) =>
      r.push({ data: enc.encode(`{"correlation_id":"${id}","metadata":{${keys.map((k) => `"${k}":1`).join(",")}},"payloads":[]}`), subject: "s", reply: "", headers: undefined } as never);
    send("a", ["k1", "k2", "k3", "k4"]);
    send("b", ["k5", "k6", "k7", "k8"]);
    send("c", ["k9"]);
    send("d", ["k1", "k8"]);
    expect(rx.map((g) => (g.err === null ? g.env!.correlation_id : `${g.err.name} ${(g.err as EnvelopeLimitError).option}`))).toEqual(["a", "b", "EnvelopeLimitError max_keys", "d"]);
  });
});
