// Nothing accepted is lost across power losses (issue 15, point 5), CI-sized: a host-sim device
// publishing through nats-xs/outbox-file is killed with SIGKILL at random points over 10 boots while
// the nats-server is stopped and killed and restarted around it; every reading it reported accepted
// is in the stream exactly once, with no gaps. `npm run reboot` runs 100 cycles.
import { describe, expect, test } from "vitest";
import { runCycles } from "../tools/outbox-reboot.mjs";

describe("the file-backed outbox across power losses", () => {
  test("10 boots killed at random points, server outages: every accepted reading stored once", async () => {
    const lines: string[] = [];
    let result;
    try {
      result = await runCycles({ cycles: 10, killServer: true, log: (l: string) => lines.push(l) });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${lines.join("\n")}`);
    }
    console.log(`outbox reboot cycles: ${JSON.stringify(result)}`);
    expect(result.reported).toBeGreaterThan(0);
    expect(result.stored).toBeGreaterThanOrEqual(result.reported);
    expect(result.corrupt).toBe(0);
  }, 180_000);
});
