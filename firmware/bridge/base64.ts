/**
 * Streaming base64 (RFC 4648, standard alphabet, padded), in bounded pieces both ways.
 *
 * The XS built-ins (`Uint8Array.prototype.toBase64`, `Uint8Array.fromBase64`) take and return whole
 * strings, which is what a 10 MB payload cannot afford; Node 20 has neither. So: an encoder that
 * turns any run of bytes into characters written straight into the caller's output buffer, keeping
 * at most 2 bytes between calls, and a decoder that takes characters in any split and hands decoded
 * bytes to a sink through one fixed buffer, keeping at most 3 characters between calls.
 *
 * Characters map by arithmetic rather than by a table: a module-level typed array would be
 * read-only once preloaded, and a plain array costs a slot per entry.
 */
import { Base64Error } from "./errors.js";

/** Where decoded bytes go. `bytes` is a view into the decoder's buffer, valid during the call. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/** Characters of the base64 text of `n` bytes (padded). */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** The character code of a 6-bit value. */
function encodeSextet(v: number): number {
  if (v < 26) return 65 + v; // A-Z
  if (v < 52) return 71 + v; // a-z (97 - 26)
  if (v < 62) return v - 4; // 0-9 (48 - 52)
  return v === 62 ? 43 : 47; // + /
}

/** The 6-bit value of a character code, -1 when it is not in the alphabet. */
function decodeChar(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === 43) return 62;
  if (c === 47) return 63;
  return -1;
}

/** Encodes bytes given in any split; `finish()` writes the last, padded quantum. */
export class Base64Encoder {
  /** Up to two bytes held from the previous call. */
  private carry = 0;
  private carried = 0;

  /** Characters the next encode() of `n` bytes writes at most (the caller sizes its buffer). */
  static maxOutput(n: number): number {
    return Math.floor((n + 2) / 3) * 4;
  }

  /** Encodes `src[start, end)` into `out` from `pos`; returns the new position. `out` must have
   *  room for maxOutput(end - start) characters. */
  encode(src: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
    let i = start;
    // complete the quantum begun by the previous call
    while (this.carried > 0 && this.carried < 3 && i < end) {
      this.carry = (this.carry << 8) | src[i++];
      this.carried++;
    }
    if (this.carried === 3) {
      pos = this.quad(this.carry, out, pos);
      this.carried = this.carry = 0;
    }
    const whole = end - ((end - i) % 3);
    for (; i < whole; i += 3) pos = this.quad((src[i] << 16) | (src[i + 1] << 8) | src[i + 2], out, pos);
    for (; i < end; i++) {
      this.carry = (this.carry << 8) | src[i];
      this.carried++;
    }
    return pos;
  }

  /** Writes the final quantum with its padding (up to 4 characters); returns the new position and
   *  leaves the encoder ready for another payload. */
  finish(out: Uint8Array, pos: number): number {
    const n = this.carried;
    const v = this.carry;
    this.carried = this.carry = 0;
    if (n === 0) return pos;
    const bits = n === 1 ? v << 16 : v << 8;
    out[pos++] = encodeSextet((bits >>> 18) & 63);
    out[pos++] = encodeSextet((bits >>> 12) & 63);
    out[pos++] = n === 2 ? encodeSextet((bits >>> 6) & 63) : 61;
    out[pos++] = 61;
    return pos;
  }

  private quad(v: number, out: Uint8Array, pos: number): number {
    out[pos] = encodeSextet((v >>> 18) & 63);
    out[pos + 1] = encodeSextet((v >>> 12) & 63);
    out[pos + 2] = encodeSextet((v >>> 6) & 63);
    out[pos + 3] = encodeSextet(v & 63);
    return pos + 4;
  }
}

