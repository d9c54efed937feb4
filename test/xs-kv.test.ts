// nats-xs/kv on the real XS engine under the ESP32 creation budget, with nats-xs, nats-xs/jetstream
// and nats-xs/kv preloaded: put, get, compare-and-set, a value written by nats.js, and a watch of
// 1,000 updates written by @nats-io/kv that does not grow the heap; a watch across a server restart.
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Kvm as PeerKvm } from "@nats-io/kv";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const UPDATES = 1000;

describe("KV on XS under the ESP32 budget", () => {
  it("puts, gets, refuses a stale update, reads nats.js's value, and watches 1,000 updates without growing", async () => {
    const server = await startServer({ jetstream: true });
    try {
      const peer = await connect({ servers: server.url });
      let work: Promise<void> = Promise.resolve();
      let deviceState = "";
      const onLine = (line: string) => {
        if (line === "peer") {
          work = (async () => {
            const kv = await new PeerKvm(peer).open("XSKV");
            deviceState = (await kv.get("device.state"))?.string() ?? "";
            await kv.put("peer.cfg", "blue");
          })();
        } else if (line === "watch") {
          work = (async () => {
            const kv = await new PeerKvm(peer).open("XSKV");
            const body = new Uint8Array(16);
            for (let i = 0; i < UPDATES; i++) await kv.put(`feed.${i % 10}`, body);
          })();
        } else if (line === "restart") {
          work = (async () => {
            await server.restart();
            const p2 = await connect({ servers: server.url });
            await (await new PeerKvm(p2).open("XSKV")).put("after", "yes");
            await p2.close();
          })();
        }
      };
      const r = await runXs(join(ROOT, "test", "xs", "kv.mjs"), ["nats-xs", "nats-xs/jetstream", "nats-xs/kv"], [`server=${server.url}`, `updates=${UPDATES}`, "timeout=55000"], onLine, 58_000);
      await work;
      await peer.close();
      expect(r.code, explain(r)).toBe(0);
      expect(r.lines).toContain("ready");
      expect(r.lines).toContain("put rev=1 get=on");
      expect(r.lines).toContain("cas conflict=10071");
      expect(deviceState).toBe("off");
      expect(r.lines).toContain("peer.cfg=blue");
      expect(r.lines).toContain(`watched ${UPDATES} bad=0 dropped=0`);
      expect(r.lines).toContain("after restart=yes resets=true");
      expect(r.lines[r.lines.length - 1]).toBe("done");
      const stages = Object.fromEntries(
        r.lines.filter((l) => l.startsWith("memory ")).map((l) => JSON.parse(l.slice(7))).map((s) => [s.stage, s]),
      );
      console.log(`XS KV heap: ${JSON.stringify(stages)}`);
      for (const s of Object.values(stages) as { slotsPeak: number; chunkBytes: number }[]) {
        expect(s.slotsPeak).toBeLessThanOrEqual(4928);
        expect(s.chunkBytes).toBeLessThanOrEqual(78848);
      }
      // the watch does not grow: the live heap after 1,000 updates is within a few slots of the heap
      // after 250 (an entry per update is garbage once the callback returns)
      expect(stages.watched.slots - stages["watch-quarter"].slots).toBeLessThan(64);
      expect(stages.watched.chunkBytes - stages["watch-quarter"].chunkBytes).toBeLessThan(1024);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
