// Over-the-air update on the real XS engine under the ESP32 budget: the factory image (with
// nats-xs, nats-xs/jetstream and nats-xs/obj preloaded) streams a 200 KB image that @nats-io/obj
// put into a bucket into the simulated partition (tools/xs/host/ota.c), reboots, and the XS runner
// (tools/xs/run.mjs --device-dir) boots the new image, which finds itself pending verification and
// marks itself valid; an image that fails before marking itself valid is rolled back.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, prepareXs } from "./xs-harness.ts";
import { bundle } from "./ota/images.ts";

beforeAll(prepareXs, 300_000);

const SIZE = 200 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDevice(dir: string, factory: string, words: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const preload = ["nats-xs", "nats-xs/jetstream", "nats-xs/obj"].flatMap((p) => ["--preload", p]);
    const child = spawn(process.execPath, [join(ROOT, "tools", "xs", "run.mjs"), "--device-dir", dir, factory, ...preload, ...words], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGTERM"), 100_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function line<T>(r: Run, prefix: string): T {
  const found = r.stdout.split("\n").find((l) => l.startsWith(`${prefix} `));
  if (found === undefined) throw new Error(`no "${prefix}" line\n${explain(r)}`);
  return JSON.parse(found.slice(prefix.length + 1)) as T;
}

/**
 * Puts `image` into a bucket of a fresh server with @nats-io/obj, then runs the factory image
 * (test/ota/xs-device.mjs) on XS with a fresh device folder until the device ends; returns the run,
 * the object's info and what slot ota_0 holds at the end.
 */
async function updateOnXs(image: Uint8Array, chunk = 32 * 1024): Promise<{ r: Run; digest: string; slot: Buffer | null }> {
  const server = await startServer({ jetstream: true });
  const dir = mkdtempSync(join(tmpdir(), "nats-xs-xs-ota-"));
  try {
    const factory = join(dir, "factory.mjs");
    writeFileSync(factory, await bundle("xs-device.mjs"));
    const peer = await connect({ servers: server.url });
    const os = await new Objm(peer).create("XSOTA");
    const info = await os.putBlob({ name: "image", options: { max_chunk_size: chunk } }, image);
    await peer.close();
    const r = await runDevice(join(dir, "device"), factory, [`server=${server.url}`, "bucket=XSOTA", "image=image"]);
    const file = join(dir, "device", "ota", "ota_0.mjs");
    return { r, digest: info.digest, slot: existsSync(file) ? readFileSync(file) : null };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function explain(r: Run): string {
  return `stdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}

describe("over-the-air update on XS under the ESP32 budget", () => {
  it("streams a 200 KB image into the partition, and the next boot runs it and marks it valid", async () => {
    const head = new TextEncoder().encode(
      'import { running, state, markValid } from "ota/boot";\n' +
        'trace(`image ${running()} ${state()}\\n`);\nmarkValid();\ntrace(`image marked ${state()}\\n`);\n/*',
    );
    const image = new Uint8Array(SIZE);
    image.set(head);
    for (let i = head.length; i < SIZE - 3; i++) image[i] = 0x61 + (i % 26);
    image.set(new TextEncoder().encode("*/\n"), SIZE - 3);
    const { r, digest, slot } = await updateOnXs(image);
    expect(r.code, explain(r)).toBe(0);
    expect(line(r, "factory")).toEqual({ partition: "factory", state: "undefined", pendingVerify: false, lastInvalid: "" });
    const u = line<{ result: { partition: string; size: number; digest: string }; progress: number; bytes: number; before: { slots: number; chunkBytes: number }; during: { slots: number; chunkBytes: number }; slotsPeak: number; chunkBytesPeak: number }>(r, "update");
    console.log(`XS OTA 200 KB: ${JSON.stringify(u)}`);
    expect(u.result).toMatchObject({ partition: "ota_0", size: SIZE, digest });
    expect(u.bytes).toBe(SIZE);
    expect(u.progress).toBeGreaterThan(2);
    // the partition holds the image, byte for byte
    expect(slot).not.toBeNull();
    expect(createHash("sha256").update(slot!).digest("hex")).toBe(createHash("sha256").update(image).digest("hex"));
    // the image never sat in RAM: the live heap rose by far less than its size
    expect(u.during.chunkBytes - u.before.chunkBytes).toBeLessThan(16 * 1024);
    expect(u.slotsPeak).toBeLessThanOrEqual(4928);
    expect(u.chunkBytesPeak).toBeLessThanOrEqual(78848);
    expect(r.stderr).toMatch(/xs: boot factory [^\n]*\nxs: reboot\nxs: boot ota_0 pending-verify /);
    expect(r.stdout).toContain("image ota_0 pending-verify\nimage marked valid\n");
  }, 150_000);

  it("an image that fails at boot before marking itself valid is rolled back to the factory image", async () => {
    const { r } = await updateOnXs(new TextEncoder().encode('import { state } from "ota/boot";\ntrace(`bad ${state()}\\n`);\nthrow new Error("bad image");\n'));
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toContain("bad pending-verify\n");
    expect(r.stderr).toMatch(/xs: boot ota_0 pending-verify [^\n]*\n[\s\S]*xs: ota_0 ended \(status 1\) before it was marked valid: reboot\nxs: rolled back ota_0: [^\n]*\nxs: boot factory /);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("factory "));
    expect(lines.map((l) => JSON.parse(l.slice(8)).lastInvalid)).toEqual(["", "ota_0"]);
  }, 150_000);
});
