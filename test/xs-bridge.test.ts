// A 10 MB NATSBridge link payload through the real XS engine (tools/xs/), under the ESP32 creation
// budget with nats-xs and nats-xs/bridge preloaded as manifests/nats-xs-bridge preloads them on a
// device, against a real nats-server and the Plik-subset file server of tools/: down into a sink
// that only checksums, then up again from a PayloadSource that computes each piece; and the peak
// live heap of each transfer stays within the bound docs/bridge.md ("Memory bounds") states.
// The XS module is test/xs/bridge-10mb.mjs; the two coordinate through its stdout lines.
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { startFileServer } from "../tools/fileserver.mjs";
import { peerEnvelope, peerRead, peerUpload } from "./shared/bridge-peer.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";
import type { XsResult } from "./xs-harness.ts";

const MODULE = join(ROOT, "test", "xs", "bridge-10mb.mjs");
const SIZE = 10 * 1024 * 1024;
/** The ESP32 default creation budget (tools/xs/README.md). */
const BUDGET = { chunkBytes: 78_848, slots: 4_928 };

// The bound stated in docs/bridge.md ("Memory bounds"): the most the live heap may rise above its
// state right before a 10 MB link transfer, in either direction, while the transfer runs.
//  - chunk bytes: 16 KB, four times the 4 KB of fixed buffers docs/bridge.md lists for a link
//    transfer (HTTP read, pending-write and line buffers of 1024 bytes, and the upload's
//    1024-byte piece). Measured: 10,920 (download) and 15,160 (upload). Besides the buffers, a
//    transfer holds its request head and multipart framing, the envelope's strings and the frames
//    of the suspended async functions of the chain (stored in chunks at 32 bytes a slot on this
//    64-bit host, 16 on an ESP32). Nothing of it grows with the payload.
//  - slots: 700. Measured: 504 (download: the arrived envelope, receiver, HTTP exchange, socket,
//    timer, promises) and 578 (upload: the envelope being sent and its layout, the HTTP
//    exchange, socket, timer, promises); from one sample to the next they move by under 20
//    slots, a first envelope adds 14 one-time slots, and the margin of about 20 % covers that and
//    other timings.
// 17 KB since the v1 envelope fields, the SHA-256 digest state and the link deadline (docs/bridge.md)
const BOUND = { chunkBytes: 17 * 1024, slots: 700 };

interface Heap {
  slots: number;
  chunkBytes: number;
  slotsPeak: number;
  chunkBytesPeak: number;
}

/** Figures of one transfer (test/xs/bridge-10mb.mjs); rise, maxLive and minLive are null when no
 *  collection was forced. */
interface Transfer {
  bytes: number;
  samples: number;
  before: Heap;
  rise: { slots: number; chunkBytes: number } | null;
  maxLive: { slots: number; chunkBytes: number; slotsAtPiece: number; chunkBytesAtPiece: number } | null;
  minLive: { slots: number; chunkBytes: number } | null;
  after: Heap;
}

interface Download extends Transfer {
  declared: number;
  transport: string;
  adler32: number;
  pieces: number;
  maxPiece: number;
  ended: number;
  /** Live heap above `before` when the sink is opened: the envelope is read, the download not begun. */
  sinkOpen: { slots: number; chunkBytes: number } | null;
}

interface Upload extends Transfer {
  size: number;
  transport: string;
  url: string;
  reads: number;
  maxRead: number;
}

beforeAll(prepareXs, 300_000);

/** Runs the module with both libraries preloaded. */
function xs(args: string[], onLine: (line: string) => void, timeoutMs: number): Promise<XsResult> {
  return runXs(MODULE, ["nats-xs", "nats-xs/bridge"], args, onLine, timeoutMs);
}

/** Adler-32, as the XS module's sink computes it. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let at = 0; at < bytes.length; at += 4096) {
    const end = Math.min(bytes.length, at + 4096);
    for (let i = at; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** SHA-256 of the pattern the XS module's PayloadSource computes: byte p = (p * 13 + (p >>> 11)) & 255. */
function sha256Pattern(size: number): string {
  const h = createHash("sha256");
  const buf = new Uint8Array(65536);
  for (let at = 0; at < size; at += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, size - at));
    for (let i = 0; i < piece.length; i++) {
      const p = at + i;
      piece[i] = (p * 13 + (p >>> 11)) & 255;
    }
    h.update(piece);
  }
  return h.digest("hex");
}

