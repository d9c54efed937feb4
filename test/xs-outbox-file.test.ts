// The file-backed outbox on the XS engine under the ESP32 budget (nats-xs, nats-xs/jetstream and
// nats-xs/outbox-file preloaded as manifests/nats-xs-outbox-file preloads them): readings accepted
// while the server is away survive the end of the XS process (the files folder kept), and the next
// process restores them and sends them, each stored once. Reports the heap per restored entry.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const N = 50;
const PRELOAD = ["nats-xs", "nats-xs/jetstream", "nats-xs/outbox-file"];

describe("the file-backed outbox on XS", () => {
  it("keeps readings accepted while the server is away across a restart of the XS process, and sends each once", async () => {
    const device = mkdtempSync(join(tmpdir(), "nats-xs-xs-outbox-"));
    process.env.NATS_XS_DEVICE_DIR = join(device, "fleet", "dev7"); // made with its parents
    const server = await startServer({ jetstream: true });
    const subject = "readings.dev7"; // fixed: the bytes per entry depend on it
    const stream = "XSOBF";
    try {
      const peer = await connect({ servers: server.url });
      const jsm = await jetstreamManager(peer);
      await jsm.streams.add({ name: stream, subjects: [subject] });
      await peer.close();
      let stopped: Promise<void> = Promise.resolve();
      const fill = await runXs(join(ROOT, "test", "xs", "outbox-file.mjs"), PRELOAD, ["phase=fill", `server=${server.url}`, `subject=${subject}`, `count=${N}`], (line) => {
        if (line === "connected") stopped = server.stop({ keepStore: true });
      });
      await stopped;
      expect(fill.code, explain(fill)).toBe(0);
      expect(fill.lines).toContain("files ok");
      expect(fill.lines).toContain(`accepted ${N}`);
      const fileBytes = statSync(join(device, "fleet", "dev7", "files", "outbox")).size;
      await server.restart();
      const drain = await runXs(join(ROOT, "test", "xs", "outbox-file.mjs"), PRELOAD, ["phase=drain", `server=${server.url}`, `subject=${subject}`]);
      expect(drain.code, explain(drain)).toBe(0);
      expect(drain.lines).toContain(`restored ${N} corrupt=0`);
      expect(drain.lines).toContain(`drained acked=${N} failed=0 duplicates=0`);
      expect(drain.lines).toContain("file bytes=4");
      expect(drain.lines[drain.lines.length - 1]).toBe("done");
      const peer2 = await connect({ servers: server.url });
      const info = await (await jetstreamManager(peer2)).streams.info(stream);
      await peer2.close();
      expect(info.state.messages).toBe(N);
      const stages = Object.fromEntries(
        [...fill.lines, ...drain.lines].filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7))).map((s) => [s.stage, s]),
      );
      const perEntry = {
        fileBytes: (fileBytes - 4) / N,
        pendingChunkBytes: (stages.pending.chunkBytes - stages.base.chunkBytes) / N,
        pendingSlots: (stages.pending.slots - stages.base.slots) / N,
        indexChunkBytes: (stages.probed.chunkBytes - stages.probe.chunkBytes) / N,
        indexSlots: (stages.probed.slots - stages.probe.slots) / N,
        restoredChunkBytes: (stages.restored.chunkBytes - stages.before.chunkBytes) / N,
        restoredSlots: (stages.restored.slots - stages.before.slots) / N,
      };
      // the journal's format: 32 bytes + subject (13) + id (4.8 on average) + payload (28.8 on average)
      expect(perEntry.fileBytes).toBeCloseTo(78.6, 5);
      console.log(`XS outbox-file heap: ${JSON.stringify(stages)}\nper entry: ${JSON.stringify(perEntry)}`);
    } finally {
      await server.stop();
      rmSync(device, { recursive: true, force: true });
      delete process.env.NATS_XS_DEVICE_DIR;
    }
  }, 120_000);
});
