/**
 * The fielded sensor's state and behaviour once connected: readings through the JetStream outbox,
 * live settings from KV (refused values answered with the reason, the last good settings kept),
 * presence in a KV bucket whose entries expire, and the status a backend reads. main.ts wires it to
 * the connection, the buckets and the service endpoints.
 *
 * KV layout (names from mc/config, these are the defaults):
 *   devices-config  <id>  the device's settings, JSON, written by the backend (the device reads it)
 *   devices-status  <id>  what the device is doing (status JSON below), written by the device
 *   devices-alive   <id>  presence: {"version","uptime","boot"}, rewritten every ttl/3; the
 *                         bucket's ttl (max_age) removes it when the device stops
 */
import Timer from "timer";
import type { TimerId } from "timer";
import type SHT3x from "embedded:sensor/Humidity-Temperature/SHT3x";
import type { NatsConnection } from "nats-xs";
import type { JetStreamClient, PubAck } from "nats-xs/jetstream";
import type { Bucket, KvEntry } from "nats-xs/kv";
import { LOG_LEVELS, parseSettings } from "./settings.js";
import type { Checked, Settings } from "./settings.js";
import { readingJson } from "./reading.js";

/** Where the app's settings came from and what became of the last one offered. */
export interface ConfigState {
  /** "mc/config" until a KV value was applied, then "kv". */
  source: string;
  /** The KV revision last seen (0: none). */
  revision: number;
  /** The KV revision of the settings in use (0: mc/config's). */
  running: number;
  /** True when that revision was applied; false when refused (see `reason`). */
  applied: boolean;
  reason: string | null;
}

/** What `status` says (the status key and the ping endpoint). */
export interface StatusJson {
  id: string;
  version: string;
  boot: string;
  uptime: number;
  settings: Settings;
  config: ConfigState;
  readings: { taken: number; accepted: number; acked: number; refused: number };
  /** The outbox: readings waiting for their ack, their RAM bytes, and those restored at boot. */
  outbox: { waiting: number; bytes: number; maxBytes: number; restored: number };
  update: { state: string; bytes: number; size: number; error: string | null } | null;
  /** The image running (OTA partition, its state) and the last one rolled back ("" if none). */
  image: { partition: string; state: string; lastInvalid: string } | null;
  /** Commands answered since boot. */
  commands: number;
  lastError: string | null;
}

export interface AppOptions {
  id: string;
  version: string;
  /** Subject of the readings (a stream the backend owns captures it). */
  subject: string;
  nc: NatsConnection;
  js: JetStreamClient;
  sensor: SHT3x;
  defaults: Settings;
  /** Readings to take before stopping (0: for ever). */
  count: number;
  /** Milliseconds the presence entry lives; it is rewritten every third of that. */
  aliveTtl: number;
}

/** A random token (letters and digits) for the boot id. */
export function bootToken(): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 8; i++) s += A[Math.floor(Math.random() * A.length)];
  return s;
}

export class SensorApp {
  readonly id: string;
  readonly version: string;
  readonly boot = bootToken();
  private readonly o: AppOptions;
  private readonly started = Date.now();
  private _settings: Settings;
  private config: ConfigState = { source: "mc/config", revision: 0, running: 0, applied: true, reason: null };
  private taken = 0;
  private accepted = 0;
  private acked = 0;
  private refused = 0;
  private lastError: string | null = null;
  private commands = 0;
  private image: StatusJson["image"] = null;
  private update: StatusJson["update"] = null;
  private readings: TimerId | null = null;
  private presence: TimerId | null = null;
  private _configKv: Bucket | null = null;
  private statusKv: Bucket | null = null;
  private aliveKv: Bucket | null = null;
  private statusBusy = false;
  private statusAgain = false;
  // made once: one promise per reading is the outbox's, no closure per reading
  private readonly onAck = (_a: PubAck) => void this.acked++;
  private readonly onRefused = (e: Error) => {
    // accepted counts what the outbox took: a refusal takes it back
    this.accepted--;
    this.refused++;
    this.error(`reading not stored: ${e.message}`);
  };
  private readonly tick = () => this.read();
  private readonly beat = () => this.refresh();
  private readonly onEntry = (e: KvEntry) => this.configEntry(e);
  private readonly quiet = (e: Error) => this.error(e.message);

