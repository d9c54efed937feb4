/**
 * nats-xs/outbox-file: the JetStream outbox kept in a file of the device's storage
 * (`embedded:storage/files`: littlefs on ESP32, posix on lin), so that a publish accepted before a
 * power loss reaches its stream after the reboot, once.
 *
 *   import files from "embedded:storage/files";
 *   import { jetstream } from "nats-xs/jetstream";
 *   import { fileStore } from "nats-xs/outbox-file";
 *   const js = jetstream(nc, { outboxStore: fileStore(files, "outbox") });
 *
 * The app passes the directory: this module never imports embedded:storage/files, whose module
 * body calls natives that a manifest's preloader cannot run, so this one can be preloaded.
 *
 * The file is a journal (see journal.ts): each accepted publish appends an "added" record and each
 * settled one a "settled" record, each written and flushed before the call returns. RAM holds one
 * number per entry (where its record is); the entry is read back at each send. When settled records
 * and the entries they settle pass `compactAt` bytes, the live records are copied to `<path>.new`,
 * flushed, and moved over the file (an atomic rename on littlefs and posix), so a power loss
 * during a compaction leaves either the old file or the new one, whole.
 */
import type { Directory, File } from "embedded:storage/files";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import { InvalidArgumentError } from "nats-xs";
import type { MsgHdrs } from "nats-xs";
import type { OutboxRecord, OutboxStore, OutboxStoreStatus } from "nats-xs/jetstream";
import { Entries } from "./entries.js";
import { CHECKSUM, HEAD, Kind, MAGIC, MAX_RECORD, SETTLED_BODY, addedRecord, check, get32, parseAdded, settledRecord } from "./journal.js";

/** Options of fileStore(). */
export interface FileStoreOptions {
  /** Bytes the file may take (default 32768): a publish that does not fit, even after a
   *  compaction, is refused with OutboxFullError. Replay reads no further than this. */
  maxBytes?: number;
  /** Bytes of settled records (and the entries they settle) that start a compaction (default
   *  half of maxBytes). */
  compactAt?: number;
}

const KNOWN = Object.freeze(["maxBytes", "compactAt"]);
/** Where a record is, as one number: its offset times 65,536 plus its bytes (at most MAX_RECORD). */
const SPAN = 65536;

/** An OutboxStore in the file `path` of a directory of `embedded:storage/files` (its default export,
 *  the root, or one opened from it). */
export class FileStore implements OutboxStore {
  readonly path: string;
  private readonly dir: Directory;
  private readonly maxBytes: number;
  private readonly compactAt: number;
  private file: File | null = null;
  /** Where the next record goes (the valid end of the file). */
  private end = 0;
  /** Bytes of settled records and of the entries they settled. */
  private garbage = 0;
  /** Entries held: key -> offset * SPAN + bytes of its record, in publish order. */
  private readonly live = new Entries();
  private nextKey = 1;
  private encoder: TextEncoder | null = null;
  private decoder: TextDecoder | null = null;
  private restored = 0;
  private corrupt = 0;
  private discarded = 0;
  private compactions = 0;
  private error: string | undefined = undefined;

  constructor(directory: Directory, path: string, options: FileStoreOptions = {}) {
    if (directory === null || typeof directory !== "object" || typeof directory.openFile !== "function")
      throw new InvalidArgumentError('fileStore() needs the directory first: import files from "embedded:storage/files"; fileStore(files, "outbox")');
    if (typeof path !== "string" || path.length === 0) throw new InvalidArgumentError("fileStore() needs a file path relative to the files root");
    if (options === null || typeof options !== "object") throw new InvalidArgumentError("fileStore() takes an options object");
    for (const k in options) if (KNOWN.indexOf(k) < 0) throw new InvalidArgumentError(`fileStore option ${JSON.stringify(k)} is not supported`);
    const max = options.maxBytes ?? 32768;
    if (!Number.isSafeInteger(max) || max < 256) throw new InvalidArgumentError("fileStore maxBytes must be an integer >= 256");
    const at = options.compactAt ?? max >> 1;
    if (!Number.isSafeInteger(at) || at < 0 || at > max) throw new InvalidArgumentError("fileStore compactAt must be an integer from 0 to maxBytes");
    this.path = path;
    this.dir = directory;
    this.maxBytes = max;
    this.compactAt = at;
  }

