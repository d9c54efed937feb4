/**
 * The structural bounds of a received envelope: what one envelope may cost a device, whoever sent it.
 *
 * XS parses JSON recursively on a 512-slot stack and builds every value in a heap of about 5,000
 * slots, so nesting and counts are bounded before any text reaches JSON.parse: the bytes are walked
 * once, iteratively, counting depth and values, and JSON.parse only runs when both fit. One budget
 * per envelope covers everything the envelope leaves in memory: its payload objects, the JSON values
 * of its fields and payloads, and the bytes it holds (field text and payloads collected without a
 * sink). A bound that is hit throws EnvelopeLimitError for that envelope only.
 */
import { EnvelopeLimitError } from "./errors.js";

/** Defaults, chosen so that one envelope at every bound at once stays well inside the ESP32
 *  budget (measured on XS: docs/bridge.md, "Bounds and defaults"). */
export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_PAYLOADS = 16;
export const DEFAULT_MAX_VALUES = 512;
export const DEFAULT_MAX_HELD_BYTES = 16384;

/** What one envelope may still take. Made per envelope (small: four numbers). */
export class EnvelopeBudget {
  readonly maxDepth: number;
  readonly maxValues: number;
  readonly maxHeld: number;
  values = 0;
  held = 0;
  constructor(maxDepth: number, maxValues: number, maxHeld: number) {
    this.maxDepth = maxDepth;
    this.maxValues = maxValues;
    this.maxHeld = maxHeld;
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
    this.values = jsonShape(bytes, from, to, this.maxDepth, this.maxValues, this.values);
  }
}

/** Counts the JSON values in bytes[from..to) (every object, array, string, key and scalar) on top
 *  of `already`, without parsing them: iterative, no allocation. Returns the new count; throws
 *  EnvelopeLimitError when nesting goes deeper than `maxDepth` or the count beyond `maxValues`.
 *  Malformed JSON is left to JSON.parse. */
export function jsonShape(b: Uint8Array, from: number, to: number, maxDepth: number, maxValues: number, already = 0): number {
  let depth = 0;
  let values = already;
  let inString = false;
  let escaped = false;
  let inScalar = false;
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = true;
      else if (c === 34) inString = false;
      continue;
    }
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

/** Checks a receive option that is a bound: a whole number, at least `min`. */
export function bound(v: unknown, fallback: number, min: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new RangeError(`receive option ${name} must be a whole number >= ${min}`);
  return v;
}
