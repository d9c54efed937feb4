// `npm start`: the fielded device end to end on this machine. A nats-server with JetStream on a free
// loopback port; one simulated sensor running the built firmware (dist/apps/sensor.js) under the
// host simulator's device runner, with a device folder (its outbox journal and OTA partitions);
// and a backend on the official nats.js packages that never talks to the device directly:
//   1. finds it with @nats-io/services (the device is a micro service) and sees its presence key
//   2. changes its settings in KV (applied live), then offers a bad value (refused, with the reason)
//   3. sends it a command (ping: its status)
//   4. pushes an update: an updated build of the app (firmware 1.1.0) into an Object Store bucket,
//      the update command, the progress in the status key, and the device back on the new version
// then prints the readings until Ctrl-C.
//   npm start                        one sensor, id sensor-1
//   npm start -- id=greenhouse-4     another id (any mc/config key=value is passed to the device)
//   npm start -- --exit              end once the demo is done (exit status 0 when every step passed)
//   npm start -- --device-dir ./dev  keep the device's folder (default: a temporary one)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { Svcm } from "@nats-io/services";
import { startServer } from "./nats-server.mjs";
import { factoryVersion, sensorImage } from "./sensor-image.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const words = argv.filter((w) => w.includes("=") && !w.startsWith("--"));
const id = (words.find((w) => w.startsWith("id=")) ?? "id=sensor-1").slice(3);
const exitWhenDone = argv.includes("--exit");
const dirAt = argv.indexOf("--device-dir");
const keepDir = dirAt >= 0 ? argv[dirAt + 1] : undefined;
const deviceDir = keepDir ?? mkdtempSync(join(tmpdir(), "nats-xs-device-"));
const NEXT = "1.1.0";
const WAIT = 30_000;

const say = (line) => console.log(`[backend] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await startServer({ jetstream: true });
console.log(`[start] nats-server ${server.url} (JetStream on)`);

// the backend owns the stream of readings and the buckets; the device opens what it finds
const backend = await connect({ servers: server.url, name: "npm-start-backend" });
const jsm = await jetstreamManager(backend);
await jsm.streams.add({ name: "SENSORS", subjects: ["sensors.*.reading"], duplicate_window: 120_000_000_000 });
const kvm = new Kvm(backend);
const configKv = await kvm.create("devices-config", { history: 5 });
const statusKv = await kvm.create("devices-status");
const aliveKv = await kvm.create("devices-alive", { ttl: 30_000 });
const images = await new Objm(backend).create("firmware");

const device = spawn(process.execPath, ["host-sim/sim.js", "--device-dir", deviceDir, "dist/apps/sensor.js", `nats=${server.url}`, `id=${id}`, "interval=1000", ...words.filter((w) => !w.startsWith("id="))], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
console.log(`[start] device ${id} (firmware ${factoryVersion()}) in the host simulator, folder ${deviceDir}; Ctrl-C to stop`);

let lastStatus = null;
const statusWatch = await statusKv.watch({ key: id });
(async () => {
  for await (const e of statusWatch) if (e.operation === "PUT") lastStatus = e.json();
})();
async function untilStatus(test, what) {
  const deadline = Date.now() + WAIT;
  while (lastStatus === null || !test(lastStatus)) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT / 1000} s (status: ${JSON.stringify(lastStatus)})`);
    await sleep(50);
  }
  return lastStatus;
}

let readings = 0;
backend.subscribe(`sensors.${id}.reading`, {
  callback: (err, msg) => {
    if (err) return;
    readings++;
    if (showReadings) say(`reading ${msg.string()}`);
  },
});
let showReadings = false;