/**
 * Decodes base64 text given in any split, strictly: only the standard alphabet, `=` only to pad the
 * final quantum, nothing but whitespace after it, no stray bits in the last character. Whitespace
 * (space, tab, CR, LF: what MIME-style encoders insert) is skipped. A missing final padding is
 * accepted; a lone character in the last quantum is not.
 */
export class Base64Decoder {
  private readonly out: Uint8Array;
  private readonly sink: ByteSink;
  private fill = 0;
  private acc = 0;
  private count = 0;
  private pad = 0;
  /** A padded final quantum ended the text: only whitespace may follow. */
  private done = false;
  /** Characters seen, for error positions. */
  private pos = 0;
  /** Bytes decoded so far (handed to the sink or waiting in the buffer). */
  total = 0;

  /** `out` is the fixed buffer (at least 3 bytes) in which decoded bytes collect before they go to
   *  `sink`, as a view valid during the call. */
  constructor(out: Uint8Array, sink: ByteSink) {
    if (out.length < 3) throw new RangeError("the base64 output buffer needs at least 3 bytes");
    this.out = out;
    this.sink = sink;
  }

  /** Starts a new text. */
  reset(): void {
    this.fill = this.acc = this.count = this.pad = this.pos = this.total = 0;
    this.done = false;
  }

  /** Decodes the character codes `src[start, end)`. Throws Base64Error at the first bad one. */
  decode(src: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) this.decodeChar(src[i]);
  }

  /** Decodes one character code (text that arrived through a JSON escape comes this way). */
  decodeChar(c: number): void {
    const at = this.pos++;
    if (c === 32 || c === 9 || c === 13 || c === 10) return;
    if (this.done) throw new Base64Error("data after the padding", at);
    if (c === 61) {
      // '=' pads the final quantum: only after two or three characters of it
      if (this.count < 2) throw new Base64Error("'=' where a data character belongs", at);
      if (++this.pad + this.count === 4) this.final(at);
      return;
    }
    if (this.pad > 0) throw new Base64Error("data inside the padding", at);
    const v = decodeChar(c);
    if (v < 0) throw new Base64Error(`character ${c < 33 || c > 126 ? `code ${c}` : JSON.stringify(String.fromCharCode(c))} is not base64`, at);
    this.acc = (this.acc << 6) | v;
    if (++this.count < 4) return;
    if (this.fill + 3 > this.out.length) this.flush();
    const a = this.acc;
    const out = this.out;
    out[this.fill] = (a >>> 16) & 255;
    out[this.fill + 1] = (a >>> 8) & 255;
    out[this.fill + 2] = a & 255;
    this.fill += 3;
    this.total += 3;
    this.acc = this.count = 0;
  }

  /** Ends the text: checks the last quantum (its padding may be missing) and hands the rest of the
   *  bytes to the sink. */
  finish(): void {
    if (this.pad > 0 && !this.done) throw new Base64Error("incomplete padding", -1);
    if (this.count === 1) throw new Base64Error("a lone character in the last quantum", -1);
    if (this.count > 1) this.final(-1);
    this.flush();
  }

  /** Writes the 1 or 2 bytes of a short final quantum (2 or 3 characters). */
  private final(at: number): void {
    const n = this.count;
    const a = this.acc;
    if (this.fill + 2 > this.out.length) this.flush();
    const out = this.out;
    if (n === 2) {
      if ((a & 15) !== 0) throw new Base64Error("stray bits in the last character", at);
      out[this.fill++] = (a >>> 4) & 255;
      this.total += 1;
    } else {
      if ((a & 3) !== 0) throw new Base64Error("stray bits in the last character", at);
      out[this.fill++] = (a >>> 10) & 255;
      out[this.fill++] = (a >>> 2) & 255;
      this.total += 2;
    }
    this.acc = this.count = 0;
    this.done = true;
  }

  private flush(): void {
    const n = this.fill;
    if (n === 0) return;
    this.fill = 0;
    this.sink.write(n === this.out.length ? this.out : this.out.subarray(0, n));
  }
}
