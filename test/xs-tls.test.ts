// TLS, mutual TLS, ws and wss by the built library on the XS engine under the ESP32 budget
// (embedded:io/socket/tcp/tls is the host's OpenSSL engine behind Moddable's TLS socket contract),
// with nats.js peers hearing the device on each server. Prints the heap after connecting.
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startServer } from "../tools/nats-server.mjs";
import { makeCerts, tlsBlock } from "../tools/certs.mjs";
import type { Certs } from "../tools/certs.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

let certs: Certs;
beforeAll(async () => {
  certs = makeCerts();
  await prepareXs();
}, 300_000);

describe("secure links on XS", () => {
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  const peers: NatsConnection[] = [];
  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
    certs.remove();
  });

  it("connects over TLS, mutual TLS, ws and wss, publishes to nats.js peers, and refuses a server of another CA", async () => {
    const tls = await startServer({ jetstream: false, config: tlsBlock(certs.server) });
    const mtls = await startServer({ jetstream: false, config: tlsBlock(certs.server, certs.caFile, true) });
    const wsPort = await freePort();
    const ws = await startServer({ jetstream: false, config: `websocket {\n  port: ${wsPort}\n  host: "127.0.0.1"\n  no_tls: true\n}\n` });
    const wssPort = await freePort();
    const wss = await startServer({
      jetstream: false,
      config: `websocket {\n  port: ${wssPort}\n  host: "127.0.0.1"\n  tls { cert_file: "${certs.server.certFile}"\n key_file: "${certs.server.keyFile}" }\n}\n`,
    });
    servers.push(tls, mtls, ws, wss);

    const subject = `xs.tls.${process.pid}`;
    const heard: string[] = [];
    const client = { ca: certs.ca, cert: certs.client.cert, key: certs.client.key };
    for (const [s, options] of [
      [tls, { tls: { ca: certs.ca } }],
      [mtls, { tls: client }],
      [ws, {}],
      [wss, {}],
    ] as const) {
      const p = await connect({ servers: `127.0.0.1:${s.port}`, ...options });
      peers.push(p);
      p.subscribe(subject, { callback: (_e, m) => heard.push(m.string()) });
      await p.flush();
    }

    const r = await runXs(
      join(ROOT, "test", "xs", "tls.mjs"),
      ["nats-xs", "nats-xs/tls", "nats-xs/ws"],
      [
        `natsServer=nats://127.0.0.1:${ws.port}`,
        `tlsServer=tls://127.0.0.1:${tls.port}`,
        `mtlsServer=tls://127.0.0.1:${mtls.port}`,
        `wsServer=ws://127.0.0.1:${wsPort}`,
        `wssServer=wss://127.0.0.1:${wssPort}`,
        `ca=${certs.ca}`,
        `cert=${certs.client.cert}`,
        `key=${certs.client.key}`,
        `otherCa=${certs.otherCa}`,
        `subject=${subject}`,
        "timeout=50000",
      ],
      undefined,
      60_000,
    );
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("done");
    expect(r.lines.find((l) => l.startsWith("refused "))).toMatch(/^refused TLS_HANDSHAKE .*(verify|issuer)/);
    const figures: Record<string, unknown> = {};
    for (const what of ["nats", "tls", "mtls", "ws", "wss"]) figures[what] = field<Record<string, number>>(r, what);
    for (const p of peers) await p.flush();
    expect(heard.sort()).toEqual(["mtls from xs", "nats from xs", "tls from xs", "ws from xs", "wss from xs"]);
    console.log(`xs secure links: after connect (above the state before) ${JSON.stringify(figures)}`);
  }, 90_000);
});
