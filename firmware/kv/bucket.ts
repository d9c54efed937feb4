/**
 * One KV bucket (nats.js `Bucket`, the `KV` interface): values are messages on `$KV.<bucket>.<key>`
 * in the stream `KV_<bucket>`; a revision is the stream sequence. Reads are direct gets (answered
 * by any replica, no consumer); writes go through nats-xs/jetstream's publish with ack, so a put
 * made while disconnected waits in its bounded outbox and is stored once.
 */
import { checkNames, headers, InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { JetStreamApiCodes, JetStreamApiError } from "nats-xs/jetstream";
import type { JetStreamClient, JetStreamManager, StreamInfo } from "nats-xs/jetstream";
import { KvEntry, operationOf, parseTime } from "./entry.js";
import { validateKey } from "./keys.js";
import { KvWatcher } from "./watcher.js";
import type { KvWatchStats } from "./watcher.js";

/** What watch() starts from (nats.js `KvWatchInclude`). */
export const KvWatchInclude = Object.freeze({
  /** The last value of each key, then updates. */
  LastValue: "",
  /** Every revision kept, then updates. */
  AllHistory: "history",
  /** Updates only. */
  UpdatesOnly: "updates",
});

export interface KvWatchOptions {
  /** Key or keys to watch, wildcards allowed (default ">": every key). */
  key?: string | string[];
  /** A KvWatchInclude value (default LastValue). */
  include?: string;
  /** Leave out deletes and purges. */
  ignoreDeletes?: boolean;
  /** Entries without their values (keys and revisions only). */
  headers_only?: boolean;
  /** Start at this revision. */
  resumeFromRevision?: number;
  /** Called once the values there were at the start have all been handed out. */
  initializedFn?: () => void;
  /** nats-xs: each entry as it arrives (its value a view valid during the call); without it,
   *  read the watch with `for await`. */
  callback?: (e: KvEntry) => void;
  /** nats-xs: bytes of entries waiting to be read without a callback, each counted as key + value
   *  + 160; entries beyond it are dropped and counted in status() (default 8192). */
  maxQueueBytes?: number;
  /** nats-xs: milliseconds between the server's idle heartbeats; two missed and the consumer is
   *  made again (default 5000). */
  heartbeat?: number;
}

export interface KvPutOptions {
  /** Compare-and-set: the key's last revision must be this (0: the key must not exist). */
  previousSeq?: number;
  timeout?: number;
}

export interface KvDeleteOptions {
  previousSeq?: number;
}

/** What status() reports (nats.js `KvStatus`). */
export interface KvStatus {
  bucket: string;
  values: number;
  history: number;
  /** Milliseconds a value lives (0: for ever). */
  ttl: number;
  backingStore: "JetStream";
  size: number;
  replicas: number;
  max_bytes: number;
  storage: string;
  streamInfo: StreamInfo;
}

const WATCH_KEYS = Object.freeze(["key", "include", "ignoreDeletes", "headers_only", "resumeFromRevision", "initializedFn", "callback", "maxQueueBytes", "heartbeat"]);
const PUT_KEYS = Object.freeze(["previousSeq", "timeout"]);

function wholeNumber(v: unknown, what: string, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`${what} must be a whole number >= ${min}`);
  return v;
}

function checkOptions(o: unknown, known: readonly string[], what: string): void {
  if (o === undefined) return;
  if (o === null || typeof o !== "object") throw new InvalidArgumentError(`${what} options must be an object`);
  checkNames(o as object, known, `${what}()`);
}

export class Bucket {
  readonly bucket: string;
  readonly stream: string;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly prefix: string;
  private readonly direct: boolean;

  /** @internal Made by Kvm.create() and Kvm.open(). */
  constructor(js: JetStreamClient, jsm: JetStreamManager, bucket: string, info: StreamInfo) {
    this.nc = js.nc;
    this.js = js;
    this.jsm = jsm;
    this.bucket = bucket;
    this.stream = info.config.name;
    this.prefix = `$KV.${bucket}.`;
    this.direct = info.config.allow_direct === true;
  }

