// NATSBridge Object Store links on the real XS engine under the ESP32 creation budget (nats-xs,
// nats-xs/jetstream, nats-xs/obj and nats-xs/bridge preloaded), with nats.js and @nats-io/obj as the
// peer: a nats-os:// link to a 1 MB object nats.js wrote in 128 KB chunks is received by
// smartsubscribe into a sink, a link to a bucket the device does not allow is refused, and the
// device sends 1 MB through the bucket for nats.js to read; the live heap rises by no more than 800
// slots (receiving measured 591 to 764 over runs, the same spread on the commit before this
// session's changes: which promises and pending pieces are live at a sample is timing), and by
// 16 KB receiving (the Object Store's own bound, test/xs-obj.test.ts), 20 KB sending.
import { createHash, randomUUID } from "node:crypto";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Objm as PeerObjm } from "@nats-io/obj";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";
import { peerEnvelope } from "./shared/bridge-peer.mjs";

beforeAll(prepareXs, 300_000);

const SIZE = 1024 * 1024;
const BOUND = { chunkBytes: 16 * 1024, slots: 800 };

function computed(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let p = 0; p < n; p++) b[p] = (p * 13 + (p >>> 11)) & 255;
  return b;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface Figures {
  url: string;
  pieces: number;
  rise: { slots: number; chunkBytes: number };
  peak: number;
}

describe("Object Store links on XS under the ESP32 budget", () => {
  it("smartsubscribe reads a nats-os:// link into a sink, refuses a bucket not allowed, and smartsend puts 1 MB through the bucket", async () => {
    const server = await startServer({ jetstream: true });
    try {
      const peer = await connect({ servers: server.url });
      const pos = await new PeerObjm(peer).create("XSLINKS");
      await new PeerObjm(peer).create("OTHER");
      const data = new Uint8Array(SIZE);
      for (let i = 0; i < SIZE; i++) data[i] = (i * 7 + (i >>> 9)) & 255;
      const name = `${randomUUID()}/photo.bin`;
      const info = await pos.putBlob({ name, options: { max_chunk_size: 128 * 1024 } }, data);
      const url = `nats-os://XSLINKS/${name.split("/").map(encodeURIComponent).join("/")}`;
      const outbox: Uint8Array[] = [];
      peer.subscribe("xs.objlink.out", { callback: (_e, m) => outbox.push(m.data) });
      await peer.flush();
      const warm = await pos.putBlob({ name: "warm" }, new Uint8Array(100));
      const link = (u: string, size: number, digest: string) => peerEnvelope([{ dataname: "photo", type: "binary", transport: "link", url: u, size, metadata: { digest } }]);
      const onLine = (line: string) => {
        if (line === "warm") peer.publish("xs.objlink.in", link("nats-os://XSLINKS/warm", 100, warm.digest));
        if (line === "ready") peer.publish("xs.objlink.in", link(url, SIZE, info.digest));
        if (line.startsWith("received ")) peer.publish("xs.objlink.in", link(`nats-os://OTHER/${encodeURIComponent(name)}`, SIZE, info.digest));
      };
      const r = await runXs(join(ROOT, "test", "xs", "bridge-objlink.mjs"), ["nats-xs", "nats-xs/jetstream", "nats-xs/obj", "nats-xs/bridge"], [`server=${server.url}`, `size=${SIZE}`, "every=8", "timeout=55000"], onLine, 58_000);
      expect(r.code, explain(r)).toBe(0);
      const rx = field<Figures & { bytes: number }>(r, "received");
      const tx = field<Figures & { digest: string }>(r, "sent");
      console.log(`XS Object Store link 1 MB: received ${JSON.stringify(rx)} sent ${JSON.stringify(tx)}`);
      expect(rx.bytes).toBe(SIZE);
      expect(rx.url).toBe(url);
      expect(r.lines).toContain("refused LinkError");
      // what the device sent: an envelope whose link nats.js resolves to the bytes it computed
      expect(outbox.length).toBe(1);
      const env = JSON.parse(new TextDecoder().decode(outbox[0]));
      expect(env.payloads[0]).toMatchObject({ transport: "link", data: tx.url, size: SIZE });
      const m = /^nats-os:\/\/XSLINKS\/(.+)$/.exec(tx.url);
      expect(m).not.toBeNull();
      const got = await pos.getBlob(decodeURIComponent(m![1]));
      expect(sha(got!)).toBe(sha(computed(SIZE)));
      expect((await pos.info(decodeURIComponent(m![1])))?.digest).toBe(tx.digest);
      await peer.close();
      // receiving: within the Object Store's own bound; sending adds smartsend's envelope (its
      // layout, the streamed publish of the envelope after the object) to the put's 12.5 KB
      expect(rx.rise.chunkBytes).toBeLessThanOrEqual(BOUND.chunkBytes);
      expect(tx.rise.chunkBytes).toBeLessThanOrEqual(BOUND.chunkBytes + 4096);
      for (const f of [rx, tx]) {
        expect(f.peak).toBeLessThanOrEqual(4928);
        expect(f.rise.slots).toBeLessThanOrEqual(BOUND.slots);
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});
