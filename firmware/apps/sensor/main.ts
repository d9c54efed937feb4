/**
 * The fielded sensor. At boot it reads its sensor through Moddable's ECMA-419 sensor class (the
 * SDK's SHT3x driver on a board, the simulated one on a host: manifests/sensor maps the
 * specifier), connects, reads its settings from KV (falling back to mc/config), watches them and
 * applies changes live, shows its presence in a bucket whose entries expire, publishes readings
 * through the JetStream outbox and answers commands as service endpoints (ping, config, reboot,
 * update). README "The fielded device" is the walk-through; app.ts has the KV layout.
 *
 * mc/config (manifest "config" or `mcconfig ... key=value`; host-sim: `key=value` words):
 *   nats        server URL (required)            id        device id (default "sensor-1")
 *   interval    default ms between readings      high/low  default °C alert thresholds
 *   log         default log level                count     readings before stopping (0: for ever)
 *   alive_ttl   ms a presence entry lives (30000) outbox_bytes  outbox RAM bound (8192)
 *   outbox_file_bytes  bytes the outbox journal may take in the device's storage (32768)
 *   config_bucket, status_bucket, alive_bucket   bucket names (devices-config, -status, -alive)
 */
import config from "mc/config";
import Humidity from "embedded:sensor/Humidity-Temperature/SHT3x";
import device from "embedded:provider/builtin";
import { connect } from "nats-xs";
import { jetstream } from "nats-xs/jetstream";
import files from "embedded:storage/files";
import { fileStore } from "nats-xs/outbox-file";
import { Kvm } from "nats-xs/kv";
import { SensorApp, defaultSettings, serveCommands } from "nats-xs/sensor-app";
import { bootInfo, markImageGood } from "./update.js";
import { serveUpdates } from "./updates.js";
import { status } from "nats-xs/status";

/** The firmware version this build reports (an update's image carries another). */
export const APP_VERSION = "1.0.0";

function text(v: unknown, fallback: string): string {
  return typeof v === "string" && v !== "" ? v : v === undefined || v === "" ? fallback : String(v);
}

function whole(v: unknown, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error(`sensor: mc/config ${name} must be a whole number`);
  return v;
}

const server = text(config.nats, "");
const id = text(config.id, "sensor-1");
if (server === "") {
  trace(`sensor ${id}: no NATS server set: build with nats=nats://<host>:4222 on the mcconfig command line (or in the manifest's config)\n`);
  throw new Error("sensor: no NATS server set (nats=...)");
}
const defaults = defaultSettings(config);
if (defaults.settings === null) throw new Error(`sensor: mc/config settings refused: ${defaults.reason}`);

const sensor = new Humidity({ sensor: device.I2C.default });
const outboxBytes = whole(config.outbox_bytes, 8192, "outbox_bytes");
const outboxFileBytes = whole(config.outbox_file_bytes, 32768, "outbox_file_bytes");
const count = whole(config.count, 0, "count");
const aliveTtl = whole(config.alive_ttl, 30000, "alive_ttl");
const settings = defaults.settings;

// The boot runs in a function of its own, not in the module body: after its first await it resumes
// from a promise job with only its own frame on the stack, where the module body of a bundle
// (every top-level binding of it) would sit under every call (on XS, 114 of the 512 stack slots).
async function boot(): Promise<SensorApp> {
  trace(`sensor ${id}: firmware ${APP_VERSION}, ${device.simulated === true ? "simulated" : "SHT3x"} sensor, connecting to ${server}\n`);
  const nc = await connect({ servers: server, name: id, reconnectTimeWait: 1000, maxReconnectAttempts: -1, waitOnFirstConnect: true });
  trace(`sensor ${id}: connected to ${nc.getServer()}\n`);

  // readings wait in a journal in the device's storage until the stream has them: one accepted
  // before a power loss is sent after the reboot, once (its Nats-Msg-Id is kept)
  const js = jetstream(nc, { outboxBytes, outboxStore: fileStore(files, "outbox", { maxBytes: outboxFileBytes }) });
  const app = new SensorApp({ id, version: APP_VERSION, subject: `sensors.${id}.reading`, nc, js, sensor, defaults: settings, count, aliveTtl });

  // status lines, at the log level the settings say
  (async () => {
    for await (const s of status(nc)) app.log(s.type === "error" ? "error" : "info", `${s.type}${s.error ? ": " + s.error.message : ""}`);
  })();

  // the buckets go through a JetStream context of their own: their writes are not readings, and
  // must not wait behind them in the readings' outbox
  const kvm = new Kvm(nc);
  try {
    const configKv = await kvm.create(text(config.config_bucket, "devices-config"), { history: 5 });
    const statusKv = await kvm.create(text(config.status_bucket, "devices-status"), { history: 1 });
    const aliveKv = await kvm.create(text(config.alive_bucket, "devices-alive"), { history: 1, ttl: aliveTtl });
    await app.useBuckets(configKv, statusKv, aliveKv, 5000);
  } catch (e) {
    // no JetStream (or no rights to the buckets): run on mc/config, say why
    app.error(`settings from mc/config only: the KV buckets are out of reach: ${(e as Error).message}`);
  }
  const svc = await serveCommands(app, nc);
  serveUpdates(app, nc, svc);
  await nc.flush();
  // connected, settings read, commands served: this image works. A new image that never gets
  // here is rolled back at the next boot (the bootloader's pending-verify state).
  markImageGood();
  app.running(bootInfo());
  app.start();
  return app;
}

/** Resolves with the running app once it has booted (a test harness reads its status); a boot
 *  that fails rejects it, unhandled: the device stops, as an uncaught exception stops a board. */
export const booted: Promise<SensorApp> = boot();