async function demo() {
  // 1. discovery, without knowing anything but the service name
  const alive = await aliveKv.watch({ key: id });
  let seen = null;
  (async () => {
    for await (const e of alive) if (e.operation === "PUT" && seen === null) seen = e.string();
  })();
  const client = new Svcm(backend).client();
  let found = null;
  for (const deadline = Date.now() + WAIT; found === null && Date.now() < deadline; await sleep(200)) {
    try {
      for await (const info of await client.info("sensor")) if (info.metadata?.device === id) found = info;
    } catch {
      // no responders yet: the device is still booting
    }
  }
  if (found === null) throw new Error("the device's service never answered $SRV.INFO");
  say(`found service ${found.name} ${found.version} (id ${found.id}, device ${found.metadata.device}): endpoints ${found.endpoints.map((e) => e.subject).join(", ")}`);
  while (seen === null) await sleep(50);
  say(`presence key devices-alive/${id}: ${seen}`);

  // 2. settings in KV: a change applied live, then a bad value refused
  const rev = await configKv.put(id, JSON.stringify({ interval: 500, high: 22, logLevel: "info" }));
  let s = await untilStatus((s) => s.config.revision === rev, "answer to the settings change");
  say(`settings revision ${rev} applied: ${JSON.stringify(s.settings)}`);
  const bad = await configKv.put(id, JSON.stringify({ interval: "fast" }));
  s = await untilStatus((s) => s.config.revision === bad, "answer to the bad value");
  say(`settings revision ${bad} refused: "${s.config.reason}"; still running revision ${s.config.running}`);

  // 3. a command, once a few readings are in
  for (const deadline = Date.now() + WAIT; readings < 3 && Date.now() < deadline; ) await sleep(50);
  const ping = (await backend.request(`sensors.${id}.cmd.ping`, "", { timeout: 5000 })).json();
  say(`ping: firmware ${ping.version}, up ${(ping.uptime / 1000).toFixed(1)} s, ${ping.readings.acked} readings stored, outbox ${ping.outbox.waiting} waiting, last error ${JSON.stringify(ping.lastError)}`);

  // 4. an update through the Object Store
  const image = sensorImage(NEXT);
  const info = await images.putBlob({ name: `sensor-${NEXT}` }, image);
  say(`put firmware ${NEXT} into Object Store bucket firmware: ${info.size} bytes, ${info.digest}`);
  const accepted = (await backend.request(`sensors.${id}.cmd.update`, JSON.stringify({ bucket: "firmware", name: `sensor-${NEXT}`, digest: info.digest }), { timeout: 5000 })).json();
  say(`update command: ${JSON.stringify(accepted)}`);
  let shown = -1;
  s = await untilStatus((s) => {
    const u = s.update;
    if (u !== null && u.bytes !== shown && s.version !== NEXT) {
      shown = u.bytes;
      say(`update ${u.state} ${u.bytes}/${u.size || info.size} bytes${u.error ? ": " + u.error : ""}`);
    }
    if (u?.state === "failed") throw new Error(`the update failed: ${u.error}`);
    return s.version === NEXT && s.image?.state === "valid";
  }, `device back on ${NEXT}`);
  say(`the device came back on firmware ${s.version} (partition ${s.image.partition}, ${s.image.state}); its settings from KV: ${JSON.stringify(s.settings)}`);
  const after = (await backend.request(`sensors.${id}.cmd.ping`, "", { timeout: 5000 })).json();
  say(`ping after the update: firmware ${after.version}, boot ${after.boot}, ${readings} readings seen so far`);
}

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping");
  if (device.exitCode === null && device.signalCode === null) {
    try {
      process.kill(-device.pid, "SIGINT");
    } catch {}
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        try {
          process.kill(-device.pid, "SIGKILL");
        } catch {}
        resolve();
      }, 3000);
      device.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  await backend.close().catch(() => {});
  await server.stop();
  if (keepDir === undefined) rmSync(deviceDir, { recursive: true, force: true });
  console.log("[start] stopped");
  process.exit(code);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
device.on("exit", (code, signal) => {
  if (!stopping) {
    console.log(`[start] device exited (${signal ?? code})`);
    stop(code || 1);
  }
});

try {
  await demo();
  say("demo done");
} catch (e) {
  say(`demo failed: ${e.message}`);
  await stop(1);
}
if (exitWhenDone) await stop(0);
say("readings from now on (Ctrl-C to stop):");
showReadings = true;
