// msg.data kept after the callback stays intact, a zeroCopy view read too late throws, and
// `debug: true` traces through trace(): the built library on the XS engine under the ESP32 budget
// with nats-xs preloaded, against a real nats-server (issue 13, points 2 and 8).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

describe("kept payloads and the trace on XS", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ jetstream: false });
  });
  afterAll(() => server.stop());

  it("keeps 100 payloads intact after later messages, refuses a late zeroCopy read, and traces the protocol", async () => {
    const prefix = `xskeep.${process.pid}`;
    const r = await runXs(join(ROOT, "test", "xs", "keep.mjs"), ["nats-xs"], [`server=${server.url}`, `prefix=${prefix}`]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("kept 100 intact");
    expect(r.lines).toContain("late read refused");
    expect(r.lines.some((l) => /^nats-xs < INFO \{/.test(l))).toBe(true);
    expect(r.lines.some((l) => /^nats-xs > CONNECT \{.*"lang":"nats-xs"/.test(l))).toBe(true);
    expect(r.lines).toContain(`nats-xs > SUB ${prefix}.keep 1`);
    expect(r.lines).toContain(`nats-xs < MSG ${prefix}.keep 1 10`);
    expect(r.lines.some((l) => l.startsWith("nats-xs - status close"))).toBe(true);
    const memory = JSON.parse((r.lines.find((l) => l.startsWith("memory ")) as string).slice(7));
    expect(memory.slotsPeak).toBeLessThanOrEqual(4928);
  });
});
