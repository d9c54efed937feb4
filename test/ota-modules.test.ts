// The `ota` and `ota/boot` device modules, host-sim's (host-sim/ota.js, host-sim/ota-boot.js) and
// the XS host's (tools/xs/host/ota.c), run through the same module (test/ota/semantics.mjs): the
// same outcomes as Moddable's tests of its ESP32 module, the same otadata bytes on disk, and the
// same rollback state.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, prepareXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const MODULE = join(ROOT, "test", "ota", "semantics.mjs");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Host = "host-sim" | "xs";

function run(host: Host, dir: string, phase: number, running?: string): { status: number | null; result: Record<string, unknown>; stderr: string } {
  const env = { ...process.env, NATS_XS_DEVICE_DIR: dir, NATS_XS_OTA_SLOT_BYTES: "4096" } as Record<string, string>;
  delete env.NATS_XS_OTA_RUNNING;
  if (running !== undefined) env.NATS_XS_OTA_RUNNING = running;
  const args = host === "xs" ? [join(ROOT, "tools", "xs", "run.mjs"), MODULE, `phase=${phase}`] : ["--import", join(ROOT, "host-sim", "register.js"), MODULE, `phase=${phase}`];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: "utf8", timeout: 30_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("result "));
  if (line === undefined) throw new Error(`${host} phase ${phase}: no result (status ${r.status})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { status: r.status, result: JSON.parse(line.slice(7)), stderr: r.stderr };
}

const PHASE1 = {
  where: ["factory", "undefined", { label: "ota_0", bytes: 4096 }, null],
  begin: "ok",
  "second begin": "Error",
  "write ArrayBuffer": "ok",
  "write Uint8Array": "ok",
  "write DataView": "ok",
  "write nothing": "SyntaxError",
  "write number": "TypeError",
  "write string": "TypeError",
  "write object": "TypeError",
  "write Uint32Array": "TypeError",
  "write past the partition": "Error",
  "write up to the partition": "ok",
  cancel: "ok",
  "write after cancel": "Error",
  "complete after cancel": "Error",
  "cancel again": "ok",
  "complete empty": "Error",
  "begin again": "ok",
  "write image": "ok",
  complete: "ok",
  "write after complete": "Error",
  "still factory": ["factory", "undefined"],
  "mark valid on factory": "ok",
  "rollback on factory": "Error",
};

describe.each(["host-sim", "xs"] as Host[])("the ota and ota/boot modules on %s", (host) => {
  it("behave as Moddable's ESP32 module and ESP-IDF's otadata: bounds, cancel, complete, rollback", () => {
    const dir = mkdtempSync(join(tmpdir(), `nats-xs-ota-${host}-`));
    dirs.push(dir);
    const one = run(host, dir, 1);
    expect(one.status, one.stderr).toBe(0);
    expect(one.result).toEqual(PHASE1);
    // the slot holds the 100-byte image; otadata's first entry selects ota_0 (seq 1), state NEW
    expect(statSync(join(dir, "ota", "ota_0.mjs")).size).toBe(100);
    const otadata = readFileSync(join(dir, "ota", "otadata"));
    expect(otadata.length).toBe(64);
    expect(otadata.readUInt32LE(0)).toBe(1);
    expect(otadata.readUInt32LE(24)).toBe(0);
    expect(otadata.readUInt32LE(28)).toBe(crc32(otadata.subarray(0, 4)) >>> 0);
    expect(otadata.subarray(32).every((b) => b === 0xff)).toBe(true);

    const two = run(host, dir, 2, "ota_0");
    expect(two.status, two.stderr).toBe(100);
    expect(two.result).toEqual({ where: ["ota_0", "new", { label: "ota_1", bytes: 4096 }], "begin while not valid": "ok" });
    expect(readFileSync(join(dir, "ota", "otadata")).readUInt32LE(24)).toBe(3);

    const three = run(host, dir, 3);
    expect(three.status, three.stderr).toBe(0);
    expect(three.result).toEqual({ "after rollback": ["factory", "ota_0"] });
  }, 60_000);
});
