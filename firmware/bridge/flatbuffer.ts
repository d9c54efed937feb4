/**
 * A FlatBuffers reader for the metadata of Arrow IPC messages (Message.fbs, Schema.fbs): tables
 * through their vtables, offsets, vectors and strings. The bytes come from a peer: every position
 * is checked against the buffer before it is read, so a hostile offset is an error, never a read
 * outside the message.
 */
import TextDecoder from "text/decoder";
import { ArrowFormatError } from "./arrow-errors.js";

/** Reads a FlatBuffer held in `b`, every offset checked against its length (ArrowFormatError). */
export class FlatBufferReader {
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  private check(at: number, n: number): void {
    if (at < 0 || at + n > this.b.length) throw new ArrowFormatError(`a metadata offset (${at}) points outside the ${this.b.length}-byte message`);
  }
  u8(at: number): number {
    this.check(at, 1);
    return this.b[at];
  }
  u16(at: number): number {
    this.check(at, 2);
    return this.b[at] | (this.b[at + 1] << 8);
  }
  i32(at: number): number {
    this.check(at, 4);
    return this.b[at] | (this.b[at + 1] << 8) | (this.b[at + 2] << 16) | (this.b[at + 3] << 24);
  }
  /** A little-endian 64-bit value as a number; throws past 2^53. */
  i64(at: number): number {
    const lo = this.i32(at) >>> 0;
    const hi = this.i32(at + 4);
    if (hi < 0 || hi > 0x1fffff) throw new ArrowFormatError(`a 64-bit length or offset (at ${at}) is negative or beyond 2^53`);
    return hi * 4294967296 + lo;
  }
  /** The position of field `slot` of the table at `t`, or 0 when absent. */
  field(t: number, slot: number): number {
    const vt = t - this.i32(t);
    const vtLen = this.u16(vt);
    const at = 4 + 2 * slot;
    if (at + 2 > vtLen) return 0;
    const off = this.u16(vt + at);
    return off === 0 ? 0 : t + off;
  }
  /** The target of the offset stored at `at`. */
  ref(at: number): number {
    const target = at + (this.i32(at) >>> 0);
    this.check(target, 4);
    return target;
  }
  table(t: number, slot: number): number {
    const f = this.field(t, slot);
    return f === 0 ? 0 : this.ref(f);
  }
  scalar8(t: number, slot: number, dflt: number): number {
    const f = this.field(t, slot);
    return f === 0 ? dflt : this.u8(f);
  }
  scalar16(t: number, slot: number, dflt: number): number {
    const f = this.field(t, slot);
    return f === 0 ? dflt : this.u16(f);
  }
  /** A vector's element count and the position of its first element ([0, 0] when absent). */
  vector(t: number, slot: number, elemSize: number): [number, number] {
    const f = this.field(t, slot);
    if (f === 0) return [0, 0];
    const v = this.ref(f);
    const n = this.i32(v) >>> 0;
    this.check(v + 4, n * elemSize);
    return [n, v + 4];
  }
  string(t: number, slot: number, decoder: TextDecoder): string {
    const f = this.field(t, slot);
    if (f === 0) return "";
    const s = this.ref(f);
    const n = this.i32(s) >>> 0;
    this.check(s + 4, n);
    return decoder.decode(this.b.subarray(s + 4, s + 4 + n));
  }
}
