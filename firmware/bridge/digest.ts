/**
 * SHA-256 digests of link payloads, in the form the JetStream Object Store writes them (ADR-20, and
 * nats.js `ObjectInfo.digest`): `"SHA-256=" + base64url(32 bytes)` with padding, carried in the
 * payload's `metadata.digest`. The sender fills it when it knows the bytes (it computes it while
 * uploading); the receiver hashes the bytes as they stream into the sink and compares after the last
 * one, before the payload is reported complete. Hashing is Moddable's `crypt` Digest: the device's
 * own SHA-256, host-sim's node:crypto.
 */
import { Digest } from "crypt";
import { DigestError } from "./errors.js";
import type { MessagePayload } from "./envelope.js";

/** The payload metadata key of the digest. */
export const DIGEST_KEY = "digest";
const PREFIX = "SHA-256=";
const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A digest's text as long as a real one (for sizing an envelope before the bytes are known). */
export const DIGEST_PLACEHOLDER = `${PREFIX}${"A".repeat(43)}=`;

/** `SHA-256=<base64url, padded>` of a 32-byte digest. */
export function digestTag(digest: ArrayBuffer): string {
  const b = new Uint8Array(digest);
  let s = PREFIX;
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8) | (i + 2 < b.length ? b[i + 2] : 0);
    s += URL_ALPHABET[(n >> 18) & 63] + URL_ALPHABET[(n >> 12) & 63];
    s += i + 1 < b.length ? URL_ALPHABET[(n >> 6) & 63] : "=";
    s += i + 2 < b.length ? URL_ALPHABET[n & 63] : "=";
  }
  return s;
}

/** The 32 bytes a `SHA-256=` tag names (base64url or standard alphabet, padded or not), or null
 *  when the text is not such a tag. */
export function parseDigestTag(tag: string): Uint8Array | null {
  if (tag.length < PREFIX.length + 43 || tag.length > PREFIX.length + 44 || tag.substring(0, PREFIX.length).toUpperCase() !== PREFIX) return null;
  const out = new Uint8Array(32);
  let acc = 0;
  let bits = 0;
  let n = 0;
  const end = tag.charCodeAt(tag.length - 1) === 61 ? tag.length - 1 : tag.length;
  if (end !== PREFIX.length + 43) return null;
  for (let i = PREFIX.length; i < end; i++) {
    const c = tag.charCodeAt(i);
    const v =
      c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 45 || c === 43 ? 62 : c === 95 || c === 47 ? 63 : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 32) out[n++] = (acc >> bits) & 255;
    }
  }
  return n === 32 ? out : null;
}

/**
 * What a receiver checks of one link payload: the digest its metadata declares. Throws DigestError
 * when a digest is required and missing, or when `metadata.digest` says SHA-256 but is malformed.
 * Returns null when there is nothing to check.
 */
export function declaredDigest(p: MessagePayload, required: boolean): Uint8Array | null {
  const tag = p.metadata[DIGEST_KEY];
  if (typeof tag !== "string" || tag === "") {
    if (required) throw new DigestError(p.dataname, "carries no SHA-256 digest in its metadata, and this receiver requires one on links (require_digest)");
    return null;
  }
  const want = parseDigestTag(tag);
  if (want === null) {
    if (required || tag.substring(0, PREFIX.length).toUpperCase() === PREFIX)
      throw new DigestError(p.dataname, `has a digest this receiver cannot check (${JSON.stringify(tag.length > 60 ? tag.substring(0, 60) + "..." : tag)}); expected "SHA-256=<base64url of 32 bytes>"`, tag);
    return null;
  }
  return want;
}

/** Hashes what passes and compares at the end. */
export class DigestCheck {
  private readonly digest = new Digest("SHA256");
  private readonly want: Uint8Array;
  constructor(want: Uint8Array) {
    this.want = want;
  }
  write(bytes: Uint8Array): void {
    this.digest.write(bytes);
  }
  /** After the last byte: throws DigestError when the bytes do not match. */
  verify(dataname: string): void {
    const got = this.digest.close();
    const b = new Uint8Array(got);
    let same = b.length === 32;
    for (let i = 0; same && i < 32; i++) same = b[i] === this.want[i];
    if (!same) {
      const want = new Uint8Array(32);
      want.set(this.want);
      throw new DigestError(dataname, "does not match the SHA-256 digest its envelope declares: the linked file was changed or corrupted", digestTag(want.buffer), digestTag(got));
    }
  }
}

/** Computes the tag of bytes as they are written (the sender's side). */
export class DigestWriter {
  private readonly digest = new Digest("SHA256");
  write(bytes: Uint8Array): void {
    this.digest.write(bytes);
  }
  reset(): void {
    this.digest.reset();
  }
  tag(): string {
    return digestTag(this.digest.close());
  }
}