describe("NATSBridge on XS under the ESP32 budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let js: NatsConnection;
  let url: string;
  let want: number;

  beforeAll(async () => {
    server = await startServer({ jetstream: false });
    files = await startFileServer();
    js = await connect({ servers: server.url, reconnect: false });
    // the peer's file, announced by link in the envelope the device receives
    const file = new Uint8Array(randomBytes(SIZE));
    url = await peerUpload(files.url, file, "xs-down.bin");
    want = adler32(file);
  });

  afterAll(async () => {
    await js?.close().catch(() => {});
    await files?.close();
    await server?.stop();
  });

  /**
   * One run of the module: the envelope with the 10 MB link goes to the device, which downloads it
   * and uploads 10 MB of its own; every byte is checked both ways. `every`: a forced collection
   * every that many pieces (0: none). Returns the figures of both transfers.
   */
  async function transfer(every: number): Promise<{ download: Download; upload: Upload }> {
    const prefix = `xs.bridge.${process.pid}.${every}`;
    // the envelope the device sends after its upload
    let outEnvelope: Uint8Array | null = null;
    js.subscribe(`${prefix}.out`, {
      max: 1,
      callback: (err, msg) => {
        if (err === null) outEnvelope = msg.data;
      },
    });
    await js.flush();
    const downloadsBefore = files.stats.downloads;
    const uploadsBefore = files.stats.files;

    let sent = false;
    const onLine = (line: string) => {
      if (line === `ready ${prefix}.in`) {
        js.publish(`${prefix}.in`, peerEnvelope([{ dataname: "xs-down.bin", type: "binary", transport: "link", url, size: SIZE }]));
        sent = true;
      }
    };
    const r = await xs([`server=${server.url}`, `files=${files.url}`, `prefix=${prefix}`, `size=${SIZE}`, `every=${every}`, "timeout=20000"], onLine, 25_000);
    await js.flush();
    expect(r.code, explain(r)).toBe(0);
    expect(sent).toBe(true);
    expect(r.lines[r.lines.length - 1]).toBe("done");
    expect(field<typeof BUDGET>(r, "budget")).toMatchObject(BUDGET);
    const figures = field<{ download: Download; upload: Upload }>(r, "memory");
    const { download, upload } = figures;

    // (a) every byte arrived once, in pieces no larger than the HTTP read buffer, and matches
    expect(download.transport).toBe("link");
    expect(download.declared).toBe(SIZE);
    expect(download.bytes).toBe(SIZE);
    expect(download.adler32).toBe(want);
    expect(download.ended).toBe(1);
    expect(download.maxPiece).toBeLessThanOrEqual(1024);
    expect(files.stats.downloads - downloadsBefore).toBe(1);

    // (b) the file server holds what the source computed, and the envelope points to it
    expect(upload.transport).toBe("link");
    expect(upload.size).toBe(SIZE);
    expect(upload.bytes).toBe(SIZE);
    expect(upload.maxRead).toBeLessThanOrEqual(1024);
    expect(files.stats.files - uploadsBefore).toBe(1);
    expect(outEnvelope, "the device's envelope on <prefix>.out").not.toBeNull();
    const out = await peerRead(outEnvelope as unknown as Uint8Array);
    expect(out.sender_name).toBe("xs-bridge-10mb");
    expect(out.payloads[0].transport).toBe("link");
    expect(out.payloads[0].size).toBe(SIZE);
    expect(out.payloads[0].data).toBe(upload.url);
    expect(out.payloads[0].bytes.length).toBe(SIZE);
    expect(createHash("sha256").update(out.payloads[0].bytes).digest("hex")).toBe(sha256Pattern(SIZE));
    // the device hashed what it uploaded (crypt's SHA-256 on XS) and put it in the payload's metadata
    const raw = JSON.parse(Buffer.from(outEnvelope as unknown as Uint8Array).toString("utf8"));
    expect(raw.payloads[0].metadata.digest).toBe(`SHA-256=${Buffer.from(sha256Pattern(SIZE), "hex").toString("base64url")}=`);

    // the whole run stayed inside the ESP32 budget (memory full would have exited 3): XS's own
    // high-water marks, live and garbage together
    for (const t of [download, upload]) {
      expect(t.after.slotsPeak).toBeLessThanOrEqual(BUDGET.slots);
      expect(t.after.chunkBytesPeak).toBeLessThanOrEqual(BUDGET.chunkBytes);
    }
    return figures;
  }

  it("peak live heap of a 10 MB link download and a 10 MB link upload, collected every 4 pieces, within the stated bound", async () => {
    const { download, upload } = await transfer(4);
    console.log(`xs bridge 10 MB, sampled: ${JSON.stringify({ bound: BOUND, download, upload })}`);
    for (const t of [download, upload]) {
      // pieces 1 to 8, then every 4th up to 10,240: 2,566 collections inside the sink's write /
      // the source's read (and one more when the download's sink opens)
      expect(t.samples).toBeGreaterThanOrEqual(2566);
      expect(t.rise).not.toBeNull();
      expect(t.rise!.chunkBytes).toBeLessThanOrEqual(BOUND.chunkBytes);
      expect(t.rise!.slots).toBeLessThanOrEqual(BOUND.slots);
    }
  }, 30_000);

  it("the same transfers with collections left to XS, as on a device: no memory full", async () => {
    const { download, upload } = await transfer(0);
    console.log(`xs bridge 10 MB, natural: ${JSON.stringify({ download, upload })}`);
    expect(download.samples).toBe(0);
    expect(upload.samples).toBe(0);
  }, 30_000);
});
