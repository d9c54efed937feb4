/**
 * The bridge's second link store: the JetStream Object Store (ADR-20), over the NATS connection the
 * device already holds, instead of an HTTP file server. The envelope's link URL names the object:
 *
 *   nats-os://<bucket>/<object name, percent-encoded as encodeURIComponent does, "/" kept>
 *
 * A NATSBridge peer that knows only HTTP links parses such an envelope as any other link and gets
 * its HTTP client's error for a scheme it does not fetch; a nats-xs receiver (or a peer with
 * `@nats-io/obj`) reads the object named there.
 *
 * `nats-xs/obj` is loaded with `import()` when an object link is first sent or received, so an app
 * that never uses one does not carry the Object Store; a build without it gets the core's
 * TransportUnavailableError naming manifests/nats-xs-obj.
 */
import { TransportUnavailableError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import type { ObjectInfo, ObjectStore } from "nats-xs/obj";
import { BridgeError, DigestError, LinkError, OBJECT_LINK_SCHEME, PayloadLimitError, PayloadSizeError } from "./errors.js";
import { DIGEST_KEY, parseDigestTag } from "./digest.js";
import type { MessagePayload } from "./envelope.js";
import type { PayloadSink } from "./scanner.js";
import type { Outgoing, PayloadSource } from "./writer.js";
import { uuid4 } from "./ids.js";
import { MAX_URL_BYTES, Progress } from "./link.js";
import type { LinkSettings } from "./link.js";

/** Longest object name accepted in a link (decoded, in UTF-16 units). */
export const MAX_OBJECT_NAME = 1024;

/** Where a validated object link points. */
export class ObjectLinkTarget {
  readonly bucket: string;
  readonly name: string;
  constructor(bucket: string, name: string) {
    this.bucket = bucket;
    this.name = name;
  }
}

/** Whether `url` is an object link (its scheme, exactly as written: lower case). */
export function isObjectLink(url: string): boolean {
  return typeof url === "string" && url.startsWith(OBJECT_LINK_SCHEME);
}

/** A bucket name as ADR-20 allows: 1 to 240 of `A-Z a-z 0-9 _ -`. */
export function validBucket(name: string): boolean {
  if (name.length === 0 || name.length > 240) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45)) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Checks an object link from an envelope: at most 2048 characters of printable ASCII (no space,
 * controls or `"<>\^`{|}`; `%` followed by two hex digits), `nats-os://`, a valid bucket name, `/`,
 * then a non-empty object name of at most 1024 characters once percent-decoded (valid UTF-8), with
 * no control character. Throws LinkError.
 */
export function validateObjectLink(url: string): ObjectLinkTarget {
  const bad = (why: string): never => {
    throw new LinkError(`refused an object link: ${why}`, url.length > 120 ? `${url.substring(0, 120)}...` : url);
  };
  if (typeof url !== "string" || !url.startsWith(OBJECT_LINK_SCHEME)) bad(`it does not start with ${OBJECT_LINK_SCHEME}`);
  if (url.length > MAX_URL_BYTES) bad(`it is longer than ${MAX_URL_BYTES} characters`);
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 32 || c >= 127) bad(`character ${c} at ${i} (spaces, controls, CR, LF and non-ASCII are not allowed)`);
    if (c === 34 || c === 60 || c === 62 || c === 92 || c === 94 || c === 96 || c === 123 || c === 124 || c === 125) bad(`character '${String.fromCharCode(c)}' at ${i}`);
    if (c === 37 && !(i + 2 < url.length && isHex(url.charCodeAt(i + 1)) && isHex(url.charCodeAt(i + 2)))) bad(`a '%' not followed by two hex digits at ${i}`);
  }
  const start = OBJECT_LINK_SCHEME.length;
  const slash = url.indexOf("/", start);
  const bucket = slash < 0 ? url.substring(start) : url.substring(start, slash);
  if (!validBucket(bucket)) bad("a bad bucket name (1 to 240 of A-Z a-z 0-9 _ -)");
  if (slash < 0 || slash === url.length - 1) bad("no object name");
  let name = "";
  try {
    name = decodeURIComponent(url.substring(slash + 1));
  } catch {
    bad("an object name that is not UTF-8 once decoded");
  }
  if (name.length > MAX_OBJECT_NAME) bad(`an object name longer than ${MAX_OBJECT_NAME} characters`);
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 32 || name.charCodeAt(i) === 127) bad("a control character in the object name");
  return new ObjectLinkTarget(bucket, name);
}

