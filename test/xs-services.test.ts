// nats-xs/services on the real XS engine under the ESP32 creation budget, with nats-xs and
// nats-xs/services preloaded: a nats.js backend (@nats-io/services 3.0.0-25) discovers the device's
// service (PING, INFO, STATS by name and by id), calls its endpoints (an answer, a bounded json()
// refusing a deep payload, a ServiceError, respondError), and the device measures what an endpoint
// costs on the heap (slots and chunk bytes after a collection), as the README reports it.
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ServiceError as PeerServiceError, Svcm as PeerSvcm } from "@nats-io/services";
import type { ServiceIdentity, ServiceInfo, ServiceStats } from "@nats-io/services";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const EXTRA = 10;

interface Stage {
  stage: string;
  slots: number;
  chunkBytes: number;
  slotsPeak: number;
  chunkBytesPeak: number;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe("services on XS under the ESP32 budget", () => {
  it("is discovered and called by a nats.js backend; an endpoint's heap cost is measured", async () => {
    const server = await startServer({ jetstream: false });
    try {
      const peer = await connect({ servers: server.url });
      const seen: Record<string, unknown> = {};
      let work: Promise<void> = Promise.resolve();
      const onLine = (line: string) => {
        if (!line.startsWith("ready ")) return;
        const id = line.slice(6);
        work = (async () => {
          const client = new PeerSvcm(peer).client({ strategy: "count", maxMessages: 1, maxWait: 10_000 });
          seen.ping = await collect<ServiceIdentity>(await client.ping("xsdevice", id));
          seen.info = await collect<ServiceInfo>(await client.info("xsdevice"));
          seen.pingAll = (await collect<ServiceIdentity>(await client.ping())).filter((p) => p.name === "xsdevice");
          seen.pong = (await peer.request("ping", "", { timeout: 10_000 })).string();
          seen.c3 = (await peer.request("xs.cmd.c3", "", { timeout: 10_000 })).string();
          seen.config = (await peer.request("xs.config", '{"interval":30}', { timeout: 10_000 })).string();
          const deep = await peer.request("xs.config", "[".repeat(1500) + "]".repeat(1500), { timeout: 10_000 });
          seen.deep = [PeerServiceError.toServiceError(deep)?.code, PeerServiceError.toServiceError(deep)?.message];
          const typed = PeerServiceError.toServiceError(await peer.request("xs.config", '{"interval":"x"}', { timeout: 10_000 }));
          seen.typed = [typed?.code, typed?.message];
          const busy = PeerServiceError.toServiceError(await peer.request("xs.reboot", "", { timeout: 10_000 }));
          seen.busy = [busy?.code, busy?.message];
          seen.stats = await collect<ServiceStats>(await client.stats("xsdevice", id));
          await peer.request("xs.done", "", { timeout: 10_000 });
        })();
        work.catch(() => {});
      };
      const r = await runXs(join(ROOT, "test", "xs", "services.mjs"), ["nats-xs", "nats-xs/status", "nats-xs/services"], [`server=${server.url}`, `endpoints=${EXTRA}`, "timeout=55000"], onLine, 58_000);
      await work;
      await peer.close();
      expect(r.code, explain(r)).toBe(0);
      const id = (r.lines.find((l) => l.startsWith("ready ")) ?? "").slice(6);
      expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
      expect(seen.ping).toEqual([{ type: "io.nats.micro.v1.ping_response", name: "xsdevice", id, version: "1.0.0", metadata: { board: "esp32" } }]);
      expect(seen.pingAll).toHaveLength(1);
      const info = (seen.info as ServiceInfo[])[0];
      expect(info).toMatchObject({ type: "io.nats.micro.v1.info_response", id, description: "a device on XS", metadata: { board: "esp32" } });
      expect(info.endpoints).toHaveLength(1 + EXTRA + 3);
      expect(info.endpoints[0]).toEqual({ name: "ping", subject: "ping", queue_group: "q", metadata: { kind: "liveness" } });
      expect(info.endpoints[4]).toEqual({ name: "c3", subject: "xs.cmd.c3", queue_group: "q", metadata: {} });
      expect(seen.pong).toBe("pong");
      expect(seen.c3).toBe("c3");
      expect(seen.config).toBe("interval 30");
      expect((seen.deep as unknown[])[0]).toBe(500);
      expect(String((seen.deep as unknown[])[1])).toMatch(/depth limit of 32/);
      expect(seen.typed).toEqual([400, "interval must be a number"]);
      expect(seen.busy).toEqual([409, "busy updating"]);
      const peerStats = (seen.stats as ServiceStats[])[0];
      const config = peerStats.endpoints?.find((e) => e.name === "config");
      expect([config?.num_requests, config?.num_errors, config?.last_error]).toEqual([3, 2, "400:interval must be a number"]);
      const own = field<{ endpoints: { name: string; num_requests: number }[] }>(r, "stats");
      expect(own.endpoints.find((e) => e.name === "done")?.num_requests).toBe(1);
      expect(r.lines).toContain("stopped null");
      expect(r.lines[r.lines.length - 1]).toBe("done");
      const stages = Object.fromEntries(
        r.lines.filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7)) as Stage).map((s) => [s.stage, s]),
      ) as Record<string, Stage>;
      for (const s of Object.values(stages)) {
        expect(s.slotsPeak).toBeLessThanOrEqual(4928);
        expect(s.chunkBytesPeak ?? s.chunkBytes).toBeLessThanOrEqual(78848);
      }
      const service = { slots: stages.service.slots - stages.connected.slots, chunkBytes: stages.service.chunkBytes - stages.connected.chunkBytes };
      const first = { slots: stages["endpoints-1"].slots - stages.service.slots, chunkBytes: stages["endpoints-1"].chunkBytes - stages.service.chunkBytes };
      const each = {
        slots: (stages[`endpoints-${1 + EXTRA}`].slots - stages["endpoints-1"].slots) / EXTRA,
        chunkBytes: (stages[`endpoints-${1 + EXTRA}`].chunkBytes - stages["endpoints-1"].chunkBytes) / EXTRA,
      };
      console.log(`XS services heap: service ${JSON.stringify(service)}, first endpoint ${JSON.stringify(first)}, each further endpoint ${JSON.stringify(each)}; stages ${JSON.stringify(stages)}`);
      // an endpoint is an object, a closure and a subscription: a bound that catches a regression
      expect(each.slots).toBeGreaterThan(0);
      expect(each.slots).toBeLessThan(120);
      expect(each.chunkBytes).toBeLessThan(1024);
      // serving leaves nothing behind: the heap after the requests is within a little of before them
      expect(stages.served.slots - stages["endpoints-all"].slots).toBeLessThan(64);
      // (chunk bytes: the receive buffer grows from 256 bytes to hold the 3 KB request, as the core
      // documents, up to its 4,096 bytes)
      expect(stages.served.chunkBytes - stages["endpoints-all"].chunkBytes).toBeLessThan(4096 + 512);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
