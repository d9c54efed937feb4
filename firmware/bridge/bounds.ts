/**
 * The structural bounds of a received envelope: what one envelope may cost a device, whoever sent it.
 *
 * XS parses JSON recursively on a 512-slot stack and builds every value in a heap of about 5,000
 * slots, so nesting and counts are bounded before any text reaches JSON.parse: the bytes are walked
 * once, iteratively, counting depth and values, and JSON.parse only runs when both fit. One budget
 * per envelope covers everything the envelope leaves in memory: its payload objects, the JSON values
 * of its fields and payloads, and the bytes it holds (field text and payloads collected without a
 * sink). A bound that is hit throws EnvelopeLimitError for that envelope only.
 *
 * Property names are a bound of their own: XS interns every name an object is given (JSON.parse of
 * `{"k":1}` makes the key "k") and never frees it, so a peer that sends new names in every envelope
 * would drain a device's heap a key at a time (measured: about 1 slot and 24 bytes per new name on
 * the XS host). A receiver counts the distinct names it has let through JSON.parse (by hash) and
 * refuses an envelope that would bring more than max_keys of them.
 */
import { EnvelopeLimitError } from "./errors.js";

/** Defaults, chosen so that one envelope at every bound at once stays well inside the ESP32
 *  budget (measured on XS: docs/bridge.md, "Bounds and defaults"). */
export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_PAYLOADS = 16;
export const DEFAULT_MAX_VALUES = 256;
export const DEFAULT_MAX_KEYS = 128;

/** The distinct JSON property names a receiver has let through (by 32-bit FNV-1a hash of their
 *  bytes), for its lifetime: XS keeps every property name it has seen. */
export class KeyRegistry {
  readonly max: number;
  private readonly seen = new Set<number>();
  constructor(max: number) {
    this.max = max;
  }
  get size(): number {
    return this.seen.size;
  }
  add(hash: number): void {
    if (this.seen.has(hash)) return;
    if (this.seen.size >= this.max)
      throw new EnvelopeLimitError(`brings JSON property names this receiver has not seen, past the ${this.max} distinct names it keeps (XS never frees a name)`, "max_keys", this.max);
    this.seen.add(hash);
  }
}
export const DEFAULT_MAX_HELD_BYTES = 16384;

/** What one envelope may still take. Made per envelope (small: four numbers). */
export class EnvelopeBudget {
  readonly maxDepth: number;
  readonly maxValues: number;
  readonly maxHeld: number;
  readonly keys: KeyRegistry | null;
  values = 0;
  held = 0;
  constructor(maxDepth: number, maxValues: number, maxHeld: number, keys: KeyRegistry | null = null) {
    this.maxDepth = maxDepth;
    this.maxValues = maxValues;
    this.maxHeld = maxHeld;
    this.keys = keys;
  }
  /** Bytes that may still be held. */
  get room(): number {
    return this.maxHeld - this.held;
  }
  /** Counts `n` more bytes held; throws when past max_held_bytes. */
  hold(n: number, what: string): void {
    if (this.held + n > this.maxHeld) throw new EnvelopeLimitError(`would hold more than ${this.maxHeld} bytes in memory (${what})`, "max_held_bytes", this.maxHeld);
    this.held += n;
  }
  /** Counts the values of JSON text about to be parsed; throws on depth or count. */
  json(bytes: Uint8Array, from: number, to: number): void {
    this.values = jsonShape(bytes, from, to, this.maxDepth, this.maxValues, this.values, this.keys);
  }
}

/** Counts the JSON values in bytes[from..to) (every object, array, string, key and scalar) on top
 *  of `already`, without parsing them: iterative, no allocation. Returns the new count; throws
 *  EnvelopeLimitError when nesting goes deeper than `maxDepth` or the count beyond `maxValues`.
 *  Malformed JSON is left to JSON.parse. */
export function jsonShape(b: Uint8Array, from: number, to: number, maxDepth: number, maxValues: number, already = 0, keys: KeyRegistry | null = null): number {
  let depth = 0;
  let values = already;
  let inString = false;
  let escaped = false;
  let inScalar = false;
  /** A string just ended (a ':' next makes it a property name); its hash. */
  let afterString = false;
  let hash = 0;
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = true;
      else if (c === 34) {
        inString = false;
        afterString = true;
        continue;
      }
      hash = Math.imul(hash ^ c, 16777619);
      continue;
    }
    if (afterString && c !== 32 && c !== 10 && c !== 13 && c !== 9) {
      afterString = false;
      if (c === 58 && keys !== null) keys.add(hash >>> 0);
    }
    if (c === 34) hash = 2166136261 | 0;
    if (c === 34 || c === 123 || c === 91) {
      inScalar = false;
      if (++values > maxValues) throw new EnvelopeLimitError(`holds more than ${maxValues} JSON values`, "max_values", maxValues);
      if (c === 34) inString = true;
      else if (++depth > maxDepth) throw new EnvelopeLimitError(`nests JSON deeper than ${maxDepth} levels`, "max_depth", maxDepth);
    } else if (c === 125 || c === 93) {
      inScalar = false;
      depth--;
    } else if (c === 44 || c === 58 || c === 32 || c === 10 || c === 13 || c === 9) inScalar = false;
    else if (!inScalar) {
      inScalar = true;
      if (++values > maxValues) throw new EnvelopeLimitError(`holds more than ${maxValues} JSON values`, "max_values", maxValues);
    }
  }
  return values;
}

/** The value of `name` in a frozen name table, found without using `name` as a property key (on
 *  XS every new property name looked up is kept forever: a peer's strings are never used as one). */
export function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  for (const k in table) if (k === name) return table[k];
  return undefined;
}

/** Checks a receive option that is a bound: a whole number, at least `min`. */
export function bound(v: unknown, fallback: number, min: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new RangeError(`receive option ${name} must be a whole number >= ${min}`);
  return v;
}