  status(): OutboxStoreStatus {
    const s: OutboxStoreStatus = {
      entries: this.live.size,
      bytes: this.end,
      maxBytes: this.maxBytes,
      restored: this.restored,
      corrupt: this.corrupt,
      discarded: this.discarded,
      compactions: this.compactions,
    };
    if (this.error !== undefined) s.error = this.error;
    return s;
  }

  open(): Uint32Array {
    this.close();
    this.live.clear();
    this.garbage = 0;
    this.nextKey = 1;
    this.restored = this.corrupt = this.discarded = 0;
    this.error = undefined;
    // a compaction cut short by a power loss: the old file is still whole
    this.dir.delete(this.temporary());
    const exists = this.dir.status(this.path).mode !== 0;
    const f = this.dir.openFile({ path: this.path, mode: exists ? "r+" : "w+" });
    this.file = f;
    const size = f.status().size ?? 0;
    this.end = this.replay(f, size);
    if (this.end < 4 || this.live.size === 0) this.reset(f);
    else if (this.end !== size) {
      f.setSize(this.end); // appends go where the valid records end
      f.flush();
    }
    this.restored = this.live.size;
    return this.live.keys();
  }

  add(subject: string, headers: MsgHdrs | string, data: Uint8Array | string | undefined): number {
    this.opened();
    const key = this.nextKey;
    if (key > 0xfffffff0) return -1; // keys run out only if the file never empties in 4 billion publishes
    const record = addedRecord(key, subject, headers, data, (this.encoder ??= new TextEncoder()));
    if (record === null) return -1;
    if (this.end + record.length > this.maxBytes && this.garbage > 0) this.compact();
    if (this.end + record.length > this.maxBytes) return -1;
    this.append(this.opened(), record);
    this.live.push(key, (this.end - record.length) * SPAN + record.length);
    this.nextKey = key + 1;
    return key;
  }

  read(key: number): OutboxRecord {
    const where = this.live.get(key);
    if (where === 0) throw new Error(`the outbox file holds no entry ${key}`);
    const bytes = where % SPAN;
    const body = new Uint8Array(this.opened().read(bytes - HEAD, (where - bytes) / SPAN + HEAD));
    if (body.length !== bytes - HEAD || body[0] !== Kind.Added || get32(body, 1) !== key) throw new Error(`the outbox file changed under entry ${key}`);
    return parseAdded(body, (this.decoder ??= new TextDecoder()));
  }

  remove(key: number): void {
    const f = this.opened();
    const where = this.live.delete(key);
    if (where === 0) return;
    if (this.live.size === 0) {
      this.reset(f); // nothing waits: start the file over instead of appending
      return;
    }
    this.append(f, settledRecord(key));
    this.garbage += (where % SPAN) + HEAD + SETTLED_BODY;
    if (this.garbage > this.compactAt) this.compact();
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }

  private opened(): File {
    if (this.file === null) throw new Error("the outbox file is closed");
    return this.file;
  }

  private temporary(): string {
    return `${this.path}.new`;
  }

  /** Writes a record at the end and flushes it; on a failure the end is cut back to the last
   *  valid record (a half-written one would stop every later replay). */
  private append(f: File, record: Uint8Array): void {
    try {
      f.write(record, this.end);
      f.flush();
    } catch (e) {
      try {
        f.setSize(this.end);
      } catch {
        // replay stops at the torn record anyway
      }
      throw e;
    }
    this.end += record.length;
  }

  /** Empties the file to its magic. */
  private reset(f: File): void {
    f.setSize(0);
    f.write(Uint8Array.from(MAGIC), 0);
    f.flush();
    this.end = 4;
    this.garbage = 0;
    this.live.clear();
    this.nextKey = 1;
  }

