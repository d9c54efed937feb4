/**
 * JSON carried as itself in a payload's `data` (the current specification's `encoding: "json"`
 * example: a `jsontable` whose `data` is the JSON text, or the JSON value, not base64).
 *
 * The bytes of such a value stream to the payload's sink like decoded base64 does; this tracker
 * watches them on the way, so that the value's end is found without holding it (a JSON value in
 * `data`) and so that its nesting stays within a bound before anything parses it (JSON.parse of a
 * peer's text on a 512-slot stack must not meet unbounded depth).
 */
import { EnvelopeFieldError } from "./errors.js";

/** Deepest nesting of objects and arrays accepted in JSON carried as itself. */
export const MAX_JSON_DEPTH = 32;

/** Follows the structure of a JSON text a byte at a time: depth, strings and escapes. */
export class JsonDepth {
  private depth = 0;
  private str = false;
  private esc = false;
  private started = false;
  private readonly dataname: string;

  constructor(dataname: string) {
    this.dataname = dataname;
  }

  /** True once the outermost object or array has closed. */
  get closed(): boolean {
    return this.started && this.depth === 0;
  }

  /**
   * Follows bytes[start..end) and returns where the outermost value closed (the index after its
   * last byte), or `end` when it is still open. Throws EnvelopeFieldError past MAX_JSON_DEPTH.
   */
  feed(bytes: Uint8Array, start: number, end: number): number {
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (this.str) {
        if (this.esc) this.esc = false;
        else if (c === 92) this.esc = true;
        else if (c === 34) this.str = false;
      } else if (c === 34) this.str = true;
      else if (c === 123 || c === 91) {
        this.started = true;
        if (++this.depth > MAX_JSON_DEPTH)
          throw new EnvelopeFieldError("data", `of payload ${JSON.stringify(this.dataname)} nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
      } else if (c === 125 || c === 93) {
        if (--this.depth === 0 && this.started) return i + 1;
      }
    }
    return end;
  }
}

/** Appends the UTF-8 bytes of code point `cp` to `out` at `at`; returns the new position. */
export function putUtf8(out: Uint8Array, at: number, cp: number): number {
  if (cp < 0x80) out[at++] = cp;
  else if (cp < 0x800) {
    out[at++] = 0xc0 | (cp >> 6);
    out[at++] = 0x80 | (cp & 63);
  } else if (cp < 0x10000) {
    out[at++] = 0xe0 | (cp >> 12);
    out[at++] = 0x80 | ((cp >> 6) & 63);
    out[at++] = 0x80 | (cp & 63);
  } else {
    out[at++] = 0xf0 | (cp >> 18);
    out[at++] = 0x80 | ((cp >> 12) & 63);
    out[at++] = 0x80 | ((cp >> 6) & 63);
    out[at++] = 0x80 | (cp & 63);
  }
  return at;
}
