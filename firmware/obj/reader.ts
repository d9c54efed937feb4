/**
 * Reads an object's chunks into a sink without holding a chunk: an ordered push consumer on the
 * object's chunk subject delivers to a subscription with chunked delivery, so each chunk (128 KB
 * from nats.js) passes through in the pieces the socket hands over. Each piece is hashed and handed
 * to the sink at once; after the last byte the digest is compared with the meta's.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import { Digest } from "crypt";
import type { Msg, MsgChunk, NatsConnection, Subscription } from "nats-xs";
import { parseInfo } from "nats-xs/jetstream";
import type { JetStreamManager } from "nats-xs/jetstream";
import { DigestMismatchError, ObjectStoreError } from "./errors.js";
import { digestField } from "./codec.js";
import { sameDigest } from "./meta.js";
import type { ObjectInfo } from "./meta.js";
import { randomToken } from "./random.js";

/** Where get() writes: each piece as a view valid during the call. */
export interface ObjectSink {
  write(view: Uint8Array): void;
}

export class ChunkReader {
  private readonly nc: NatsConnection;
  private readonly jsm: JetStreamManager;
  private readonly stream: string;
  private readonly info: ObjectInfo;
  private readonly sink: ObjectSink;
  private readonly heartbeat: number;
  private readonly digest = new Digest("SHA256");
  private readonly prefix = randomToken(10);
  private sub: Subscription | null = null;
  private timer: TimerId | null = null;
  private consumer = "";
  private dseq = 0;
  private chunks = 0;
  private bytes = 0;
  private inChunk = false;
  private idle = 0;
  private done = false;
  private resolve: (() => void) | null = null;
  private reject: ((e: Error) => void) | null = null;

  constructor(nc: NatsConnection, jsm: JetStreamManager, stream: string, info: ObjectInfo, sink: ObjectSink, heartbeat: number) {
    this.nc = nc;
    this.jsm = jsm;
    this.stream = stream;
    this.info = info;
    this.sink = sink;
    this.heartbeat = heartbeat;
  }

  /** Resolves after the last byte reached the sink and the digest matched. */
  async run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // the chunks can all arrive, and fail the digest, before the consumer's creation is answered:
    // the rejection then waits for the caller, who gets it from `done`, without being "unhandled"
    done.catch(() => {});
    if (this.info.chunks === 0 || this.info.size === 0) {
      this.complete();
      return done;
    }
    const inbox = `_INBOX.${this.prefix}`;
    this.sub = this.nc.subscribe(inbox, { chunks: true, callback: this.onPiece });
    try {
      await this.nc.flush();
      this.consumer = `${this.prefix}_1`;
      await this.jsm.consumers.add(this.stream, {
        name: this.consumer,
        deliver_subject: inbox,
        ack_policy: "none",
        max_deliver: 1,
        flow_control: true,
        idle_heartbeat: this.heartbeat * 1_000_000,
        mem_storage: true,
        num_replicas: 1,
        deliver_policy: "all",
        filter_subject: `$O.${this.info.bucket}.C.${this.info.nuid}`,
      });
    } catch (e) {
      this.fail(e as Error);
      return done;
    }
    if (!this.done) this.timer = Timer.repeat(this.tick, this.heartbeat);
    return done;
  }

  private readonly tick = (): void => {
    if (++this.idle >= 3) this.fail(new ObjectStoreError(`the chunks of ${JSON.stringify(this.info.name)} stopped coming (${this.bytes} of ${this.info.size} bytes read)`));
  };

  private readonly onPiece = (err: Error | null, msg: Msg | null): void => {
    if (this.done) return;
    if (err !== null || msg === null) {
      this.fail(err ?? new ObjectStoreError("the chunk subscription ended"));
      return;
    }
    this.idle = 0;
    const m = msg as MsgChunk;
    const h = m.headers;
    if (h !== undefined && h.code !== 0) {
      if (m.last) {
        if (h.code === 100 && m.reply !== "") this.nc.publish(m.reply);
        const stalled = h.code === 100 ? h.get("Nats-Consumer-Stalled") : "";
        if (stalled !== "") this.nc.publish(stalled);
        if (h.code !== 100) this.fail(new ObjectStoreError(`the server stopped the chunks: ${h.code} ${h.description}`));
      }
      return;
    }
    if (m.offset === 0) {
      let info;
      try {
        info = parseInfo(m.reply);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      if (info.consumer !== this.consumer) return;
      if (this.inChunk || info.deliverySequence !== this.dseq + 1) {
        this.fail(new ObjectStoreError(`a chunk of ${JSON.stringify(this.info.name)} was lost in delivery (after ${this.bytes} bytes); read it again`));
        return;
      }
      this.dseq = info.deliverySequence;
      this.inChunk = true;
    } else if (!this.inChunk) return;
    const view = m.data;
    this.bytes += view.length;
    if (this.bytes > this.info.size) {
      this.fail(new ObjectStoreError(`object ${JSON.stringify(this.info.name)} has more bytes than its meta says (${this.info.size})`));
      return;
    }
    try {
      this.digest.write(view);
      this.sink.write(view);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    if (m.last) {
      this.inChunk = false;
      if (++this.chunks === this.info.chunks) this.complete();
    }
  };

  private complete(): void {
    const info = this.info;
    if (this.bytes !== info.size) {
      this.fail(new ObjectStoreError(`object ${JSON.stringify(info.name)} ended after ${this.bytes} of ${info.size} bytes`));
      return;
    }
    const d = this.digest.close();
    if (!sameDigest(info.digest, new Uint8Array(d))) {
      this.fail(new DigestMismatchError(info.name, info.digest, digestField(d)));
      return;
    }
    this.end();
    const r = this.resolve;
    if (r !== null) r();
  }

  private fail(e: Error): void {
    if (this.done) return;
    this.end();
    const r = this.reject;
    if (r !== null) r(e);
  }

  private end(): void {
    this.done = true;
    if (this.timer !== null) Timer.clear(this.timer);
    this.timer = null;
    const sub = this.sub;
    if (sub !== null && !sub.done && !this.nc.isClosed()) sub.unsubscribe();
    if (this.consumer !== "" && !this.nc.isClosed()) this.jsm.consumers.delete(this.stream, this.consumer).catch(() => {});
  }
}
