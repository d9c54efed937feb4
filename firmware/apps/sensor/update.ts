/**
 * Over-the-air update of the sensor from a JetStream Object Store bucket: the object is streamed
 * piece by piece into the update partition (Moddable's `ota`), never held in RAM; its SHA-256 is
 * computed while it streams (nats-xs/obj hashes every piece with `crypt`'s Digest) and compared
 * with the object's digest after the last byte; the image is activated (`complete()`) only when
 * the size and the digest both match, otherwise the partition write is cancelled and the running
 * image stays. The new image boots pending verification and must call markImageGood() once it
 * works (it has connected), or the bootloader brings the previous image back at the next boot.
 *
 *   const result = await updateFromObjectStore(os, "sensor-1.2.0", (bytes, size) => report(bytes, size));
 *   reboot();
 */
import OTA from "ota";
import { lastInvalid, markValid, next, restart, running, state } from "ota/boot";
import type { ImageState } from "ota/boot";
import { DigestMismatchError, ObjectStoreError } from "nats-xs/obj";
import type { ObjectInfo, ObjectStore } from "nats-xs/obj";
import { nameErrors } from "nats-xs";

/** Base class of the update errors; the running image stays whatever the error. */
export class UpdateError extends Error {
  /** What failed underneath (the store's or the partition's error), when anything did. */
  override readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.cause = cause;
  }
}

/** The image's bytes do not hash to the object's digest (or to the digest the caller expected). */
export class ImageDigestError extends UpdateError {
}

/** The image is larger than the update partition: refused before a byte is written. */
export class ImageTooLargeError extends UpdateError {
  readonly size: number;
  readonly partitionBytes: number;
  constructor(name: string, size: number, partitionBytes: number) {
    super(`image ${JSON.stringify(name)} has ${size} bytes, more than the ${partitionBytes}-byte update partition holds`);
    this.size = size;
    this.partitionBytes = partitionBytes;
  }
}

/** The transfer stopped before the image was whole: the connection was lost, the chunks stopped
 *  coming (three missed heartbeats), or the store sent something that is not the object (chunks
 *  that do not add up to the meta's size, a lost chunk); `cause` is the store's error. */
export class UpdateInterruptedError extends UpdateError {
  /** Bytes written into the partition before it stopped. */
  readonly bytes: number;
  constructor(message: string, bytes: number, cause: unknown) {
    super(message, cause);
    this.bytes = bytes;
  }
}

/** Called as the image streams: bytes written so far and the image's size; at most about 32
 *  times per image, and once with bytes === size. A throw from it cancels the update. */
export type UpdateProgress = (bytes: number, size: number) => void;

/** Options of updateFromObjectStore(). */
export interface UpdateOptions {
  /** The digest the image must have ("SHA-256=<base64url>", as ObjectInfo.digest), when the
   *  command that asked for the update says it: the object's meta must agree before a byte moves. */
  digest?: string;
  /** Milliseconds between the server's idle heartbeats while the chunks stream; three quiet
   *  ones interrupt the update (default 5000). */
  heartbeat?: number;
}

/** What a finished update wrote: the image boots from `partition` at the next restart. */
export interface UpdateResult {
  name: string;
  size: number;
  digest: string;
  revision: number;
  partition: string;
}

/** Where the running image stands (see "ota/boot"). */
export interface BootInfo {
  /** "factory", "ota_0" or "ota_1". */
  partition: string;
  state: ImageState;
  /** True while the image has not been marked good: a reboot or a crash now rolls it back. */
  pendingVerify: boolean;
  /** The label of the last image refused at boot or rolled back ("" when none). */
  lastInvalid: string;
}

/** The partition sink: counts, bounds and forwards each piece to the OTA writer. */
class ImageSink {
  private readonly ota: OTA;
  private readonly size: number;
  private readonly progress: UpdateProgress | undefined;
  private readonly step: number;
  private next: number;
  bytes = 0;

  constructor(ota: OTA, size: number, progress: UpdateProgress | undefined) {
    this.ota = ota;
    this.size = size;
    this.progress = progress;
    this.step = Math.max(4096, Math.ceil(size / 32));
    this.next = this.step;
  }

