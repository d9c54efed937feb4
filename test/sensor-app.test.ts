// The fielded sensor app (dist/apps/sensor.js) in the host simulator against a real nats-server,
// with the official nats.js packages as the backend: settings from KV at boot, a change applied
// live, bad values refused with the reason and the last good settings kept, the presence key
// visible and expiring once the device is killed, the commands, and readings in the stream exactly
// once across a server outage.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Svcm } from "@nats-io/services";
import { Objm } from "@nats-io/obj";
import { sensorImage } from "../tools/sensor-image.mjs";
import type { KV } from "@nats-io/kv";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, eachLine } from "./xs-harness.ts";
import { sleep, until, type ServerHandle } from "./helpers.ts";

interface Status {
  version: string;
  boot: string;
  uptime: number;
  settings: { interval: number; high: number | null; low: number | null; logLevel: string };
  config: { source: string; revision: number; running: number; applied: boolean; reason: string | null };
  readings: { taken: number; accepted: number; acked: number; refused: number };
  outbox: { waiting: number; bytes: number; maxBytes: number };
  update: { state: string; bytes: number; size: number; error: string | null } | null;
  image: { partition: string; state: string; lastInvalid: string } | null;
  lastError: string | null;
}

/** A simulated device: the app in host-sim, its stdout lines kept. */
class Device {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(url: string, id: string, env: Record<string, string>, ...words: string[]) {
    // with a device folder, the device runner (reboots, OTA images, rollback); a process group,
    // so that kill() takes the runner and the device process it runs
    const boot = env.NATS_XS_DEVICE_DIR === undefined ? ["--import", join(ROOT, "host-sim", "register.js")] : [join(ROOT, "host-sim", "sim.js"), "--device-dir", env.NATS_XS_DEVICE_DIR];
    this.child = spawn(process.execPath, [...boot, join(ROOT, "dist", "apps", "sensor.js"), `nats=${url}`, `id=${id}`, ...words], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    eachLine(this.child.stdout!, (line) => this.lines.push(line));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => this.lines.push(`stderr: ${chunk}`));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(-this.child.pid!, "SIGKILL");
    await this.exited;
  }
  tail(): string {
    return this.lines.slice(-12).join("\n");
  }
}

let server: ServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let config: KV;
let status: KV;
let alive: KV;
const devices: Device[] = [];

function device(id: string, ...words: string[]): Device {
  return deviceIn({}, id, ...words);
}

function deviceIn(env: Record<string, string>, id: string, ...words: string[]): Device {
  const d = new Device(server.url, id, env, "alive_ttl=3000", ...words);
  devices.push(d);
  return d;
}

async function statusOf(id: string): Promise<Status | null> {
  const e = await status.get(id);
  return e === null || e.length === 0 ? null : (e.json() as Status);
}

async function untilStatus(id: string, test: (s: Status) => boolean, what: string, d: Device, ms = 15_000): Promise<Status> {
  const deadline = Date.now() + ms;
  for (;;) {
    // the backend's own connection may still be on its way back after a server restart
    const s = await statusOf(id).catch(() => null);
    if (s !== null && test(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status ${JSON.stringify(s)}\n${d.tail()}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  server = await startServer({ jetstream: true });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "SENSORS", subjects: ["sensors.*.reading"] });
  const kvm = new Kvm(nc);
  config = await kvm.create("devices-config", { history: 5 });
  status = await kvm.create("devices-status");
  alive = await kvm.create("devices-alive", { ttl: 3000 });
}, 30_000);

afterAll(async () => {
  for (const d of devices) await d.kill();
  await nc?.close();
  await server?.stop();
});

