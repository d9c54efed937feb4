/**
 * One object store bucket (nats.js `ObjectStore`), stored as ADR-20 says: the stream
 * `OBJ_<bucket>`, chunks on `$O.<bucket>.C.<nuid>`, each object's meta (the last one wins, by
 * rollup) on `$O.<bucket>.M.<name as base64url with padding>`.
 */
import { headers, InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import type { JetStreamClient, JetStreamManager, StreamInfo } from "nats-xs/jetstream";
import { base64url, digestField } from "./codec.js";
import { ObjectNotFoundError, ObjectStoreError } from "./errors.js";
import { nestsWithin, parseMeta } from "./meta.js";
import type { ObjectInfo, ObjectStoreMeta } from "./meta.js";
import { randomToken } from "./random.js";
import { ChunkReader } from "./reader.js";
import type { ObjectSink } from "./reader.js";
import { ChunkWriter } from "./writer.js";
import { ObjectWatcher } from "./watch.js";
import type { PayloadSource } from "./writer.js";

/** Options of put(). */
export interface ObjectPutOptions {
  /** nats-xs: bytes read from the source per piece (default 1024). */
  pieceBytes?: number;
  /** Milliseconds to wait for each chunk's ack (default 10000). */
  timeout?: number;
}

/** Options of get(). */
export interface ObjectGetOptions {
  /** nats-xs: milliseconds between the server's idle heartbeats; three quiet ones fail the get (default 5000). */
  heartbeat?: number;
}

/** What status() reports (nats.js `ObjectStoreStatus`). */
export interface ObjectStoreStatus {
  bucket: string;
  description: string;
  ttl: number;
  storage: string;
  replicas: number;
  sealed: boolean;
  size: number;
  backingStore: "JetStream";
  streamInfo: StreamInfo;
}

/** Options of watch() (nats.js names, and the device's own). */
export interface ObjectWatchOptions {
  ignoreDeletes?: boolean;
  includeHistory?: boolean;
  initializedFn?: () => void;
  /** nats-xs: each info as it comes; without it, read the watch with `for await`. */
  callback?: (info: ObjectInfo) => void;
  /** nats-xs: bytes of infos waiting for `for await`, each its meta's size + 256 (default 8192);
   *  beyond it infos are dropped and counted in status(). */
  maxQueueBytes?: number;
  /** nats-xs: milliseconds between the server's idle heartbeats (default 5000). */
  heartbeat?: number;
}

const WATCH_KEYS = Object.freeze(["ignoreDeletes", "includeHistory", "initializedFn", "callback", "maxQueueBytes", "heartbeat"]);
const DEFAULT_CHUNK = 128 * 1024;

function isPayloadSource(s: unknown): s is PayloadSource {
  return s !== null && typeof s === "object" && typeof (s as PayloadSource).read === "function" && typeof (s as PayloadSource).size === "number";
}

export class ObjectStore {
  readonly bucket: string;
  readonly stream: string;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;

  /** @internal Made by Objm.create() and Objm.open(). */
  constructor(js: JetStreamClient, jsm: JetStreamManager, bucket: string) {
    this.nc = js.nc;
    this.js = js;
    this.jsm = jsm;
    this.bucket = bucket;
    this.stream = `OBJ_${bucket}`;
  }

  private metaSubject(name: string): string {
    return `$O.${this.bucket}.M.${base64url(this.nc.encoder.encode(name))}`;
  }

  /** The object's info, deleted ones included (`deleted: true`); null when there is none. */
  async info(name: string): Promise<ObjectInfo | null> {
    if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError("an object needs a name");
    const sm = await this.jsm.direct.getMessage(this.stream, { last_by_subj: this.metaSubject(name) });
    if (sm === null) return null;
    return parseMeta(sm.data, this.nc.decoder, sm.seq);
  }

  /**
   * Stores an object read from `source`: the bridge's PayloadSource (`size`, `read(offset, into)`),
   * sent in chunks of `meta.options.max_chunk_size` (default 128 KiB) streamed from a small buffer;
   * or an async iterable of Uint8Array pieces, sent as chunks of up to min(max_chunk_size, 8 KiB).
   * Resolves with the info once the meta is stored; the object's earlier chunks are then purged.
   */
  async put(meta: ObjectStoreMeta, source: PayloadSource | AsyncIterable<Uint8Array> | null, opts: ObjectPutOptions = {}): Promise<ObjectInfo> {
    if (meta === null || typeof meta !== "object" || typeof meta.name !== "string" || meta.name.length === 0) throw new InvalidArgumentError("put needs meta with a name");
    for (const k in opts) if (k !== "pieceBytes" && k !== "timeout") throw new InvalidArgumentError(`put option ${JSON.stringify(k)} is not supported by nats-xs`);
    const maxPayload = this.nc.info?.max_payload ?? 1048576;
    let chunkSize = meta.options?.max_chunk_size ?? DEFAULT_CHUNK;
    if (typeof chunkSize !== "number" || !Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new InvalidArgumentError("options.max_chunk_size must be a whole number of bytes");
    chunkSize = Math.min(chunkSize, maxPayload - 1024);
    const pieceBytes = opts.pieceBytes ?? 1024;
    if (!Number.isSafeInteger(pieceBytes) || pieceBytes < 64) throw new InvalidArgumentError("pieceBytes must be at least 64");
    const old = await this.info(meta.name);
    const nuid = randomToken(22);
    const chunkSubject = `$O.${this.bucket}.C.${nuid}`;
    const w = new ChunkWriter(this.nc, chunkSubject, opts.timeout ?? 10000);
    w.start();
    try {
      if (isPayloadSource(source)) {
        const size = source.size;
        if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError("the source's size must be a whole number");
        const buffer = new Uint8Array(Math.min(pieceBytes, chunkSize, Math.max(size, 1)));
        let offset = 0;
        const fill = (into: Uint8Array): number | Promise<number> => {
          const r = source.read(offset, into);
          if (typeof r === "number") {
            offset += r;
            return r;
          }
          return r.then((k) => {
            offset += k;
            return k;
          });
        };
        while (offset < size) await w.chunk(Math.min(chunkSize, size - offset), buffer, fill);
      } else if (source !== null && source !== undefined) {
        if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== "function") throw new InvalidArgumentError("the source must be a PayloadSource or an async iterable of Uint8Array");
        // pieces are gathered into chunks of up to `cap` bytes: the buffer is the chunk
        const cap = Math.min(chunkSize, 8192);
        const buffer = new Uint8Array(cap);
        let fill = 0;
        // the chunk already sits at the start of `buffer`, which chunk() hands to give() as one piece
        const give = (into: Uint8Array): number => into.length;
        const send = async (): Promise<void> => {
          const n = fill;
          fill = 0;
          await w.chunk(n, buffer, give);
        };
        for await (const piece of source as AsyncIterable<Uint8Array>) {
          if (!(piece instanceof Uint8Array)) throw new InvalidArgumentError("the source gave something that is not a Uint8Array");
          let at = 0;
          while (at < piece.length) {
            const k = Math.min(cap - fill, piece.length - at);
            buffer.set(piece.subarray(at, at + k), fill);
            fill += k;
            at += k;
            if (fill === cap) await send();
          }
        }
        if (fill > 0) await send();
        chunkSize = cap;
      }
      await w.finish();
    } catch (e) {
      w.close();
      this.purge(chunkSubject).catch(() => {});
      throw e;
    }
    w.close();
    const info: Record<string, unknown> = {
      name: meta.name,
      description: meta.description ?? "",
      headers: meta.headers,
      options: { max_chunk_size: chunkSize },
      metadata: meta.metadata,
      bucket: this.bucket,
      nuid,
      size: w.size,
      mtime: new Date().toISOString(),
      chunks: w.chunks,
      digest: digestField(w.digest.close()),
      deleted: false,
    };
    const h = headers();
    h.set("Nats-Rollup", "sub");
    const ack = await this.js.publish(this.metaSubject(meta.name), JSON.stringify(info), { headers: h });
    if (old !== null && !old.deleted && old.nuid !== "") await this.purge(`$O.${this.bucket}.C.${old.nuid}`);
    info.revision = ack.seq;
    return info as unknown as ObjectInfo;
  }

  /** Stores `data` as an object (nats.js `putBlob`). */
  putBlob(meta: ObjectStoreMeta, data: Uint8Array): Promise<ObjectInfo> {
    return this.put(meta, {
      size: data.length,
      read(offset: number, into: Uint8Array): number {
        const n = Math.min(into.length, data.length - offset);
        into.set(data.subarray(offset, offset + n));
        return n;
      },
    });
  }

  /**
   * Reads the object into `sink` (each piece a view valid during `write`); resolves with its info
   * after the last byte, once the digest matched. Rejects with ObjectNotFoundError when there is no
   * such object, DigestMismatchError (after the last byte) when the bytes are not the object's.
   */
  async get(name: string, sink: ObjectSink, opts: ObjectGetOptions = {}): Promise<ObjectInfo> {
    if (sink === null || typeof sink !== "object" || typeof sink.write !== "function") throw new InvalidArgumentError("get needs a sink with write(view)");
    for (const k in opts) if (k !== "heartbeat") throw new InvalidArgumentError(`get option ${JSON.stringify(k)} is not supported by nats-xs`);
    const info = await this.info(name);
    if (info === null || info.deleted) throw new ObjectNotFoundError(`no object ${JSON.stringify(name)} in bucket ${this.bucket}`);
    if (info.options !== undefined && (info.options as Record<string, unknown>).link !== undefined) throw new ObjectStoreError(`object ${JSON.stringify(name)} is a link; nats-xs does not follow links`);
    await new ChunkReader(this.nc, this.jsm, this.stream, info, sink, opts.heartbeat ?? 5000).run();
    return info;
  }

  /** The object's bytes, when it has at most `maxBytes` (default 65536); null when there is none. */
  async getBlob(name: string, maxBytes = 65536): Promise<Uint8Array | null> {
    const info = await this.info(name);
    if (info === null || info.deleted) return null;
    if (info.size > maxBytes) throw new ObjectStoreError(`object ${JSON.stringify(name)} has ${info.size} bytes, more than the ${maxBytes} getBlob may hold; read it with get(name, sink)`);
    const out = new Uint8Array(info.size);
    let at = 0;
    await this.get(name, {
      write(view: Uint8Array): void {
        out.set(view, at);
        at += view.length;
      },
    });
    return out;
  }

  /** Deletes the object: a meta saying so, then its chunks purged. */
  async delete(name: string): Promise<{ success: boolean; purged: number }> {
    const info = await this.info(name);
    if (info === null) return { success: false, purged: 0 };
    const meta: Record<string, unknown> = { ...info, deleted: true, size: 0, chunks: 0, digest: "" };
    delete meta.revision;
    const h = headers();
    h.set("Nats-Rollup", "sub");
    await this.js.publish(this.metaSubject(name), JSON.stringify(meta), { headers: h });
    const purged = info.nuid === "" ? 0 : await this.purge(`$O.${this.bucket}.C.${info.nuid}`);
    return { success: true, purged };
  }

  /** The infos of the objects there are (deleted ones left out), at most `max` (default 256). */
  async list(max = 256): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let seq = 1;
    for (;;) {
      const sm = await this.jsm.direct.getMessage(this.stream, { seq, next_by_subj: `$O.${this.bucket}.M.>` });
      if (sm === null) return out;
      const info = parseMeta(sm.data, this.nc.decoder, sm.seq);
      if (!info.deleted) {
        if (out.length === max) throw new ObjectStoreError(`bucket ${this.bucket} has more than ${max} objects; list(max) with a larger max`);
        out.push(info);
      }
      seq = sm.seq + 1;
    }
  }

  /** Watches the bucket's objects: the last info of each (every one kept with `includeHistory`),
   *  then each change as it happens, to `callback` or through `for await`. */
  async watch(opts: ObjectWatchOptions = {}): Promise<ObjectWatcher> {
    if (opts === null || typeof opts !== "object") throw new InvalidArgumentError("watch options must be an object");
    for (const k in opts) if (WATCH_KEYS.indexOf(k) < 0) throw new InvalidArgumentError(`watch option ${JSON.stringify(k)} is not supported by nats-xs`);
    const n = (v: unknown, d: number, min: number, what: string): number => {
      if (v === undefined) return d;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`${what} must be a whole number >= ${min}`);
      return v;
    };
    const w = new ObjectWatcher(this.nc, this.jsm, {
      bucket: this.bucket,
      stream: this.stream,
      filter: `$O.${this.bucket}.M.>`,
      deliverPolicy: opts.includeHistory === true ? "all" : "last_per_subject",
      startSeq: 0,
      ignoreDeletes: opts.ignoreDeletes === true,
      callback: opts.callback ?? null,
      maxQueueBytes: n(opts.maxQueueBytes, 8192, 512, "maxQueueBytes"),
      heartbeat: n(opts.heartbeat, 5000, 100, "heartbeat"),
      initializedFn: opts.initializedFn ?? null,
    });
    await w.start();
    return w;
  }

  /** The bucket's settings and size. */
  async status(): Promise<ObjectStoreStatus> {
    const si = await this.jsm.streams.info(this.stream);
    const c = si.config;
    return {
      bucket: this.bucket,
      description: c.description ?? "",
      ttl: c.max_age ?? 0,
      storage: c.storage ?? "file",
      replicas: c.num_replicas ?? 1,
      sealed: c.sealed === true,
      size: si.state.bytes,
      backingStore: "JetStream",
      streamInfo: si,
    };
  }

  /** Deletes the bucket and everything in it. */
  destroy(): Promise<boolean> {
    return this.jsm.streams.delete(this.stream);
  }

  /** Purges the messages of one subject (the jetstream manager's purge takes no filter). */
  private async purge(subject: string): Promise<number> {
    const r = await this.nc.request(`${this.js.apiPrefix}.STREAM.PURGE.${this.stream}`, JSON.stringify({ filter: subject }), { timeout: 5000 });
    const d = r.data;
    if (d.length > 2048 || !nestsWithin(d, 3)) throw new ObjectStoreError("a purge reply is not one");
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(r.string()) as Record<string, unknown>;
    } catch {
      throw new ObjectStoreError("a purge reply is not JSON");
    }
    if (v === null || typeof v !== "object" || v.success !== true) throw new ObjectStoreError(`purging ${subject} failed`);
    const n = v.purged;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
}

export type { ObjectSink, PayloadSource };