  /** Reads the records of a file of `size` bytes into live; returns where the valid ones end. */
  private replay(f: File, size: number): number {
    if (size === 0) return 0;
    const head = new Uint8Array(HEAD);
    if (f.read(head.subarray(0, 4), 0) !== 4 || head[0] !== MAGIC[0] || head[1] !== MAGIC[1] || head[2] !== MAGIC[2] || head[3] !== MAGIC[3])
      return this.damaged(0, size, "not an outbox file (no NXO1 magic)");
    const limit = size < this.maxBytes ? size : this.maxBytes;
    let at = 4;
    while (at < size) {
      if (at + HEAD > limit) return at + HEAD > size ? this.torn(at, size) : this.damaged(at, size, "the file is longer than maxBytes");
      f.read(head, at);
      const length = get32(head, 0);
      // a tail of zeros: space the file system gave the last write, which never landed
      if (length === 0 && get32(head, 4) === 0 && this.zeros(f, at, size)) return this.torn(at, size);
      if (length < SETTLED_BODY || HEAD + length > MAX_RECORD) return this.damaged(at, size, `record length ${length} out of bounds`);
      if (at + HEAD + length > size) return this.torn(at, size);
      if (at + HEAD + length > limit) return this.damaged(at, size, "the file is longer than maxBytes");
      const body = new Uint8Array(f.read(length, at + HEAD));
      const why = check(head, body);
      // a last record whose checksum fails was being written at the power loss; one whose
      // checksum holds but whose fields do not was never written by us
      if (why !== "") return why === CHECKSUM && at + HEAD + length === size ? this.torn(at, size) : this.damaged(at, size, why);
      const key = get32(body, 1);
      if (body[0] === Kind.Added) {
        // keys are given out in increasing order, and files keep it
        if (key <= this.live.lastKey || key > 0xfffffff0) return this.damaged(at, size, `key ${key} out of order`);
        this.live.push(key, at * SPAN + HEAD + length);
        this.nextKey = key + 1;
      } else {
        this.garbage += (this.live.delete(key) % SPAN) + HEAD + length;
      }
      at += HEAD + length;
    }
    return at;
  }

  /** Whether the file holds only zeros from `at` to `size` (read 256 bytes at a time). */
  private zeros(f: File, at: number, size: number): boolean {
    const chunk = new Uint8Array(256);
    for (let p = at; p < size; p += 256) {
      const n = f.read(chunk, p);
      for (let i = 0; i < n; i++) if (chunk[i] !== 0) return false;
    }
    return true;
  }

  /** The last record was cut short by a power loss: what it holds was never accepted. */
  private torn(at: number, size: number): number {
    this.discarded = size - at;
    return at;
  }

  /** A record that cannot be one of ours: the replay stops there, counted and reported. */
  private damaged(at: number, size: number, why: string): number {
    this.corrupt++;
    this.discarded = size - at;
    this.error = `${this.path} at byte ${at}: ${why}; ${size - at} bytes discarded`;
    return at;
  }

  /** Copies the live records to `<path>.new`, then moves it over the file. */
  private compact(): void {
    const old = this.opened();
    const temporary = this.temporary();
    const live = this.live;
    const n = this.dir.openFile({ path: temporary, mode: "w+" });
    let end = 4;
    try {
      n.write(Uint8Array.from(MAGIC), 0);
      for (let i = 0; i < live.used; i++) {
        const where = live.whereAt(i);
        if (where === 0) continue;
        const bytes = where % SPAN;
        n.write(old.read(bytes, (where - bytes) / SPAN), end);
        end += bytes;
      }
      n.flush();
      n.close();
    } catch (e) {
      n.close();
      this.dir.delete(temporary);
      throw e;
    }
    old.close();
    this.file = null;
    try {
      this.dir.move(temporary, this.path);
    } finally {
      // the new file after the move, or the old one, untouched, if the move failed
      this.file = this.dir.openFile({ path: this.path, mode: "r+" });
    }
    // the records moved up in the same order: their new offsets
    end = 4;
    for (let i = 0; i < live.used; i++) {
      const where = live.whereAt(i);
      if (where === 0) continue;
      const bytes = where % SPAN;
      live.setWhereAt(i, end * SPAN + bytes);
      end += bytes;
    }
    this.end = end;
    this.garbage = 0;
    this.compactions++;
  }
}

/** A persistent store for the JetStream outbox in the file `path` of `directory` (the default
 *  export of embedded:storage/files, or a directory opened from it):
 *  `jetstream(nc, { outboxStore: fileStore(files, "outbox") })`. */
export function fileStore(directory: Directory, path: string, options?: FileStoreOptions): FileStore {
  return new FileStore(directory, path, options);
}
