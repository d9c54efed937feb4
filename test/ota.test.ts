// Over-the-air update in the host simulator, end to end: nats-xs-sim --device-dir runs a device
// (test/ota/device.mjs with firmware/apps/sensor/update.ts, bundled as an image), @nats-io/obj puts
// the new image into a bucket of a real nats-server, the device streams it into its simulated
// partition (host-sim/ota.js), reboots into it, and the new image marks itself good once connected;
// a corrupt, oversized or interrupted update leaves the running image, and an image that dies
// before marking itself good is rolled back by the runner.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { ObjectStore } from "@nats-io/obj";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { deviceImage } from "./ota/images.ts";
import { Collector, sleep, until, within } from "./helpers.ts";
import type { ServerHandle } from "./helpers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SIM = join(ROOT, "host-sim", "sim.js");
const BUCKET = "FIRMWARE";

interface Boot {
  version: string;
  boot: { partition: string; state: string; pendingVerify: boolean; lastInvalid: string };
  state: string;
}

/** One simulated device under nats-xs-sim, its boot reports collected from the bus. */
class Device {
  readonly dir = mkdtempSync(join(tmpdir(), "nats-xs-ota-"));
  readonly id: string;
  readonly boots: Boot[] = [];
  stderr = "";
  stdout = "";
  child: ChildProcess | null = null;
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly peer: NatsConnection, readonly server: ServerHandle, id: string) {
    this.id = id;
    peer.subscribe(`ota.${id}.boot`, { callback: (_e, m) => this.boots.push(m.json<Boot>()) });
  }

  async start(factory: Uint8Array, env: Record<string, string> = {}): Promise<void> {
    await this.peer.flush();
    const file = join(this.dir, "factory.mjs");
    writeFileSync(file, factory);
    const child = spawn(process.execPath, [SIM, "--device-dir", join(this.dir, "device"), file, `nats=${this.server.url}`, `id=${this.id}`, `bucket=${BUCKET}`], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (this.stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    this.child = child;
  }

  async boot(n: number, ms = 20_000): Promise<Boot> {
    await until(() => this.boots.length >= n, `boot report ${n} (stderr: ${this.stderr.slice(-2000)})`, ms);
    return this.boots[n - 1];
  }

  update(request: object, ms = 30_000): Promise<{ ok: boolean; error?: string; message?: string; bytes?: number; result?: { partition: string; size: number } }> {
    return this.peer.request(`ota.${this.id}.update`, JSON.stringify(request), { timeout: ms }).then(
      (m) => m.json(),
      (e: Error) => {
        throw new Error(`${e.message}: no answer to ${JSON.stringify(request)} (device stdout: ${this.stdout.slice(-1500)}\nstderr: ${this.stderr.slice(-1500)})`);
      },
    );
  }

  async status(): Promise<{ version: string; boot: Boot["boot"]; last: { ok: boolean; error?: string; bytes?: number } | null }> {
    return (await this.peer.request(`ota.${this.id}.status`, "", { timeout: 5000 })).json();
  }

  otaFiles(): string[] {
    const d = join(this.dir, "device", "ota");
    return existsSync(d) ? readdirSync(d).sort() : [];
  }

  async stop(): Promise<void> {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      await within(this.exited, "the runner to stop", 10_000);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let server: ServerHandle;
let peer: NatsConnection;
let store: ObjectStore;
let factory: Uint8Array;
const devices: Device[] = [];

beforeAll(async () => {
  server = await startServer({ jetstream: true });
  peer = await connect({ servers: server.url, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
  store = await new Objm(peer).create(BUCKET);
  factory = await deviceImage("1.0.0");
}, 60_000);

afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
});

afterAll(async () => {
  await peer?.close();
  await server?.stop();
});

/** The factory image still runs, never rebooted, and the partition holds nothing activated. */
async function expectFactoryStays(d: Device): Promise<void> {
  const s = await d.status();
  expect(s.version).toBe("1.0.0");
  expect(s.boot.partition).toBe("factory");
  expect(d.boots.length).toBe(1);
  expect(d.stderr).not.toMatch(/reboot/);
  expect(d.otaFiles()).toEqual([]);
}

function device(id: string): Device {
  const d = new Device(peer, server, id);
  devices.push(d);
  return d;
}

describe("over-the-air update in host-sim (nats-xs-sim --device-dir)", () => {
  it("an updated bundle takes over after the reboot, marks itself good once connected, and stays", async () => {
    const d = device("ota-take");
    await d.start(factory);
    const first = await d.boot(1);
    expect(first).toEqual({ version: "1.0.0", boot: { partition: "factory", state: "undefined", pendingVerify: false, lastInvalid: "" }, state: "undefined" });
    const image = await deviceImage("2.0.0", { padding: 300_000 });
    await store.putBlob({ name: "sensor-2.0.0", options: { max_chunk_size: 32 * 1024 } }, image);
    const progress = new Collector<[number, number]>(1, "progress reports");
    const sub = peer.subscribe(`ota.${d.id}.progress`, { callback: (_e, m) => progress.push(m.json()) });
    const reply = await d.update({ name: "sensor-2.0.0" });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    expect(reply.result).toMatchObject({ partition: "ota_0", size: image.length });
    const second = await d.boot(2);
    expect(second).toEqual({ version: "2.0.0", boot: { partition: "ota_0", state: "pending-verify", pendingVerify: true, lastInvalid: "" }, state: "valid" });
    sub.unsubscribe();
    const seen = progress.items;
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.length).toBeLessThanOrEqual(40);
    expect(seen[seen.length - 1]).toEqual([image.length, image.length]);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
    expect(d.stderr).toMatch(/boot factory .*\n[\s\S]*reboot\n[\s\S]*boot ota_0 pending-verify/);

    // power off and on: the valid image boots again, no rollback
    d.child!.kill("SIGKILL");
    await d.exited;
    await d.start(factory);
    const third = await d.boot(3);
    expect(third.version).toBe("2.0.0");
    expect(third.boot).toEqual({ partition: "ota_0", state: "valid", pendingVerify: false, lastInvalid: "" });
  }, 90_000);

  it("a corrupted image (digest mismatch, a meta size that is not its chunks', not the digest the command expects) is refused and the running image stays", async () => {
    const d = device("ota-corrupt");
    await d.start(factory);
    await d.boot(1);
    const image = await deviceImage("2.0.1");
    await store.putBlob({ name: "sensor-2.0.1" }, image);
    // a meta that says other bytes: the chunks are the image's, the digest is not theirs
    const metaSubject = (name: string) => `$O.${BUCKET}.M.${Buffer.from(name).toString("base64")}`.replace(/\+/g, "-").replace(/\//g, "_");
    const sm = await (await jetstreamManager(peer)).streams.getMessage(`OBJ_${BUCKET}`, { last_by_subj: metaSubject("sensor-2.0.1") });
    const other = createHash("sha256").update("not the image").digest("base64url");
    const meta = { ...sm!.json<Record<string, unknown>>(), name: "sensor-corrupt", digest: `SHA-256=${other}=` };
    const h = headers();
    h.set("Nats-Rollup", "sub");
    await jetstream(peer).publish(metaSubject("sensor-corrupt"), JSON.stringify(meta), { headers: h });
    const reply = await d.update({ name: "sensor-corrupt" });
    expect(reply, JSON.stringify(reply)).toMatchObject({ ok: false, error: "ImageDigestError", bytes: -1 });
    expect(reply.message).toMatch(/corrupt/);
    // a meta whose size is not its chunks': the bytes past it are refused, nothing is activated
    const short = { ...sm!.json<Record<string, unknown>>(), name: "sensor-short", size: image.length - 100 };
    await jetstream(peer).publish(metaSubject("sensor-short"), JSON.stringify(short), { headers: h });
    const cut = await d.update({ name: "sensor-short" });
    expect(cut, JSON.stringify(cut)).toMatchObject({ ok: false, error: "UpdateInterruptedError" });
    expect(cut.message).toContain("more bytes than its meta says");
    // the digest the command expects is not the object's: refused before a byte moves
    const expected = await d.update({ name: "sensor-2.0.1", digest: `SHA-256=${other}=` });
    expect(expected, JSON.stringify(expected)).toMatchObject({ ok: false, error: "ImageDigestError", bytes: -1 });
    expect(expected.message).toContain("not the expected");
    // nothing activated: the partition holds no image and otadata was never written
    await expectFactoryStays(d);
  }, 60_000);

  it("an update interrupted by the server's death leaves the running image; once the server is back it can be done again", async () => {
    const d = device("ota-cut");
    await d.start(factory);
    await d.boot(1);
    // near the partition's size, so that most of it is still to come when the first progress arrives
    const image = await deviceImage("2.1.0", { padding: 1_900_000 });
    await store.putBlob({ name: "sensor-big", options: { max_chunk_size: 64 * 1024 } }, image);
    let killed: Promise<void> | null = null;
    const sub = peer.subscribe(`ota.${d.id}.progress`, {
      callback: () => {
        if (killed === null) killed = server.kill();
      },
    });
    await peer.flush();
    peer.publish(`ota.${d.id}.update`, JSON.stringify({ name: "sensor-big", heartbeat: 500 }));
    await until(() => killed !== null, "the first progress report", 20_000);
    await killed;
    sub.unsubscribe();
    await until(() => d.stdout.includes("update failed"), `the device to give up (stdout: ${d.stdout.slice(-1000)})`, 20_000);
    expect(d.stdout).toMatch(/device 1\.0\.0 update failed: UpdateInterruptedError: the update stopped after \d+ of \d+ bytes/);
    await server.restart();
    const s = await within(
      (async () => {
        for (;;) {
          try {
            return await d.status();
          } catch {
            // the device (or the peer) is still reconnecting
            await sleep(100);
          }
        }
      })(),
      "the device's status after the restart",
      20_000,
    );
    expect(s.last).toMatchObject({ ok: false, error: "UpdateInterruptedError" });
    console.log(`interrupted after ${s.last!.bytes} of ${image.length} bytes`);
    expect(s.last!.bytes).toBeGreaterThan(0);
    expect(s.last!.bytes).toBeLessThan(image.length);
    await expectFactoryStays(d);
    // the object survived in the stream: the same update now goes through
    const reply = await d.update({ name: "sensor-big" });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const second = await d.boot(2);
    expect(second.version).toBe("2.1.0");
    expect(second.state).toBe("valid");
  }, 120_000);

  it("an oversized image is refused before a byte is written and the running image stays", async () => {
    const d = device("ota-large");
    await d.start(factory, { NATS_XS_OTA_SLOT_BYTES: String(64 * 1024) });
    await d.boot(1);
    const image = await deviceImage("2.0.2", { padding: 100_000 });
    await store.putBlob({ name: "sensor-large" }, image);
    const reply = await d.update({ name: "sensor-large" });
    expect(reply).toMatchObject({ ok: false, error: "ImageTooLargeError" });
    expect(reply.message).toContain(`${image.length} bytes, more than the 65536-byte update partition`);
    await expectFactoryStays(d);
  }, 60_000);

  it("a new image that crashes at boot, never marking itself good, is rolled back to the previous one", async () => {
    const d = device("ota-crash");
    await d.start(factory);
    await d.boot(1);
    await store.putBlob({ name: "sensor-crash" }, await deviceImage("3.0.0", { crash: true }));
    const reply = await d.update({ name: "sensor-crash" });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const back = await d.boot(2);
    expect(back.version).toBe("1.0.0");
    expect(back.boot).toEqual({ partition: "factory", state: "undefined", pendingVerify: false, lastInvalid: "ota_0" });
    expect(d.stdout).toContain('device 3.0.0 boot {"partition":"ota_0","state":"pending-verify"');
    expect(d.stderr).toMatch(/ota_0 ended \(status 1\) before it was marked valid: reboot\n[\s\S]*rolled back ota_0: it rebooted or died before marking itself valid\n[\s\S]*boot factory/);
  }, 60_000);
});
