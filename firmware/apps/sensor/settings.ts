/**
 * The sensor's live settings: what a backend may change while the device runs (reading interval,
 * alert thresholds, log level), checked before anything is applied. A value comes from a peer (a KV
 * entry or a `config` request), so it is hostile until checked: its bytes, nesting and count are
 * bounded before JSON.parse, every key must be known, every value of the right type and range. A
 * refused value leaves the settings as they were and says why, in words a backend can show.
 */
import { checkJson } from "nats-xs";

/** What the device runs with. `high`/`low` are °C alert thresholds (null: none). */
export interface Settings {
  /** Milliseconds between readings. */
  interval: number;
  /** A reading at or above it carries `alert: "high"`. */
  high: number | null;
  /** A reading at or below it carries `alert: "low"`. */
  low: number | null;
  /** Which trace lines the device prints: "error", "warn", "info" or "debug". */
  logLevel: string;
}

/** Bounds of a settings value: a flat JSON object of a few keys. */
export const MAX_SETTINGS_BYTES = 512;
export const INTERVAL_MIN = 10;
export const INTERVAL_MAX = 3_600_000;
/** The SHT3x's measuring range, °C. */
export const TEMPERATURE_MIN = -45;
export const TEMPERATURE_MAX = 130;

export const LOG_LEVELS = Object.freeze(["error", "warn", "info", "debug"]);
const KEYS = Object.freeze(["interval", "high", "low", "logLevel"]);

/** The outcome of a check: the settings to apply, or why there are none. */
export type Checked = { settings: Settings; reason: null } | { settings: null; reason: string };

function refuse(reason: string): Checked {
  return { settings: null, reason };
}

function threshold(v: unknown, name: string): number | null | string {
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v < TEMPERATURE_MIN || v > TEMPERATURE_MAX)
    return `${name} must be a number from ${TEMPERATURE_MIN} to ${TEMPERATURE_MAX} (°C) or null`;
  return v;
}

/**
 * Checks `changes` (an object already parsed, or null for none) over `base` (the defaults); the
 * result holds every key, those not in `changes` taken from `base`.
 */
export function checkSettings(changes: unknown, base: Settings): Checked {
  if (changes === null) return { settings: base, reason: null };
  if (typeof changes !== "object" || Array.isArray(changes)) return refuse("the settings must be a JSON object");
  const c = changes as Record<string, unknown>;
  for (const key in c) if (KEYS.indexOf(key) < 0) return refuse(`unknown setting ${JSON.stringify(key.length > 32 ? key.slice(0, 32) + "..." : key)}; the settings are ${KEYS.join(", ")}`);
  const interval = c.interval ?? base.interval;
  if (typeof interval !== "number" || !Number.isSafeInteger(interval) || interval < INTERVAL_MIN || interval > INTERVAL_MAX)
    return refuse(`interval must be a whole number of milliseconds from ${INTERVAL_MIN} to ${INTERVAL_MAX}`);
  const high = "high" in c ? threshold(c.high, "high") : base.high;
  if (typeof high === "string") return refuse(high);
  const low = "low" in c ? threshold(c.low, "low") : base.low;
  if (typeof low === "string") return refuse(low);
  if (high !== null && low !== null && low >= high) return refuse("low must be below high");
  const logLevel = c.logLevel ?? base.logLevel;
  if (typeof logLevel !== "string" || LOG_LEVELS.indexOf(logLevel) < 0) return refuse(`logLevel must be one of ${LOG_LEVELS.join(", ")}`);
  return { settings: Object.freeze({ interval, high, low, logLevel }), reason: null };
}

/**
 * Checks a settings value as it arrives from a peer: UTF-8 JSON text of at most 512 bytes, a flat
 * object (nesting 1, at most 8 members). Empty bytes mean "no changes": the defaults.
 */
export function parseSettings(bytes: Uint8Array, text: () => string, base: Settings): Checked {
  if (bytes.length === 0) return { settings: base, reason: null };
  try {
    checkJson(bytes, { maxBytes: MAX_SETTINGS_BYTES, maxDepth: 1, maxValues: 8, what: "the settings" });
  } catch (e) {
    return refuse((e as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text());
  } catch {
    return refuse("the settings are not JSON text");
  }
  return checkSettings(parsed, base);
}

/** The defaults: mc/config's `interval`, `high`, `low` and `log` when they are valid, else built in. */
export function defaultSettings(config: Record<string, unknown>): Checked {
  const built: Settings = { interval: 1000, high: null, low: null, logLevel: "info" };
  const changes: Record<string, unknown> = {};
  if (config.interval !== undefined) changes.interval = config.interval;
  if (config.high !== undefined) changes.high = config.high;
  if (config.low !== undefined) changes.low = config.low;
  if (config.log !== undefined) changes.logLevel = config.log;
  return checkSettings(changes, built);
}