/** The link URL of an object: encodeURIComponent of each `/`-separated part of the name. */
export function objectLinkUrl(bucket: string, name: string): string {
  const parts = name.split("/");
  for (let i = 0; i < parts.length; i++) parts[i] = encodeURIComponent(parts[i]);
  return `${OBJECT_LINK_SCHEME}${bucket}/${parts.join("/")}`;
}

/** The object name a payload is stored under: a fresh UUID, `/`, its dataname ("payload" when
 *  empty; a "/" in it becomes "_"). Unique, so that two senders never overwrite each other. */
export function objectNameFor(dataname: string): string {
  let s = "";
  for (let i = 0; i < dataname.length; i++) {
    const c = dataname.charCodeAt(i);
    s += c < 32 || c === 47 || c === 127 ? "_" : dataname[i];
  }
  return `${uuid4()}/${s === "" ? "payload" : s}`;
}

/** The public API of nats-xs/obj this file uses. */
interface ObjModule {
  Objm: new (nc: NatsConnection) => { open(bucket: string): Promise<ObjectStore> };
}

/** Opens `bucket` through nats-xs/obj, loaded on first use. */
async function openBucket(nc: NatsConnection, bucket: string, url: string): Promise<ObjectStore> {
  let m: ObjModule;
  try {
    // written out so that bundlers and manifests see the specifier
    m = (await import("nats-xs/obj")) as unknown as ObjModule;
  } catch (e) {
    throw new TransportUnavailableError(`the object link ${url}`, "nats-xs/obj", "manifests/nats-xs-obj/manifest.json", e);
  }
  try {
    return await new m.Objm(nc).open(bucket);
  } catch (e) {
    const name = (e as Error).name;
    if (name === "StreamNotFoundError") throw new LinkError(`there is no object store bucket ${JSON.stringify(bucket)}`, url, 404, e);
    throw new LinkError(`could not open the object store bucket ${JSON.stringify(bucket)}: ${(e as Error).message}`, url, 0, e);
  }
}

/**
 * Puts one payload into the bucket and returns its link URL; the payload's metadata gets the
 * object's digest (a copy of the caller's metadata). Memory: nats-xs/obj's put (a 1 KB piece).
 */
export async function uploadObject(nc: NatsConnection, bucket: string, item: Outgoing, s: LinkSettings): Promise<string> {
  const name = objectNameFor(item.payload.dataname);
  const url = objectLinkUrl(bucket, name);
  const os = await openBucket(nc, bucket, url);
  const bytes = item.bytes;
  const src: PayloadSource =
    bytes !== null
      ? {
          size: bytes.length,
          read(offset: number, into: Uint8Array): number {
            const n = Math.min(into.length, bytes.length - offset);
            into.set(bytes.subarray(offset, offset + n));
            return n;
          },
        }
      : (item.source as PayloadSource);
  const dataname = item.payload.dataname;
  const progress = s.progress === null ? null : new Progress(s, "upload", dataname);
  const counted: PayloadSource =
    progress === null
      ? src
      : {
          size: src.size,
          read(offset: number, into: Uint8Array): number | Promise<number> {
            const r = src.read(offset, into);
            if (typeof r === "number") {
              progress.report(offset + r, src.size);
              return r;
            }
            return r.then((n) => {
              progress.report(offset + n, src.size);
              return n;
            });
          },
        };
  let info: ObjectInfo;
  try {
    info = await os.put({ name, description: dataname }, counted, { pieceBytes: s.http.bufferBytes });
  } catch (e) {
    if (e instanceof BridgeError) throw e;
    throw new LinkError(`could not put the payload into the object store: ${(e as Error).message}`, url, 0, e);
  }
  const meta: Record<string, unknown> = {};
  for (const k of Object.keys(item.payload.metadata)) meta[k] = item.payload.metadata[k];
  meta[DIGEST_KEY] = info.digest;
  item.payload.metadata = meta;
  return url;
}

