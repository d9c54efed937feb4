/**
 * UTF-8 helpers that write straight into protocol buffers: ASCII (nearly every subject and header)
 * takes a loop with no allocation; anything else goes through the device's TextEncoder.
 */
import type TextEncoder from "text/encoder";

/**
 * String.prototype.charCodeAt, to call as `charCode.call(s, i)`. On XS, reading a property of a
 * primitive string (`s.length`, `s.charCodeAt`) makes a String wrapper object every time: a
 * per-character loop written the usual way makes garbage per character (about 25 objects for one
 * publish), and collections follow. Called this way it makes none, so the loops below read
 * `length` once (one wrapper per string on XS; reading past the end instead would cost V8 its fast
 * path) and every character through it.
 */
export const charCode: (this: string, index: number) => number = String.prototype.charCodeAt;

/** The empty payload (nats.js `Empty`), shared: it has no bytes to write, so it stays valid when
 *  a preloaded module's typed arrays turn read-only. */
export const Empty: Uint8Array = new Uint8Array(0);

/** Byte length of `s` in UTF-8, computed without encoding it. Lone surrogates count as U+FFFD. */
export function utf8Length(s: string): number {
  const length = s.length;
  let n = length;
  for (let i = 0; i < length; i++) {
    const c = charCode.call(s, i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length && (charCode.call(s, i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // the pair is 4 bytes: 2 UTF-16 units counted already
      i++;
    } else n += 2;
  }
  return n;
}

/** Writes `s` as UTF-8 at `pos` (the caller made room: utf8Length(s) bytes); returns the new position. */
export function writeString(out: Uint8Array, pos: number, s: string, encoder: TextEncoder): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = charCode.call(s, i);
    if (c >= 0x80) return pos - i + encoder.encodeInto(s, out.subarray(pos - i)).written;
    out[pos++] = c;
  }
  return pos;
}

/** Writes ASCII digits of a non-negative integer at `pos`; returns the new position. */
export function writeUint(out: Uint8Array, pos: number, value: number): number {
  if (value < 10) {
    out[pos] = 48 + value;
    return pos + 1;
  }
  const digits = uintLength(value);
  let p = pos + digits;
  while (p > pos) {
    out[--p] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
  return pos + digits;
}

/** Number of ASCII digits writeUint() writes for `value`. */
export function uintLength(value: number): number {
  let n = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    n++;
  }
  return n;
}

/** Writes a protocol literal (ASCII only) at `pos`; returns the new position. */
export function writeAscii(out: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) out[pos++] = charCode.call(s, i);
  return pos;
}