  write(view: Uint8Array): void {
    const bytes = this.bytes + view.length;
    // the store checks this too; the partition is not trusted to the store
    if (bytes > this.size) throw new UpdateError(`the image has more bytes than its meta says (${this.size})`);
    try {
      this.ota.write(view);
    } catch (e) {
      throw new UpdateError(`the update partition refused a write after ${this.bytes} bytes: ${(e as Error).message}`, e);
    }
    this.bytes = bytes;
    const p = this.progress;
    if (p !== undefined && (bytes >= this.next || bytes === this.size)) {
      this.next = bytes + this.step;
      p(bytes, this.size);
    }
  }
}

/**
 * Streams the object `name` of `os` into the update partition and activates it when whole and
 * correct; resolves with what was written (reboot() to run it). Rejects, with the running image
 * left in place and the partition write cancelled, with ImageTooLargeError, ImageDigestError,
 * UpdateInterruptedError, or UpdateError (no such object, the running image not yet marked good,
 * another update being written, the partition refusing the image). One update at a time.
 */
export async function updateFromObjectStore(os: ObjectStore, name: string, onProgress?: UpdateProgress, opts: UpdateOptions = {}): Promise<UpdateResult> {
  if (onProgress !== undefined && typeof onProgress !== "function") throw new UpdateError("onProgress must be a function");
  for (const k in opts) if (k !== "digest" && k !== "heartbeat") throw new UpdateError(`update option ${JSON.stringify(k)} is not supported`);
  if (state() === "pending-verify") throw new UpdateError("the running image has not been marked good yet (markImageGood()); it cannot be replaced before");
  let info: ObjectInfo | null;
  try {
    info = await os.info(name);
  } catch (e) {
    if (e instanceof ObjectStoreError) throw new UpdateError(`image ${JSON.stringify(name)} cannot be read: ${e.message}`, e);
    throw new UpdateInterruptedError(`the image's info could not be read: ${(e as Error).message}`, 0, e);
  }
  if (info === null || info.deleted) throw new UpdateError(`no image ${JSON.stringify(name)} in bucket ${os.bucket}`);
  if (opts.digest !== undefined && opts.digest !== info.digest) throw new ImageDigestError(`image ${JSON.stringify(name)} has digest ${info.digest}, not the expected ${opts.digest}`);
  const partition = next();
  if (info.size > partition.bytes) throw new ImageTooLargeError(name, info.size, partition.bytes);
  if (info.size === 0) throw new UpdateError(`image ${JSON.stringify(name)} is empty`);

  let ota: OTA;
  try {
    ota = new OTA();
  } catch (e) {
    throw new UpdateError(`the update partition could not be opened: ${(e as Error).message}`, e);
  }
  const sink = new ImageSink(ota, info.size, onProgress);
  let got: ObjectInfo;
  try {
    got = await os.get(name, sink, opts.heartbeat === undefined ? {} : { heartbeat: opts.heartbeat });
  } catch (e) {
    ota.cancel();
    if (e instanceof DigestMismatchError) throw new ImageDigestError(`image ${JSON.stringify(name)} is corrupt: ${e.message}`, e);
    if (e instanceof UpdateError) throw e;
    throw new UpdateInterruptedError(`the update stopped after ${sink.bytes} of ${info.size} bytes: ${(e as Error).message}`, sink.bytes, e);
  }
  // get() read the meta again: the object may have been replaced in between
  if (got.digest !== info.digest || got.size !== sink.bytes) {
    ota.cancel();
    throw new UpdateError(`image ${JSON.stringify(name)} changed while it was read; try again`);
  }
  try {
    ota.complete();
  } catch (e) {
    throw new UpdateError(`the partition refused the image: ${(e as Error).message}`, e);
  }
  return { name, size: got.size, digest: got.digest, revision: got.revision, partition: partition.label };
}

/** The running image works (call it once connected): it stays at the next boot instead of being
 *  rolled back. Harmless when already marked, or for the factory image. */
export function markImageGood(): void {
  markValid();
}

/** Reboots now (into the new image after a finished update). Flush what must go out first. */
export function reboot(): never {
  return restart();
}

/** Where the running image stands. */
export function bootInfo(): BootInfo {
  const s = state();
  return { partition: running(), state: s, pendingVerify: s === "pending-verify", lastInvalid: lastInvalid() ?? "" };
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [UpdateError, "UpdateError"],
  [ImageDigestError, "ImageDigestError"],
  [ImageTooLargeError, "ImageTooLargeError"],
  [UpdateInterruptedError, "UpdateInterruptedError"],
]);