describe("the sensor app on host-sim", () => {
  it("boots with its settings from KV and reports them in its status key", async () => {
    await config.put("boot-kv", JSON.stringify({ interval: 100, high: 25, logLevel: "warn" }));
    const d = device("boot-kv", "interval=1000");
    const s = await untilStatus("boot-kv", (s) => s.config.source === "kv", "settings from KV", d);
    expect(s.settings).toEqual({ interval: 100, high: 25, low: null, logLevel: "warn" });
    expect(s.config).toMatchObject({ revision: s.config.running, applied: true, reason: null });
    expect(s.version).toBe("1.0.0");
    await d.kill();
  }, 30_000);

  it("falls back to mc/config when the bucket holds nothing for it", async () => {
    const d = device("boot-mc", "interval=250", "high=30");
    const s = await untilStatus("boot-mc", () => true, "a status", d);
    expect(s.config).toMatchObject({ source: "mc/config", running: 0 });
    expect(s.settings).toEqual({ interval: 250, high: 30, low: null, logLevel: "info" });
    await d.kill();
  }, 30_000);

  it("applies a change live: the interval, thresholds and log level in use change, and it says so", async () => {
    const d = device("live", "interval=1000");
    await untilStatus("live", () => true, "a status", d);
    const rev = await config.put("live", JSON.stringify({ interval: 50, low: 10, logLevel: "debug" }));
    const s = await untilStatus("live", (s) => s.config.running === rev, "the change applied", d);
    expect(s.settings).toEqual({ interval: 50, high: null, low: 10, logLevel: "debug" });
    // the debug log level prints every reading; the 50 ms interval makes them come fast
    await until(() => d.lines.filter((l) => l.includes('"seq":')).length >= 10, "readings at the new interval", 15_000);
    await d.kill();
  }, 30_000);

  it("refuses bad values with the reason and keeps the last good settings", async () => {
    const d = device("bad");
    const good = await config.put("bad", JSON.stringify({ interval: 500, high: 30 }));
    await untilStatus("bad", (s) => s.config.running === good, "the good settings", d);
    const cases: [string, RegExp][] = [
      [JSON.stringify({ interval: "fast" }), /interval must be a whole number/],
      [JSON.stringify({ interval: 5 }), /interval must be a whole number of milliseconds from 10/],
      [JSON.stringify({ high: 500 }), /high must be a number from -45 to 130/],
      [JSON.stringify({ high: 20, low: 40 }), /low must be below high/],
      [JSON.stringify({ logLevel: "chatty" }), /logLevel must be one of error, warn, info, debug/],
      [JSON.stringify({ colour: "red" }), /unknown setting "colour"/],
      [JSON.stringify({ interval: 100, pad: "x".repeat(600) }), /exceeds the bytes limit of 512/],
      [JSON.stringify({ interval: { deep: [[[1]]] } }), /exceeds the depth limit of 1/],
      ["[" .repeat(400), /exceeds the depth limit of 1/],
      [JSON.stringify([1, 2]), /must be a JSON object/],
      ["{interval: 100}", /not JSON text/],
    ];
    for (const [value, reason] of cases) {
      const rev = await config.put("bad", value);
      const s = await untilStatus("bad", (s) => s.config.revision === rev, `revision ${rev} answered`, d);
      expect(s.config.applied, value).toBe(false);
      expect(s.config.reason, value).toMatch(reason);
      expect(s.config.running).toBe(good);
      expect(s.settings).toEqual({ interval: 500, high: 30, low: null, logLevel: "info" });
      expect(s.lastError).toContain(`settings revision ${rev} refused`);
    }
    // the device still works: a good value after the bad ones is applied
    const again = await config.put("bad", JSON.stringify({ interval: 400 }));
    const s = await untilStatus("bad", (s) => s.config.running === again, "a good value after bad ones", d);
    expect(s.settings.interval).toBe(400);
    await d.kill();
  }, 60_000);

  it("comes back after a reboot on the last good settings when the bucket's value was refused", async () => {
    const good = await config.put("reboot-bad", JSON.stringify({ interval: 700, logLevel: "warn" }));
    const first = device("reboot-bad");
    await untilStatus("reboot-bad", (s) => s.config.running === good, "the good settings", first);
    const bad = await config.put("reboot-bad", JSON.stringify({ interval: 1 }));
    const firstBoot = (await untilStatus("reboot-bad", (s) => s.config.revision === bad, "the bad value answered", first)).boot;
    await first.kill();
    const second = device("reboot-bad");
    const s = await untilStatus("reboot-bad", (s) => s.boot !== firstBoot && s.config.revision === bad && s.config.running === good, "the second boot on the last good settings", second);
    expect(s.settings).toEqual({ interval: 700, high: null, low: null, logLevel: "warn" });
    expect(s.config.running).toBe(good);
    expect(s.config.applied).toBe(false);
    expect(s.config.reason).toMatch(/interval must be/);
    await second.kill();
  }, 30_000);

  it("shows its presence in a key that expires once the device is killed", async () => {
    const w: string[] = [];
    const watch = await alive.watch({ key: "presence" });
    (async () => {
      for await (const e of watch) if (e.operation === "PUT") w.push(e.string());
    })();
    const d = device("presence");
    // seen without polling: the watch hands over the device's first presence entry
    await until(() => w.length > 0, "a presence entry through the watch", 15_000);
    expect(JSON.parse(w[0])).toMatchObject({ version: "1.0.0" });
    // refreshed well inside the ttl (3 s): more entries come while it runs
    await until(() => w.length >= 3, "presence refreshed", 15_000);
    expect((await alive.get("presence"))?.length).toBeGreaterThan(0);
    await d.kill();
    // gone after the bucket's ttl (max_age) with no refresh
    const deadline = Date.now() + 15_000;
    while ((await alive.get("presence")) !== null) {
      if (Date.now() > deadline) throw new Error("the presence key outlived the device by 15 s");
      await sleep(200);
    }
    watch.stop();
  }, 40_000);

  it("is found by @nats-io/services and answers its commands: ping, config read and changed, a bad config refused", async () => {
    const d = device("cmd", "interval=300");
    // the image state is in the status once the boot is done (commands served)
    await untilStatus("cmd", (s) => s.image !== null, "the boot done", d);
    const client = new Svcm(nc).client();
    const infos = [];
    for await (const i of await client.info("sensor")) infos.push(i);
    const mine = infos.find((i) => i.metadata?.device === "cmd");
    expect(mine, JSON.stringify(infos)).toBeDefined();
    expect(mine!.version).toBe("1.0.0");
    expect(mine!.endpoints.map((e) => e.subject).sort()).toEqual(["sensors.cmd.cmd.config", "sensors.cmd.cmd.ping", "sensors.cmd.cmd.reboot", "sensors.cmd.cmd.update"]);
    const ping = (await nc.request("sensors.cmd.cmd.ping", "", { timeout: 5000 })).json<Status>();
    expect(ping).toMatchObject({ version: "1.0.0", settings: { interval: 300 }, outbox: { maxBytes: 8192 } });
    expect(ping.uptime).toBeGreaterThan(0);
    const read = (await nc.request("sensors.cmd.cmd.config", "", { timeout: 5000 })).json<{ settings: Status["settings"] }>();
    expect(read.settings.interval).toBe(300);
    const set = (await nc.request("sensors.cmd.cmd.config", JSON.stringify({ interval: 120 }), { timeout: 5000 })).json<{ revision: number }>();
    expect(set.revision).toBeGreaterThan(0);
    // written to the bucket, then applied from there like any change
    expect((await config.get("cmd"))?.json()).toEqual({ interval: 120 });
    await untilStatus("cmd", (s) => s.config.running === set.revision && s.settings.interval === 120, "the command's change applied", d);
    const bad = await nc.request("sensors.cmd.cmd.config", JSON.stringify({ interval: -1 }), { timeout: 5000 });
    expect(bad.headers?.get("Nats-Service-Error-Code")).toBe("400");
    expect(bad.headers?.get("Nats-Service-Error")).toMatch(/interval must be a whole number/);
    expect((await config.get("cmd"))?.json()).toEqual({ interval: 120 });
    const stats = [];
    for await (const st of await client.stats("sensor", mine!.id)) stats.push(st);
    const cfgStats = stats[0].endpoints.find((e) => e.name === "config")!;
    expect(cfgStats.num_requests).toBe(3);
    expect(cfgStats.num_errors).toBe(1);
    await d.kill();
  }, 30_000);

  it("puts every accepted reading in the stream exactly once across a server outage", async () => {
    const N = 150;
    const d = device("outage", "interval=20", `count=${N}`, "outbox_bytes=65536");
    await until(() => d.lines.some((l) => l.includes("reading every")), "readings started", 15_000);
    await sleep(800);
    await server.kill();
    await sleep(1500);
    await server.restart();
    await until(() => d.lines.some((l) => l.includes(`${N} readings taken`)), `${N} readings taken`, 30_000);
    const s = await untilStatus("outage", (s) => s.readings.taken === N && s.outbox.waiting === 0, "the outbox drained", d, 30_000);
    const info = await jsm.streams.info("SENSORS", { subjects_filter: "sensors.outage.reading" });
    const stored = info.state.subjects?.["sensors.outage.reading"] ?? 0;
    // read them back: each (boot, seq) once
    const seen = new Set<string>();
    const js = (await import("@nats-io/jetstream")).jetstream(nc);
    const c = await js.consumers.get("SENSORS", { filter_subjects: "sensors.outage.reading" });
    const batch = await c.fetch({ max_messages: stored, expires: 5000 });
    for await (const m of batch) {
      const r = m.json<{ boot: string; seq: number }>();
      const key = `${r.boot}/${r.seq}`;
      expect(seen.has(key), `reading ${key} stored twice`).toBe(false);
      seen.add(key);
      if (seen.size === stored) break;
    }
    expect(seen.size).toBe(stored);
    // the outage happened while it read: it lost the server and came back
    expect(d.lines.some((l) => / disconnect/.test(l)), d.tail()).toBe(true);
    expect(d.lines.some((l) => / reconnect$/.test(l)), d.tail()).toBe(true);
    expect(stored).toBe(s.readings.accepted);
    expect(s.readings.accepted + s.readings.refused).toBe(N);
    await d.kill();
  }, 90_000);

  it("sends the readings it accepted before it was killed once, after its reboot (outbox in its device folder)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nats-xs-sensor-"));
    try {
      const env = { NATS_XS_DEVICE_DIR: dir };
      const words = ["interval=50", "log=debug", "outbox_bytes=65536"];
      const first = deviceIn(env, "reboot", ...words);
      const printed = () => first.lines.filter((l) => l.includes('"seq":')).map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { boot: string; seq: number });
      await until(() => printed().length >= 5, "readings", 15_000);
      await server.kill();
      const before = printed().length;
      // accepted while the server is away: they wait in the journal
      await until(() => printed().length >= before + 20, "readings taken offline", 15_000);
      await first.kill();
      const accepted = printed();
      const boot = accepted[0].boot;
      await server.restart();
      const second = deviceIn(env, "reboot", "interval=1000");
      const s = await untilStatus("reboot", (s) => s.boot !== boot && s.outbox.waiting === 0, "the second boot drained its outbox", second, 30_000);
      expect(s.outbox.restored).toBeGreaterThan(0);
      const js = (await import("@nats-io/jetstream")).jetstream(nc);
      const c = await js.consumers.get("SENSORS", { filter_subjects: "sensors.reboot.reading" });
      const info = await jsm.streams.info("SENSORS", { subjects_filter: "sensors.reboot.reading" });
      const stored = info.state.subjects?.["sensors.reboot.reading"] ?? 0;
      const seen = new Map<number, number>();
      for await (const m of await c.fetch({ max_messages: stored, expires: 5000 })) {
        const r = m.json<{ boot: string; seq: number }>();
        if (r.boot === boot) seen.set(r.seq, (seen.get(r.seq) ?? 0) + 1);
        if (m.info.pending === 0) break;
      }
      for (const r of accepted) expect(seen.get(r.seq), `reading ${r.seq} of the first boot`).toBe(1);
      await second.kill();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it("updates over the air from the Object Store: a wrong image is refused and the device keeps running, the new one boots and marks itself good", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nats-xs-sensor-"));
    try {
      const images = await new Objm(nc).create("firmware");
      await images.putBlob({ name: "sensor-1.1.0" }, sensorImage("1.1.0"));
      const d = deviceIn({ NATS_XS_DEVICE_DIR: dir }, "ota", "interval=500");
      await untilStatus("ota", (s) => s.image?.state !== undefined, "the first boot", d);
      // a digest that does not match the object: refused before a byte is written
      const wrong = (await nc.request("sensors.ota.cmd.update", JSON.stringify({ bucket: "firmware", name: "sensor-1.1.0", digest: "SHA-256=" + "A".repeat(43) + "=" }), { timeout: 5000 })).json<{ accepted: boolean }>();
      expect(wrong.accepted).toBe(true);
      const failed = await untilStatus("ota", (s) => s.update?.state === "failed", "the wrong digest refused", d);
      expect(failed.update!.error).toMatch(/digest/i);
      expect(failed.version).toBe("1.0.0");
      // no such image
      await nc.request("sensors.ota.cmd.update", JSON.stringify({ bucket: "firmware", name: "sensor-9" }), { timeout: 5000 });
      await untilStatus("ota", (s) => s.update?.state === "failed" && /sensor-9/.test(s.update.error ?? ""), "a missing image refused", d);
      const bad = await nc.request("sensors.ota.cmd.update", JSON.stringify({ bucket: "firmware" }), { timeout: 5000 });
      expect(bad.headers?.get("Nats-Service-Error-Code")).toBe("400");
      // the real one: streamed, verified, rebooted into, marked good once connected
      const ok = (await nc.request("sensors.ota.cmd.update", JSON.stringify({ bucket: "firmware", name: "sensor-1.1.0" }), { timeout: 5000 })).json<{ accepted: boolean }>();
      expect(ok.accepted).toBe(true);
      const s = await untilStatus("ota", (s) => s.version === "1.1.0" && s.image?.state === "valid", "the new version running, marked good", d, 30_000);
      expect(s.image!.partition).toMatch(/^ota_[01]$/);
      expect(d.lines.join("\n")).toMatch(/nats-xs-sim: reboot/);
      await d.kill();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