  /** The last entry of `key` (or its entry at `revision`), deletes and purges included; null when
   *  there is none. A direct get where the bucket allows it (nats.js and the nats CLI make buckets
   *  so); otherwise an ordered consumer on the key that stops once caught up. */
  async get(key: string, opts?: { revision?: number }): Promise<KvEntry | null> {
    validateKey(key);
    checkOptions(opts, ["revision"], "get");
    const subject = this.prefix + key;
    const rev = opts?.revision;
    if (!this.direct) return this.getByConsumer(key, rev !== undefined && rev > 0 ? wholeNumber(rev, "revision", 1) : 0);
    const q = rev !== undefined && rev > 0 ? { seq: wholeNumber(rev, "revision", 1) } : { last_by_subj: subject };
    const sm = await this.jsm.direct.getMessage(this.stream, q);
    if (sm === null || sm.subject !== subject) return null;
    const op = operationOf(sm.header.get("KV-Operation"));
    return new KvEntry(this.nc.decoder, this.bucket, key, sm.data, sm.seq, parseTime(sm.timestamp), op, 0, false);
  }

  /** get() on a bucket made without allow_direct (by older clients): the key's last entry, or the
   *  first at or after `revision`, which is the one asked for only when its revision matches. */
  private async getByConsumer(key: string, revision: number): Promise<KvEntry | null> {
    const w = await this._watch(key, revision > 0 ? "all" : "last_per_subject", revision, false, false, null, undefined, undefined, true, null);
    let found: KvEntry | null = null;
    try {
      for await (const e of w) {
        if (revision === 0) found = e;
        else {
          if (e.revision === revision) found = e;
          break;
        }
      }
    } finally {
      w.stop();
    }
    return found;
  }

  /** Sets `key`; resolves with its new revision. With `previousSeq`, only if that is its last. */
  async put(key: string, value: Uint8Array | string, opts?: KvPutOptions): Promise<number> {
    validateKey(key);
    checkOptions(opts, PUT_KEYS, "put");
    const o: { expect?: { lastSubjectSequence: number }; timeout?: number } = {};
    if (opts?.previousSeq !== undefined) o.expect = { lastSubjectSequence: wholeNumber(opts.previousSeq, "previousSeq", 0) };
    if (opts?.timeout !== undefined) o.timeout = opts.timeout;
    const ack = await this.js.publish(this.prefix + key, value, o);
    return ack.seq;
  }

  /** Sets `key` only when it has no value (never set, deleted or purged); a key that has one
   *  rejects with the server's JetStreamApiError (code 10071). */
  async create(key: string, value: Uint8Array | string): Promise<number> {
    let first: unknown;
    try {
      return await this.put(key, value, { previousSeq: 0 });
    } catch (e) {
      if (!(e instanceof JetStreamApiError) || e.code !== JetStreamApiCodes.StreamWrongLastSequence) throw e;
      first = e;
    }
    const e = await this.get(key);
    if (e !== null && e.operation !== "PUT") return this.put(key, value, { previousSeq: e.revision });
    throw first;
  }

