// The bridge receiver fuzz (tools/fuzz/bridge.fuzz.mjs) at CI size: 1,000 malformed envelopes from
// a fixed seed into the receiver on Node (dist/ through the host simulator) and on the XS engine
// under the ESP32 budget: no crash, no hang, one typed result per envelope, the live heap bounded,
// and both engines counting the same results. `npm run fuzz:bridge` runs 10,000.
import { beforeAll, expect, test } from "vitest";
import { CI_COUNT, DEFAULT_SEED, fuzzBridge } from "../tools/fuzz/bridge.fuzz.mjs";
import { prepareXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

test(`${CI_COUNT} malformed envelopes on Node and on XS (seed ${DEFAULT_SEED}): no crash, no hang, heap bounded`, async () => {
  const lines: string[] = [];
  const r = await fuzzBridge({ count: CI_COUNT, seed: DEFAULT_SEED, log: (l: string) => lines.push(l) });
  console.log(lines.join("\n"));
  expect(r.failures).toEqual([]);
  expect(r.ok).toBe(true);
  for (const x of [r.node, r.xs]) {
    expect(x.envelopes).toBe(CI_COUNT);
    expect(x.crashes + x.hangs + x.extra).toBe(0);
    // every malformation reached the receiver (not all refused at the first byte)
    expect(Object.keys(x.byKind).length).toBe(7);
    expect(x.byError.EnvelopeLimitError).toBeGreaterThan(0);
  }
}, 180_000);