function sameDigest(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return false;
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Counts what reaches the sink against the declared size and the limit, and reports progress. */
class CountingSink {
  got = 0;
  private readonly p: MessagePayload;
  private readonly sink: PayloadSink;
  private readonly limit: number;
  private readonly size: number;
  private readonly progress: Progress | null;
  constructor(p: MessagePayload, sink: PayloadSink, limit: number, size: number, s: LinkSettings) {
    this.p = p;
    this.sink = sink;
    this.limit = limit;
    this.size = size;
    this.progress = s.progress === null ? null : new Progress(s, "download", p.dataname);
  }
  write(view: Uint8Array): void {
    const got = this.got + view.length;
    if (got > this.size) throw new PayloadSizeError(this.p.dataname, this.size, got);
    if (got > this.limit) throw new PayloadLimitError(`linked payload ${JSON.stringify(this.p.dataname)}`, got, this.limit, "raise max_size in the receive options and give a sink");
    this.sink.write(view);
    this.got = got;
    if (this.progress !== null) this.progress.report(got, this.size);
  }
}

/**
 * Reads an object link into `sink`: the object's info first (its size against the declared size
 * and `limit`, its digest against the one the envelope declares), then its chunks through
 * nats-xs/obj, which checks their SHA-256 after the last byte. The caller validated the URL and
 * the bucket first. Memory: nats-xs/obj's get (no chunk is held).
 */
export async function downloadObject(nc: NatsConnection, target: ObjectLinkTarget, p: MessagePayload, sink: PayloadSink, limit: number, s: LinkSettings, want: Uint8Array | null): Promise<void> {
  const url = p.url;
  const os = await openBucket(nc, target.bucket, url);
  let info: ObjectInfo | null;
  try {
    info = await os.info(target.name);
  } catch (e) {
    throw new LinkError(`could not read the object's info: ${(e as Error).message}`, url, 0, e);
  }
  if (info === null || info.deleted) throw new LinkError(`there is no object ${JSON.stringify(target.name)} in bucket ${target.bucket}`, url, 404);
  if (p.size >= 0 && info.size !== p.size) throw new PayloadSizeError(p.dataname, p.size, info.size);
  if (info.size > limit) throw new PayloadLimitError(`linked payload ${JSON.stringify(p.dataname)}`, info.size, limit, "raise max_size in the receive options and give a sink");
  if (want !== null && !sameDigest(want, parseDigestTag(info.digest)))
    throw new DigestError(p.dataname, "names an object whose SHA-256 digest is not the one its envelope declares: the object was replaced or the envelope is wrong", String(p.metadata[DIGEST_KEY]), info.digest);
  const counting = new CountingSink(p, sink, limit, info.size, s);
  let got: ObjectInfo;
  try {
    got = await os.get(target.name, counting, { heartbeat: 5000 });
  } catch (e) {
    const name = (e as Error).name;
    if (name === "DigestMismatchError") {
      const d = e as unknown as { expected: string; computed: string };
      throw new DigestError(p.dataname, "does not match its object's SHA-256 digest: the object is corrupt", d.expected, d.computed);
    }
    if (name === "ObjectNotFoundError") throw new LinkError(`there is no object ${JSON.stringify(target.name)} in bucket ${target.bucket}`, url, 404, e);
    if (e instanceof BridgeError) throw e;
    throw new LinkError(`the object could not be read: ${(e as Error).message}`, url, 0, e);
  }
  // get() read the object its own info named: the digest it checked must be the declared one
  if (want !== null && !sameDigest(want, parseDigestTag(got.digest)))
    throw new DigestError(p.dataname, "was replaced while it was read: its digest is not the one its envelope declares", String(p.metadata[DIGEST_KEY]), got.digest);
  if (counting.got !== info.size) throw new PayloadSizeError(p.dataname, info.size, counting.got);
  if (p.size < 0) p.size = counting.got;
}