  /** Compare-and-set: sets `key` only when its last revision is `revision`; otherwise the server's
   *  JetStreamApiError (code 10071). */
  update(key: string, value: Uint8Array | string, revision: number): Promise<number> {
    try {
      wholeNumber(revision, "revision", 1);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.put(key, value, { previousSeq: revision });
  }

  /** Marks `key` deleted (its history stays). */
  delete(key: string, opts?: KvDeleteOptions): Promise<void> {
    return this.mark(key, "DEL", opts);
  }

  /** Deletes `key` and every earlier revision of it. */
  purge(key: string, opts?: KvDeleteOptions): Promise<void> {
    return this.mark(key, "PURGE", opts);
  }

  private async mark(key: string, op: string, opts?: KvDeleteOptions): Promise<void> {
    validateKey(key);
    checkOptions(opts, ["previousSeq"], op === "DEL" ? "delete" : "purge");
    const h = headers();
    h.set("KV-Operation", op);
    if (op === "PURGE") h.set("Nats-Rollup", "sub");
    const o: { headers: typeof h; expect?: { lastSubjectSequence: number } } = { headers: h };
    if (opts?.previousSeq !== undefined) o.expect = { lastSubjectSequence: wholeNumber(opts.previousSeq, "previousSeq", 0) };
    await this.js.publish(this.prefix + key, undefined, o);
  }

  /** Watches keys: the starting values (per `include`), then every change, as they happen. */
  async watch(opts: KvWatchOptions = {}): Promise<KvWatcher> {
    checkOptions(opts, WATCH_KEYS, "watch");
    const include = opts.include ?? KvWatchInclude.LastValue;
    let policy: string;
    if (include === KvWatchInclude.LastValue) policy = "last_per_subject";
    else if (include === KvWatchInclude.AllHistory) policy = "all";
    else if (include === KvWatchInclude.UpdatesOnly) policy = "new";
    else throw new InvalidArgumentError(`include ${JSON.stringify(include)} is not a KvWatchInclude value`);
    const cb = opts.callback;
    if (cb !== undefined && typeof cb !== "function") throw new InvalidArgumentError("callback must be a function");
    const init = opts.initializedFn;
    if (init !== undefined && typeof init !== "function") throw new InvalidArgumentError("initializedFn must be a function");
    return this._watch(opts.key ?? ">", policy, opts.resumeFromRevision === undefined ? 0 : wholeNumber(opts.resumeFromRevision, "resumeFromRevision", 1), opts.headers_only === true, opts.ignoreDeletes === true, cb ?? null, opts.maxQueueBytes, opts.heartbeat, false, init ?? null);
  }

  /** The keys that have a value (deleted and purged keys left out), matching `filter` (default ">"). */
  async keys(filter: string | string[] = ">"): Promise<AsyncIterable<string>> {
    const w = await this._watch(filter, "last_per_subject", 0, true, true, null, undefined, undefined, true, null);
    return keysOf(w);
  }

  /** Every revision kept of the keys matching `key` (default ">"), oldest first. */
  history(opts: { key?: string | string[]; headers_only?: boolean; maxQueueBytes?: number } = {}): Promise<KvWatcher> {
    checkOptions(opts, ["key", "headers_only", "maxQueueBytes"], "history");
    return this._watch(opts.key ?? ">", "all", 0, opts.headers_only === true, false, null, opts.maxQueueBytes, undefined, true, null);
  }

  private async _watch(key: string | string[], policy: string, startSeq: number, headersOnly: boolean, ignoreDeletes: boolean, callback: ((e: KvEntry) => void) | null, maxQueueBytes: number | undefined, heartbeat: number | undefined, stop: boolean, init: (() => void) | null): Promise<KvWatcher> {
    const keys = Array.isArray(key) ? key : [key];
    if (keys.length === 0 || keys.length > 16) throw new InvalidArgumentError("watch takes 1 to 16 keys");
    const filters: string[] = [];
    for (const k of keys) {
      validateKey(k, true);
      filters.push(this.prefix + k);
    }
    const w = new KvWatcher(this.nc, this.jsm, {
      bucket: this.bucket,
      stream: this.stream,
      prefixLen: this.prefix.length,
      filters,
      deliverPolicy: policy,
      startSeq,
      headersOnly,
      ignoreDeletes,
      callback,
      maxQueueBytes: maxQueueBytes === undefined ? 8192 : wholeNumber(maxQueueBytes, "maxQueueBytes", 256),
      heartbeat: heartbeat === undefined ? 5000 : wholeNumber(heartbeat, "heartbeat", 100),
      stopWhenCaughtUp: stop,
      initializedFn: init,
    });
    await w.start();
    return w;
  }

  /** The bucket's settings and size, read from its stream. */
  async status(): Promise<KvStatus> {
    const si = await this.jsm.streams.info(this.stream);
    const c = si.config;
    return {
      bucket: this.bucket,
      values: si.state.messages,
      history: c.max_msgs_per_subject ?? 1,
      ttl: Math.floor((c.max_age ?? 0) / 1_000_000),
      backingStore: "JetStream",
      size: si.state.bytes,
      replicas: c.num_replicas ?? 1,
      max_bytes: c.max_bytes ?? -1,
      storage: c.storage ?? "file",
      streamInfo: si,
    };
  }

  /** Deletes the bucket and everything in it. */
  destroy(): Promise<boolean> {
    return this.jsm.streams.delete(this.stream);
  }
}

async function* keysOf(w: KvWatcher): AsyncIterable<string> {
  for await (const e of w) yield e.key;
}

export type { KvWatchStats };
