/**
 * Object metadata (ADR-20), as nats.js 3.x writes it on `$O.<bucket>.M.<name base64url>`, parsed
 * from the server within bounds: size and nesting checked before JSON.parse, every field used
 * checked for type after it.
 */
import type TextDecoder from "text/decoder";
import { MAX_DEPTH } from "nats-xs/jetstream";
import { checkJson } from "nats-xs";
import { ObjectStoreError } from "./errors.js";

/** What put() is told about an object (nats.js `ObjectStoreMeta`). */
export interface ObjectStoreMeta {
  name: string;
  description?: string;
  headers?: Record<string, string[]>;
  options?: { max_chunk_size?: number };
  metadata?: Record<string, string>;
}

/** A stored object's info (nats.js `ObjectInfo`). */
export interface ObjectInfo extends ObjectStoreMeta {
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  mtime: string;
  digest: string;
  deleted: boolean;
  /** The meta message's stream sequence. */
  revision: number;
}

/** Largest meta accepted, in bytes. */
export const MAX_META = 8192;

function bad(what: string): never {
  throw new ObjectStoreError(`the object meta is not valid: ${what}`);
}

function count(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`${what} is not a whole number`);
  return v;
}

/** Parses and checks a meta message's payload. */
export function parseMeta(bytes: Uint8Array, decoder: TextDecoder, revision: number): ObjectInfo {
  if (bytes.length === 0 || bytes.length > MAX_META) bad(`${bytes.length} bytes (at most ${MAX_META})`);
  if (!nestsWithin(bytes, MAX_DEPTH)) bad(`nested deeper than ${MAX_DEPTH}`);
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    bad("not JSON");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) bad("not an object");
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string" || o.name.length === 0) bad("no name");
  if (typeof o.bucket !== "string") bad("no bucket");
  const deleted = o.deleted === true;
  if (typeof o.nuid !== "string" || (!deleted && o.nuid.length === 0) || o.nuid.length > 64) bad("no nuid");
  for (let i = 0; i < o.nuid.length; i++) {
    const c = o.nuid.charCodeAt(i);
    if (c <= 32 || c === 46 || c === 42 || c === 62 || c > 126) bad("the nuid is not a subject token");
  }
  const digest = o.digest === undefined ? "" : o.digest;
  if (typeof digest !== "string" || digest.length > 256) bad("the digest is not a short string");
  const opts = o.options;
  if (opts !== undefined && (opts === null || typeof opts !== "object")) bad("options is not an object");
  return {
    name: o.name,
    description: typeof o.description === "string" ? o.description : undefined,
    headers: o.headers as Record<string, string[]> | undefined,
    options: opts as { max_chunk_size?: number } | undefined,
    metadata: o.metadata as Record<string, string> | undefined,
    bucket: o.bucket,
    nuid: o.nuid,
    size: count(o.size ?? 0, "size"),
    chunks: count(o.chunks ?? 0, "chunks"),
    mtime: typeof o.mtime === "string" ? o.mtime : "",
    digest,
    deleted,
    revision,
  };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Whether the digest field (base64url or base64, padded or not, or hex, as writers differ) names
 *  the 32 bytes `d`. */
export function sameDigest(field: string, d: Uint8Array): boolean {
  if (!field.startsWith("SHA-256=")) return false;
  let s = field.substring(8);
  if (s.length === 64) {
    const hex = "0123456789abcdef";
    for (let i = 0; i < 32; i++) if (s.charAt(2 * i).toLowerCase() !== hex[d[i] >> 4] || s.charAt(2 * i + 1).toLowerCase() !== hex[d[i] & 15]) return false;
    return true;
  }
  while (s.endsWith("=")) s = s.substring(0, s.length - 1);
  if (s.length !== 43) return false;
  let bits = 0;
  let acc = 0;
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charAt(i);
    if (c === "+") c = "-";
    else if (c === "/") c = "_";
    const v = B64.indexOf(c);
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (k >= 32 || ((acc >> bits) & 255) !== d[k++]) return false;
    }
  }
  return k === 32;
}

/** Whether `bytes`, read as JSON, nests at most `depth` levels (the core's bounded scan). */
export function nestsWithin(bytes: Uint8Array, depth: number): boolean {
  try {
    checkJson(bytes, { maxDepth: depth, maxBytes: bytes.length, maxValues: bytes.length });
    return true;
  } catch {
    return false;
  }
}