  constructor(o: AppOptions) {
    this.o = o;
    this.id = o.id;
    this.version = o.version;
    this._settings = o.defaults;
  }

  get settings(): Settings {
    return this._settings;
  }

  /** Prints `text` when `level` is at or above the log level. */
  log(level: string, text: string): void {
    if (LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this._settings.logLevel)) trace(`sensor ${this.id}: ${text}\n`);
  }

  /** Records the last error (status says it) and prints it. */
  error(text: string): void {
    this.lastError = text;
    this.log("error", text);
  }

  /**
   * Uses the buckets: presence from now on, the settings from `configKv` (waits up to `waitMs` for
   * the value there is at boot, then goes on with what it has and applies the value when it comes).
   */
  async useBuckets(configKv: Bucket, statusKv: Bucket, aliveKv: Bucket, waitMs: number): Promise<void> {
    this._configKv = configKv;
    this.statusKv = statusKv;
    this.aliveKv = aliveKv;
    // the revision the last boot ran with, before this boot's status overwrites it
    const before = await this.runningBefore(statusKv);
    this.refresh();
    this.presence = Timer.repeat(this.beat, Math.max(1, Math.floor(this.o.aliveTtl / 3)));
    let ready: () => void = () => {};
    const initialized = new Promise<void>((resolve) => (ready = resolve));
    await configKv.watch({ key: this.id, callback: this.onEntry, initializedFn: () => ready() });
    const t = Timer.set(() => ready(), waitMs);
    await initialized;
    Timer.clear(t);
    // the value in the bucket was refused before this boot too: the last good one still stands
    const c = this.config;
    if (!c.applied && before > 0 && before < c.revision) {
      const e = await configKv.get(this.id, { revision: before });
      if (e !== null && e.operation === "PUT") {
        const checked = this.check(e.value, () => e.string());
        if (checked.settings !== null) {
          this._settings = checked.settings;
          this.config = { source: "kv", revision: c.revision, running: before, applied: false, reason: c.reason };
          this.log("info", `settings revision ${before} (the last good one) applied`);
          this.writeStatus();
        }
      }
    }
  }

  /** The settings revision the status key says ran last (0: none, or unreadable). */
  private async runningBefore(statusKv: Bucket): Promise<number> {
    try {
      const e = await statusKv.get(this.id);
      if (e === null || e.length === 0 || e.length > 2048) return 0;
      const running = e.json<{ config?: { running?: unknown } }>().config?.running;
      return typeof running === "number" && Number.isSafeInteger(running) && running > 0 ? running : 0;
    } catch {
      return 0;
    }
  }

  /** Starts the readings. */
  start(): void {
    this.readings = Timer.repeat(this.tick, this._settings.interval);
    this.log("info", `reading every ${this._settings.interval} ms on ${this.o.subject}`);
  }

  /** Stops the readings and the presence refresh. */
  stop(): void {
    Timer.clear(this.readings);
    Timer.clear(this.presence);
    this.readings = this.presence = null;
  }

  /** Applies checked settings, or records why they were refused; writes the status key. */
  offer(checked: Checked, revision: number, source: string): void {
    if (checked.settings === null) {
      this.config = { source: this.config.source, revision, running: this.config.running, applied: false, reason: checked.reason };
      this.error(`settings revision ${revision} refused: ${checked.reason}`);
    } else {
      const before = this._settings.interval;
      this._settings = checked.settings;
      this.config = { source, revision, running: revision, applied: true, reason: null };
      if (this.readings !== null && before !== checked.settings.interval) Timer.schedule(this.readings, checked.settings.interval, checked.settings.interval);
      this.log("info", `settings revision ${revision} applied: ${JSON.stringify(checked.settings)}`);
    }
    this.writeStatus();
  }

  /** Checks a settings value (the bytes of a KV entry or a request) over the defaults. */
  check(bytes: Uint8Array, text: () => string): Checked {
    return parseSettings(bytes, text, this.o.defaults);
  }

  /** The config bucket, once useBuckets() has run. */
  get configKv(): Bucket | null {
    return this._configKv;
  }

  private configEntry(e: KvEntry): void {
    // a delete or purge of the key means "back to the defaults"
    const checked: Checked = e.operation === "PUT" ? this.check(e.value, () => e.string()) : { settings: this.o.defaults, reason: null };
    this.offer(checked, e.revision, "kv");
  }

  /** Counts a command answered. */
  commanded(): void {
    this.commands++;
  }

  /** Records which image runs (after markImageGood(), its new state). */
  running(image: { partition: string; state: string; lastInvalid: string }): void {
    this.image = { partition: image.partition, state: image.state, lastInvalid: image.lastInvalid };
    this.writeStatus();
  }

  /** True while an update streams in. */
  get updateRunning(): boolean {
    const u = this.update;
    return u !== null && (u.state === "starting" || u.state === "downloading");
  }

  /** Writes the status key now and resolves once the server has it (before a reboot). */
  async statusStored(): Promise<void> {
    const kv = this.statusKv;
    if (kv !== null) await kv.put(this.id, JSON.stringify(this.status()));
  }

  /** Records the progress of an update (state "downloading", "verified", "failed"...). */
  updating(state: string, bytes: number, size: number, error: string | null): void {
    this.update = { state, bytes, size, error };
    if (error !== null) this.error(`update ${state}: ${error}`);
    this.writeStatus();
  }

  status(): StatusJson {
    const o = this.o.js.outboxStatus();
    return {
      id: this.id,
      version: this.version,
      boot: this.boot,
      uptime: Date.now() - this.started,
      settings: this._settings,
      config: this.config,
      readings: { taken: this.taken, accepted: this.accepted, acked: this.acked, refused: this.refused },
      outbox: { waiting: o.waiting, bytes: o.bytes, maxBytes: o.maxBytes, restored: o.restored ?? 0 },
      update: this.update,
      image: this.image,
      commands: this.commands,
      lastError: this.lastError,
    };
  }

  /** Writes the status key; one write at a time, the last state wins. */
  writeStatus(): void {
    const kv = this.statusKv;
    if (kv === null) return;
    if (this.statusBusy) {
      this.statusAgain = true;
      return;
    }
    this.statusBusy = true;
    // the put starts from a promise job of its own, never under the caller's frames: a status
    // written from a KV watcher's callback would run under the socket read, the parser and the
    // delivery (on XS that path passed the 512-slot stack while encoding the put's headers)
    Promise.resolve()
      .then(() => kv.put(this.id, JSON.stringify(this.status())))
      .then(
      () => this.statusDone(),
      (e: Error) => {
        this.log("warn", `status not written: ${e.message}`);
        this.statusDone();
      },
    );
  }

  private statusDone(): void {
    this.statusBusy = false;
    if (this.statusAgain) {
      this.statusAgain = false;
      this.writeStatus();
    }
  }

  private refresh(): void {
    const kv = this.aliveKv;
    if (kv === null || this.o.nc.isClosed()) return;
    kv.put(this.id, JSON.stringify({ version: this.version, uptime: Date.now() - this.started, boot: this.boot })).then(null, this.quiet);
    this.writeStatus();
  }

  private read(): void {
    const seq = ++this.taken;
    let body: string;
    try {
      body = readingJson(this.id, this.boot, seq, this.o.sensor.sample(), this._settings);
    } catch (e) {
      this.error(`sensor: ${(e as Error).message}`);
      return;
    }
    this.accepted++;
    this.o.js.publish(this.o.subject, body).then(this.onAck, this.onRefused);
    // printed once publish() has returned: with a persistent outbox the reading is on flash
    this.log("debug", body);
    if (this.o.count > 0 && seq >= this.o.count) {
      Timer.clear(this.readings);
      this.readings = null;
      this.log("info", `${seq} readings taken`);
    }
  }
}
