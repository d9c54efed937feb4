// nats-xs/jetstream on the real XS engine under the ESP32 creation budget, with nats-xs and
// nats-xs/jetstream preloaded as manifests/nats-xs-jetstream preloads them: publish with ack, fetch
// and ack, a server restart with the outbox holding publishes, a durable fetch after it, and a
// consume loop — against a real nats-server (file storage), with nats.js publishing and reading back.
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager as peerManager } from "@nats-io/jetstream";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const CONSUME = 10_000;

describe("JetStream on XS under the ESP32 budget", () => {
  it("publishes with ack, fetches and acks, keeps publishes across a server restart, and consumes", async () => {
    const server = await startServer({ jetstream: true });
    const prefix = `xsjs${process.pid}`;
    try {
      let restarted: Promise<void> = Promise.resolve();
      let published: Promise<void> = Promise.resolve();
      const onLine = (line: string) => {
        if (line === "restart") restarted = server.restart();
        else if (line === "consume") {
          published = (async () => {
            const nc = await connect({ servers: server.url });
            const body = new Uint8Array(16);
            for (let i = 0; i < CONSUME; i++) {
              nc.publish(`${prefix}.r`, body);
              if (i % 200 === 199) await nc.flush();
            }
            await nc.flush();
            await nc.close();
          })();
        }
      };
      // a hostile "JetStream API": every reply nested 1,500 levels deep
      const hostile = await connect({ servers: server.url });
      hostile.subscribe(`$BAD${prefix}.API.>`, { callback: (_e, m) => m.respond("[".repeat(1500) + "]".repeat(1500)) });
      await hostile.flush();
      const r = await runXs(join(ROOT, "test", "xs", "jetstream.mjs"), ["nats-xs", "nats-xs/jetstream"], [`server=${server.url}`, `prefix=${prefix}`, `consume=${CONSUME}`, "timeout=55000"], onLine, 58_000);
      await restarted;
      await published;
      await hostile.close();
      expect(r.code, explain(r)).toBe(0);
      expect(r.lines).toContain("ready");
      expect(r.lines).toContain("hostile refused JetStreamResponseError");
      expect(r.lines).toContain("published acked=100 dup=0");
      expect(r.lines).toContain("fetched 100 bad=0");
      expect(r.lines.find((l) => l.startsWith("outbox waiting="))).toBe("outbox waiting=20");
      expect(r.lines).toContain("resumed acked=20");
      expect(r.lines).toContain("refetched 20 bad=0");
      expect(r.lines).toContain(`consumed ${CONSUME} bad=0`);
      expect(r.lines[r.lines.length - 1]).toBe("done");
      const stages = Object.fromEntries(
        r.lines.filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7))).map((s) => [s.stage, s]),
      );
      console.log(`XS JetStream heap: ${JSON.stringify(stages)}`);
      // the whole run stayed inside the ESP32 creation budget (memory full would have exited 3)
      for (const s of Object.values(stages) as { slotsPeak: number; chunkBytes: number }[]) {
        expect(s.slotsPeak).toBeLessThanOrEqual(4928);
        expect(s.chunkBytes).toBeLessThanOrEqual(78848);
      }
      // the consume loop does not grow: the live heap after 10,000 messages is within a few slots of
      // the heap after 2,500 (a JsMsg per message is garbage once acked)
      expect(stages.consumed.slots - stages["consume-quarter"].slots).toBeLessThan(64);
      // the stream holds every message once, as nats.js reads it
      const peer = await connect({ servers: server.url });
      const info = await (await peerManager(peer)).streams.info("XSJS");
      expect(info.state.messages).toBe(120 + CONSUME);
      await peer.close();
    } finally {
      await server.stop();
    }
  }, 60_000);

  it("runs examples/image-metadata as flashed: the metadata reaches IMAGE_STREAM with its file-name headers", async () => {
    const server = await startServer({ jetstream: true });
    try {
      const r = await runXs(join(ROOT, "examples", "image-metadata", "main.js"), ["nats-xs", "nats-xs/jetstream"], [`nats=${server.url}`, "camera=xs-cam", "count=4"], undefined, 20_000);
      expect(r.code, explain(r)).toBe(0);
      expect(r.lines).toContain("image-metadata: 4 acked, 0 already stored, 0 failed");
      const peer = await connect({ servers: server.url });
      const c = await jetstream(peer).consumers.get("IMAGE_STREAM");
      const names: string[] = [];
      for await (const m of await c.fetch({ max_messages: 4, expires: 5000 })) names.push(m.headers?.get("file-name") ?? "");
      expect(names).toEqual(["xs-cam-0001.jpg", "xs-cam-0002.jpg", "xs-cam-0003.jpg", "xs-cam-0004.jpg"]);
      await peer.close();
    } finally {
      await server.stop();
    }
  }, 30_000);
});
