/**
 * NATS nkeys as the server reads them: a role byte (or two, for a seed), the 32 key bytes and a
 * CRC-16/XMODEM, in RFC 4648 base32 without padding. A device only ever needs to turn a user (or
 * account) seed into its raw Ed25519 seed and its public key, and a signature into text, so that is
 * all this file does.
 *
 * Secrets live in buffers the caller can clear (`fill(0)`): decoding never builds a string of the
 * seed, and no error message quotes it.
 */
import { InvalidArgumentError } from "nats-xs";

/** Role prefixes of public keys (the first base32 letter: U, A, O, N...). */
export const enum Role {
  Server = 13 << 3, // N
  Account = 0, // A
  Operator = 14 << 3, // O
  Cluster = 2 << 3, // C
  User = 20 << 3, // U
}

/** First byte of a decoded seed is 18 << 3 ("S"), plus the role's high bits. */
const SEED = 18 << 3;

/** Largest encoded seed or key accepted: a seed is 58 characters. */
const MAX_ENCODED = 64;

/** The value of one base32 letter (A-Z then 2-7), or -1. */
function base32Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 50 && c <= 55) return c - 24;
  return -1;
}

function base32Letter(v: number): number {
  return v < 26 ? 65 + v : 24 + v;
}

/** CRC-16/XMODEM (polynomial 0x1021, initial 0), bit by bit: no table to keep in RAM. */
export function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Base32 letters (bytes) to bytes; throws without quoting the input. */
function base32Decode(text: Uint8Array, what: string): Uint8Array {
  const out = new Uint8Array(((text.length * 5) >> 3) | 0);
  let bits = 0;
  let value = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const v = base32Value(text[i]);
    if (v < 0) {
      out.fill(0);
      throw new InvalidArgumentError(`${what} is not an nkey: character ${i + 1} is not base32`);
    }
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 0xff;
    }
  }
  return n === out.length ? out : out.subarray(0, n);
}

/** Bytes to base32 letters as a string (public keys are not secret). */
function base32Encode(bytes: Uint8Array): string {
  let s = "";
  let bits = 0;
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = ((value << 8) | bytes[i]) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += String.fromCharCode(base32Letter((value >> bits) & 31));
    }
  }
  if (bits > 0) s += String.fromCharCode(base32Letter((value << (5 - bits)) & 31));
  return s;
}

/** A decoded seed: its role and the 32-byte Ed25519 seed (clear it with fill(0) after use). */
export interface RawSeed {
  role: number;
  seed: Uint8Array;
}

/**
 * Decodes an encoded seed ("SU...", as bytes, surrounding whitespace allowed) into its role and raw
 * 32-byte Ed25519 seed. The intermediate buffer is cleared before returning.
 */
export function decodeSeed(encoded: Uint8Array): RawSeed {
  let start = 0;
  let end = encoded.length;
  while (start < end && encoded[start] <= 32) start++;
  while (end > start && encoded[end - 1] <= 32) end--;
  if (end - start === 0) throw new InvalidArgumentError("the nkey seed is empty");
  if (end - start > MAX_ENCODED) throw new InvalidArgumentError(`the nkey seed is ${end - start} characters long; a seed has 58`);
  if (encoded[start] !== 83 /* S */) throw new InvalidArgumentError("the nkey seed does not start with 'S': pass the seed (SU...), not a public key");
  const raw = base32Decode(encoded.subarray(start, end), "the seed");
  try {
    if (raw.length !== 36) throw new InvalidArgumentError(`the nkey seed decodes to ${raw.length} bytes; a seed has 36`);
    const crc = raw[34] | (raw[35] << 8);
    if (crc16(raw, 0, 34) !== crc) throw new InvalidArgumentError("the nkey seed fails its checksum: it was mistyped or cut");
    if ((raw[0] & 0xf8) !== SEED) throw new InvalidArgumentError("the nkey seed has no seed prefix");
    const role = ((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3);
    if (role !== Role.User && role !== Role.Account && role !== Role.Operator && role !== Role.Server && role !== Role.Cluster)
      throw new InvalidArgumentError("the nkey seed names an unknown role");
    const seed = new Uint8Array(32);
    seed.set(raw.subarray(2, 34));
    return { role, seed };
  } finally {
    raw.fill(0);
  }
}

/** The encoded public key ("U...") of a role and 32 raw public key bytes. */
export function encodePublicKey(role: number, key: Uint8Array): string {
  const raw = new Uint8Array(35);
  raw[0] = role;
  raw.set(key, 1);
  const crc = crc16(raw, 0, 33);
  raw[33] = crc & 0xff;
  raw[34] = crc >> 8;
  return base32Encode(raw);
}

const URL64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Base64url without padding (what nats.go sends as `sig`; the server reads it first). */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += URL64[v >> 18] + URL64[(v >> 12) & 63] + URL64[(v >> 6) & 63] + URL64[v & 63];
  }
  const left = bytes.length - i;
  if (left === 1) {
    const v = bytes[i] << 16;
    s += URL64[v >> 18] + URL64[(v >> 12) & 63];
  } else if (left === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += URL64[v >> 18] + URL64[(v >> 12) & 63] + URL64[(v >> 6) & 63];
  }
  return s;
}
