/**
 * The outbox journal's bytes. A file is the 4-byte magic "NXO1" and then records, appended only:
 *
 *   record = length u32 LE (of the body) | crc32 u32 LE (of the length's 4 bytes and the body) | body
 *   body   = 1 (added) | key u32 | subject length u16 | subject | header count u16
 *              | (name length u16 | name | value length u16 | value) per header | payload (the rest)
 *          | 2 (settled) | key u32
 *
 * A record torn by a power loss fails its length or its CRC, so replay stops there and nothing
 * half-written is ever sent. Every length read from the file is checked against the bounds before
 * anything is allocated from it.
 */
import type TextDecoder from "text/decoder";
import type TextEncoder from "text/encoder";
import { headers, utf8Length } from "nats-xs";
import type { MsgHdrs } from "nats-xs";

export const MAGIC = Object.freeze([0x4e, 0x58, 0x4f, 0x31]); // "NXO1"
/** Record header: length and CRC. */
export const HEAD = 8;
/** The largest record: its size must fit the 16 bits the store keeps it in. */
export const MAX_RECORD = 65535;
export const enum Kind {
  Added = 1,
  Settled = 2,
}
/** Body bytes of a "settled" record. */
export const SETTLED_BODY = 5;
/** The fewest body bytes of an "added" record. */
const MIN_ADDED = 9;

// CRC-32 (IEEE 802.3, reflected 0xEDB88320) a nibble at a time: a 16-entry frozen table instead of
// a 1 KB one, so nothing is allocated to compute it
const NIBBLES = Object.freeze([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

/** CRC-32 of `bytes[from, to)`. */
export function crc32(bytes: Uint8Array, from: number, to: number, crc = 0): number {
  crc = ~crc;
  for (let i = from; i < to; i++) {
    crc ^= bytes[i];
    crc = (crc >>> 4) ^ NIBBLES[crc & 15];
    crc = (crc >>> 4) ^ NIBBLES[crc & 15];
  }
  return ~crc >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 255;
  b[at + 1] = v >>> 8;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 255;
  b[at + 1] = (v >>> 8) & 255;
  b[at + 2] = (v >>> 16) & 255;
  b[at + 3] = v >>> 24;
}

export function get16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

export function get32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Length and CRC into the first 8 bytes of a record whose body follows them. */
function seal(record: Uint8Array): Uint8Array {
  put32(record, 0, record.length - HEAD);
  put32(record, 4, crc32(record, HEAD, record.length, crc32(record, 0, 4)));
  return record;
}

/** The bytes of an "added" record, or null when it would exceed MAX_RECORD. */
export function addedRecord(key: number, subject: string, h: MsgHdrs | string, data: Uint8Array | string | undefined, encoder: TextEncoder): Uint8Array | null {
  let size = HEAD + MIN_ADDED + utf8Length(subject);
  if (typeof h === "string") size += 4 + 11 + utf8Length(h);
  else for (const [k, vs] of h) for (const v of vs) size += 4 + utf8Length(k) + utf8Length(v);
  const payload = data === undefined ? 0 : typeof data === "string" ? utf8Length(data) : data.length;
  size += payload;
  if (size > MAX_RECORD) return null;
  const r = new Uint8Array(size);
  r[HEAD] = Kind.Added;
  put32(r, HEAD + 1, key);
  let at = text(r, HEAD + 5, subject, encoder);
  const count = at;
  at += 2;
  let n = 0;
  if (typeof h === "string") {
    at = text(r, text(r, at, "Nats-Msg-Id", encoder), h, encoder);
    n = 1;
  } else {
    for (const [k, vs] of h) {
      for (const v of vs) {
        at = text(r, text(r, at, k, encoder), v, encoder);
        n++;
      }
    }
  }
  put16(r, count, n);
  if (typeof data === "string") encoder.encodeInto(data, r.subarray(at));
  else if (data !== undefined) r.set(data, at);
  return seal(r);
}

/** A u16 length and the UTF-8 of `s` at `at`; returns where the next field starts. */
function text(r: Uint8Array, at: number, s: string, encoder: TextEncoder): number {
  const n = encoder.encodeInto(s, r.subarray(at + 2, at + 2 + utf8Length(s))).written;
  put16(r, at, n);
  return at + 2 + n;
}

/** The bytes of a "settled" record. */
export function settledRecord(key: number): Uint8Array {
  const r = new Uint8Array(HEAD + SETTLED_BODY);
  r[HEAD] = Kind.Settled;
  put32(r, HEAD + 1, key);
  return seal(r);
}

export const CHECKSUM = "checksum mismatch";

/** Why a record (its 8-byte head and `body`) is not valid, or "" when it is. */
export function check(head: Uint8Array, body: Uint8Array): string {
  if (crc32(body, 0, body.length, crc32(head, 0, 4)) !== get32(head, 4)) return CHECKSUM;
  const kind = body[0];
  if (kind === Kind.Settled) return body.length === SETTLED_BODY ? "" : "settled record of a wrong length";
  if (kind !== Kind.Added) return `unknown record kind ${kind}`;
  if (body.length < MIN_ADDED) return "added record too short";
  let at = 5;
  at += 2 + get16(body, at);
  if (at + 2 > body.length) return "subject runs past the record";
  const count = get16(body, at);
  at += 2;
  for (let i = 0; i < count * 2; i++) {
    if (at + 2 > body.length) return "headers run past the record";
    at += 2 + get16(body, at);
  }
  return at > body.length ? "headers run past the record" : "";
}

/** Subject, headers and payload of a valid "added" body (the payload is a view into it). */
export function parseAdded(body: Uint8Array, decoder: TextDecoder): { subject: string; headers: MsgHdrs; data: Uint8Array } {
  let at = 5;
  let n = get16(body, at);
  const subject = decoder.decode(body.subarray(at + 2, at + 2 + n));
  at += 2 + n;
  const count = get16(body, at);
  at += 2;
  const h = headers();
  for (let i = 0; i < count; i++) {
    n = get16(body, at);
    const k = decoder.decode(body.subarray(at + 2, at + 2 + n));
    at += 2 + n;
    n = get16(body, at);
    h.append(k, decoder.decode(body.subarray(at + 2, at + 2 + n)));
    at += 2 + n;
  }
  return { subject, headers: h, data: body.subarray(at) };
}
