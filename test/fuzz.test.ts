// The fuzz suites (tools/fuzz/*.fuzz.mjs) at CI size, each in a process of its own as
// `npm run fuzz` runs them at full size: a suite passes when it exits 0, having printed its counts
// and seed. The seed is fixed, so a failure here replays with `node tools/fuzz/run.mjs --ci <name>`.
import { describe, expect, test } from "vitest";
// @ts-expect-error plain ES module
import { runSuite, suites } from "../tools/fuzz/run.mjs";
import { prepareXs } from "./xs-harness.ts";

describe("fuzz at CI size", () => {
  for (const file of suites() as string[]) {
    test(`${file} passes (counts and seed printed)`, async () => {
      await prepareXs(); // the suites run the XS engine too: built once, before the clock starts
      const r = await runSuite(file, [], { timeoutMs: 150_000 });
      const summary = r.output.split("\n").filter((l: string) => l !== "").slice(-12).join("\n");
      expect(r.timedOut, `hang: ${file} ran past its time limit\n${summary}`).toBe(false);
      expect(r.code, summary).toBe(0);
      expect(r.output).toMatch(/seed \d+/);
      expect(r.output).not.toMatch(/^FAIL /m);
    }, 180_000);
  }
});
