// nats-xs/obj on the real XS engine under the ESP32 creation budget with nats-xs, nats-xs/jetstream
// and nats-xs/obj preloaded: a 10 MB object written by @nats-io/obj in 128 KB chunks read on the
// device, and a 10 MB object put by the device read back by @nats-io/obj; the live heap rises by no
// more than 16 KB and 700 slots above the state before each transfer (the bound the HTTP link keeps).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Objm as PeerObjm } from "@nats-io/obj";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const SIZE = 10 * 1024 * 1024;
const BOUND = { chunkBytes: 16 * 1024, slots: 700 };

function computed(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let p = 0; p < n; p++) b[p] = (p * 13 + (p >>> 11)) & 255;
  return b;
}

interface Figures {
  rise: { slots: number; chunkBytes: number };
  pieces: number;
  peak: number;
}

describe("Object Store on XS under the ESP32 budget", () => {
  it("10 MB both ways with nats.js, within 16 KB and 700 slots above the state before", async () => {
    const server = await startServer({ jetstream: true });
    try {
      const peer = await connect({ servers: server.url });
      const pos = await new PeerObjm(peer).create("XSOBJ");
      const down = new Uint8Array(SIZE);
      for (let i = 0; i < SIZE; i++) down[i] = (i * 7 + (i >>> 9)) & 255;
      await pos.putBlob({ name: "down", options: { max_chunk_size: 128 * 1024 } }, down);
      await pos.putBlob({ name: "warm" }, new Uint8Array(100));
      const r = await runXs(join(ROOT, "test", "xs", "obj-10mb.mjs"), ["nats-xs", "nats-xs/jetstream", "nats-xs/obj"], [`server=${server.url}`, `size=${SIZE}`, "every=8", "timeout=110000"], undefined, 115_000);
      expect(r.code, explain(r)).toBe(0);
      const dl = field<Figures & { bytes: number; chunks: number }>(r, "download");
      const ul = field<Figures & { size: number; chunks: number; digest: string }>(r, "upload");
      console.log(`XS Object Store 10 MB: download ${JSON.stringify(dl)} upload ${JSON.stringify(ul)}`);
      expect(dl.bytes).toBe(SIZE);
      expect(dl.chunks).toBe(80);
      expect(ul.size).toBe(SIZE);
      const up = await pos.getBlob("up");
      const want = computed(SIZE);
      expect(up?.length).toBe(SIZE);
      expect(createHash("sha256").update(up!).digest("hex")).toBe(createHash("sha256").update(want).digest("hex"));
      expect((await pos.info("up"))?.digest).toBe(ul.digest);
      await peer.close();
      for (const f of [dl, ul]) {
        expect(f.peak).toBeLessThanOrEqual(4928);
        expect(f.rise.chunkBytes).toBeLessThanOrEqual(BOUND.chunkBytes);
        expect(f.rise.slots).toBeLessThanOrEqual(BOUND.slots);
      }
    } finally {
      await server.stop();
    }
  }, 180_000);
});
