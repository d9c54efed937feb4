/**
 * Kvm: makes and opens buckets (nats.js `Kvm`). A bucket made here is the stream ADR-8 describes,
 * set as nats.js 3.x sets it on this server, so nats.js, nats.go and the nats CLI use it as theirs.
 */
import { InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { jetstream, JetStreamClient, StreamNotFoundError } from "nats-xs/jetstream";
import type { JetStreamManager, StreamConfig, StreamInfo } from "nats-xs/jetstream";
import { Bucket } from "./bucket.js";
import { validateBucket } from "./keys.js";

/** Options of Kvm.create() (nats.js names; `ttl` in milliseconds). */
export interface KvOptions {
  /** Revisions kept per key, 1 to 64 (default 1). */
  history?: number;
  /** Milliseconds a value lives (default 0: for ever). */
  ttl?: number;
  /** Bytes the bucket may hold (default -1: no limit). */
  max_bytes?: number;
  /** Largest value in bytes (default -1: the server's max_payload). */
  maxValueSize?: number;
  /** Replicas in a cluster (default 1). */
  replicas?: number;
  /** "file" (default) or "memory". */
  storage?: string;
  description?: string;
}

const CREATE_KEYS = Object.freeze(["history", "ttl", "max_bytes", "maxValueSize", "replicas", "storage", "description"]);

function int(v: unknown, fallback: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}`);
  return v;
}

export class Kvm {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | null = null;

  /** Over a connection (a jetstream() context is made for it), or over a jetstream() context. */
  constructor(nc: NatsConnection | JetStreamClient) {
    if (nc instanceof JetStreamClient) this.js = nc;
    else this.js = jetstream(nc);
  }

  private async manager(): Promise<JetStreamManager> {
    if (this.jsm === null) this.jsm = await this.js.jetstreamManager(false);
    return this.jsm;
  }

  /** Makes the bucket, or opens it when it exists (its settings stay as they are). */
  async create(bucket: string, opts: KvOptions = {}): Promise<Bucket> {
    validateBucket(bucket);
    if (opts === null || typeof opts !== "object") throw new InvalidArgumentError("bucket options must be an object");
    for (const k in opts) if (CREATE_KEYS.indexOf(k) < 0) throw new InvalidArgumentError(`bucket option ${JSON.stringify(k)} is not supported by nats-xs`);
    const storage = opts.storage ?? "file";
    if (storage !== "file" && storage !== "memory") throw new InvalidArgumentError('storage must be "file" or "memory"');
    const ttl = int(opts.ttl, 0, "ttl", 0);
    const cfg: StreamConfig = {
      name: `KV_${bucket}`,
      subjects: [`$KV.${bucket}.>`],
      retention: "limits",
      max_msgs_per_subject: int(opts.history, 1, "history", 1, 64),
      max_bytes: int(opts.max_bytes, -1, "max_bytes", -1),
      max_msg_size: int(opts.maxValueSize, -1, "maxValueSize", -1),
      storage,
      discard: "new",
      allow_direct: true,
      allow_rollup_hdrs: true,
      num_replicas: int(opts.replicas, 1, "replicas", 1, 5),
    };
    if (ttl > 0) {
      cfg.max_age = ttl * 1_000_000;
      // ADR-8: the duplicate window never outlives the values
      if (ttl < 120_000) cfg.duplicate_window = ttl * 1_000_000;
    }
    if (opts.description !== undefined) cfg.description = String(opts.description);
    const jsm = await this.manager();
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(cfg.name);
    } catch (e) {
      if (!(e instanceof StreamNotFoundError)) throw e;
      info = await jsm.streams.add(cfg);
    }
    return new Bucket(this.js, jsm, bucket, info);
  }

  /** Opens a bucket that exists; one that does not rejects with StreamNotFoundError. */
  async open(bucket: string): Promise<Bucket> {
    validateBucket(bucket);
    const jsm = await this.manager();
    const info = await jsm.streams.info(`KV_${bucket}`);
    return new Bucket(this.js, jsm, bucket, info);
  }
}
