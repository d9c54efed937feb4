// The full scenario of the fielded sensor on the XS engine under the ESP32 creation budget, with
// core, JetStream, KV, Object Store, services and the app's module preloaded: boot, a settings
// change from KV, 1,000 readings with a server outage (every accepted reading in the stream exactly
// once), a command, and the heap figures (peak and steady) of each stage.
//   SCENARIO_READINGS=5000 npx vitest run test/xs-sensor-app.test.ts    (npm run scenario:xs)
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const READINGS = Number(process.env.SCENARIO_READINGS ?? 1000);
/** What manifests/sensor preloads besides the app's main module. */
export const SENSOR_PRELOAD = ["nats-xs", "nats-xs/jetstream", "nats-xs/kv", "nats-xs/obj", "nats-xs/sensor-app"];

interface Stage {
  stage: string;
  slots: number;
  slotsPeak: number;
  chunkBytes: number;
  chunkBytesPeak: number;
}

describe("the sensor app on XS under the ESP32 budget", () => {
  it(`boots, takes a settings change, stores ${READINGS} readings across an outage exactly once, answers a command`, async () => {
    const server = await startServer({ jetstream: true });
    const id = "xs-sensor";
    try {
      const peer = await connect({ servers: server.url, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
      const jsm = await jetstreamManager(peer);
      await jsm.streams.add({ name: "SENSORS", subjects: ["sensors.*.reading"] });
      const cfg = await new Kvm(peer).create("devices-config", { history: 5 });
      let work: Promise<unknown> = Promise.resolve();
      let outage = false;
      let pong: { version?: string; commands?: number } = {};
      const onLine = (line: string) => {
        if (line === "booted") work = cfg.put(id, JSON.stringify({ interval: 10, high: 23 }));
        else if (line === "progress 300" && !outage) {
          outage = true;
          work = (async () => {
            await server.kill();
            await new Promise((r) => setTimeout(r, 1000));
            await server.restart();
          })();
        } else if (line.startsWith("readings ")) {
          work = (async () => {
            await work;
            pong = (await peer.request(`sensors.${id}.cmd.ping`, "", { timeout: 10_000 })).json();
          })();
        }
      };
      const r = await runXs(join(ROOT, "test", "xs", "sensor-app.mjs"), SENSOR_PRELOAD, [`nats=${server.url}`, `id=${id}`, "interval=1000", `count=${READINGS}`, "alive_ttl=3000"], onLine, 120_000);
      await work;
      expect(r.code, explain(r)).toBe(0);
      expect(outage).toBe(true);
      expect(pong.version).toBe("1.0.0");
      const readings = field<{ taken: number; accepted: number; acked: number; refused: number }>(r, "readings");
      expect(readings.taken).toBe(READINGS);
      expect(readings.accepted + readings.refused).toBe(READINGS);
      // every accepted reading once in the stream
      const info = await jsm.streams.info("SENSORS", { subjects_filter: `sensors.${id}.reading` });
      const stored = info.state.subjects?.[`sensors.${id}.reading`] ?? 0;
      expect(stored).toBe(readings.accepted);
      const seen = new Set<number>();
      const c = await jetstream(peer).consumers.get("SENSORS", { filter_subjects: `sensors.${id}.reading` });
      for await (const m of await c.fetch({ max_messages: stored, expires: 5000 })) {
        const seq = m.json<{ seq: number }>().seq;
        expect(seen.has(seq), `reading ${seq} stored twice`).toBe(false);
        seen.add(seq);
        if (seen.size === stored) break;
      }
      expect(seen.size).toBe(stored);
      const stages: Stage[] = r.lines.filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7)));
      expect(stages.map((s) => s.stage)).toEqual(["booted", "configured", "readings", "commanded"]);
      const last = stages[stages.length - 1];
      console.log(
        `XS sensor app: ${READINGS} readings (${readings.accepted} stored, ${readings.refused} refused during the outage); ` +
          `peak ${last.slotsPeak} slots / ${last.chunkBytesPeak} chunk bytes; steady ${stages.map((s) => `${s.stage} ${s.slots}/${s.chunkBytes}`).join(", ")}`,
      );
      for (const s of stages) {
        expect(s.slotsPeak).toBeLessThanOrEqual(4928);
        expect(s.chunkBytesPeak).toBeLessThanOrEqual(78848);
      }
      await peer.close();
    } finally {
      await server.stop();
    }
  }, 180_000);
});
