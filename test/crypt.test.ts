// The "crypt" device module (Moddable's Digest, SHA256): the host-sim implementation over
// node:crypto and the XS host's own SHA-256 (tools/xs/host/crypt.c) against the FIPS 180-4 / NIST
// vectors, views, close(more), reset and an unsupported type.
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { Digest } from "../host-sim/crypt.js";
import { VECTORS } from "./shared/sha256-vectors.mjs";
import { ROOT, explain, prepareXs, runXs } from "./xs-harness.ts";

const hex = (b: ArrayBuffer) => Buffer.from(b).toString("hex");

describe("crypt in host-sim", () => {
  test.each(VECTORS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const d = new Digest("SHA256");
    for (let r = 0; r < v.repeat; r++) for (const p of v.parts) d.write(p);
    const out = d.close();
    expect(out).toBeInstanceOf(ArrayBuffer);
    expect(hex(out)).toBe(v.hex);
  });

  test("views, close(more), reset, sizes, an unsupported type", () => {
    const abc = new Uint8Array([0, 97, 98, 99, 0]);
    const d = new Digest("SHA256");
    d.write(abc.subarray(1, 2));
    d.write(new DataView(abc.buffer, 2, 1));
    d.write(abc.slice(3, 4).buffer);
    expect(hex(d.close())).toBe(VECTORS[1].hex);
    expect(() => d.write("x")).toThrow(/after close/);
    d.reset();
    d.write("ab");
    d.close(true);
    d.write("c");
    expect(hex(d.close())).toBe(VECTORS[1].hex);
    expect([d.blockSize, d.outputSize]).toEqual([64, 32]);
    expect(() => new Digest("MD4")).toThrow(/unsupported digest/);
  });
});

describe("crypt on the XS engine", () => {
  beforeAll(prepareXs, 300_000);
  test("the same vectors and behaviours (test/xs/crypt.mjs)", async () => {
    const r = await runXs(join(ROOT, "test", "xs", "crypt.mjs"), [], []);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines.filter((l) => l.startsWith("ok ")).length).toBe(VECTORS.length + 5);
    expect(r.lines[r.lines.length - 1]).toBe("done");
  }, 60_000);
});
