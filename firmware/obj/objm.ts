/**
 * Objm: makes and opens object store buckets (nats.js `Objm`), with the stream settings nats.js
 * 3.x uses, so nats.js, nats.go and the nats CLI share them.
 */
import { InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { jetstream, JetStreamClient, StreamNotFoundError } from "nats-xs/jetstream";
import type { JetStreamManager, StreamConfig } from "nats-xs/jetstream";
import { ObjectStore } from "./store.js";

/** Options of Objm.create() (nats.js names; `ttl` in nanoseconds as nats.js takes it). */
export interface ObjectStoreOptions {
  description?: string;
  ttl?: number;
  max_bytes?: number;
  storage?: string;
  replicas?: number;
}

const KEYS = Object.freeze(["description", "ttl", "max_bytes", "storage", "replicas"]);

function validateBucket(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 240) throw new InvalidArgumentError(`invalid bucket name: ${String(name)}`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45)) throw new InvalidArgumentError(`invalid bucket name: ${name} (use A-Z a-z 0-9 _ -)`);
  }
  return name;
}

export class Objm {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | null = null;

  /** Over a connection, or over a jetstream() context. */
  constructor(nc: NatsConnection | JetStreamClient) {
    this.js = nc instanceof JetStreamClient ? nc : jetstream(nc);
  }

  private async manager(): Promise<JetStreamManager> {
    if (this.jsm === null) this.jsm = await this.js.jetstreamManager(false);
    return this.jsm;
  }

  /** Makes the bucket, or opens it when it exists. */
  async create(bucket: string, opts: ObjectStoreOptions = {}): Promise<ObjectStore> {
    validateBucket(bucket);
    if (opts === null || typeof opts !== "object") throw new InvalidArgumentError("bucket options must be an object");
    for (const k in opts) if (KEYS.indexOf(k) < 0) throw new InvalidArgumentError(`bucket option ${JSON.stringify(k)} is not supported by nats-xs`);
    const cfg: StreamConfig = {
      name: `OBJ_${bucket}`,
      subjects: [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`],
      max_age: opts.ttl ?? 0,
      allow_direct: true,
      allow_rollup_hdrs: true,
      num_replicas: opts.replicas ?? 1,
      discard: "new",
    };
    if (opts.max_bytes !== undefined) cfg.max_bytes = opts.max_bytes;
    if (opts.storage !== undefined) cfg.storage = opts.storage;
    if (opts.description !== undefined) cfg.description = opts.description;
    const jsm = await this.manager();
    try {
      await jsm.streams.info(cfg.name);
    } catch (e) {
      if (!(e instanceof StreamNotFoundError)) throw e;
      await jsm.streams.add(cfg);
    }
    return new ObjectStore(this.js, jsm, bucket);
  }

  /** Opens a bucket that exists; one that does not rejects with StreamNotFoundError. */
  async open(bucket: string): Promise<ObjectStore> {
    validateBucket(bucket);
    const jsm = await this.manager();
    await jsm.streams.info(`OBJ_${bucket}`);
    return new ObjectStore(this.js, jsm, bucket);
  }
}
