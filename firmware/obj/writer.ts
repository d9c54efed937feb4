/**
 * Writes an object's chunks: each chunk is one message on `$O.<bucket>.C.<nuid>`, streamed with the
 * publishStream() of nats-xs/stream from a small buffer (a 128 KB chunk never sits in RAM), with a reply
 * subject so the stream acknowledges it. A few chunks may wait for their acks at once; an ack that
 * carries an error, or none within the timeout, fails the put. The SHA-256 digest is computed on
 * the way through.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import { Digest } from "crypt";
import { TimeoutError } from "nats-xs";
import { publishStream } from "nats-xs/stream";
import type { Msg, NatsConnection, Subscription } from "nats-xs";
import { ObjectStoreError } from "./errors.js";
import { randomToken } from "./random.js";
import { nestsWithin } from "./meta.js";

/** The bridge's PayloadSource: `size` bytes read at `offset` into `into`, returning the count. */
export interface PayloadSource {
  readonly size: number;
  read(offset: number, into: Uint8Array): number | Promise<number>;
}

/** Chunks that may wait for their acks at once. */
const IN_FLIGHT = 2;

export class ChunkWriter {
  private readonly nc: NatsConnection;
  private readonly subject: string;
  private readonly timeout: number;
  readonly digest = new Digest("SHA256");
  private readonly inbox = `_INBOX.${randomToken(12)}`;
  private sub: Subscription | null = null;
  private sent = 0;
  private acked = 0;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private timer: TimerId | null = null;
  /** Chunks written and bytes in them. */
  chunks = 0;
  size = 0;

  constructor(nc: NatsConnection, subject: string, timeout: number) {
    this.nc = nc;
    this.subject = subject;
    this.timeout = timeout;
  }

  start(): void {
    this.sub = this.nc.subscribe(this.inbox, { callback: this.onAck });
  }

  private readonly onAck = (err: Error | null, m: Msg | null): void => {
    if (err !== null) this.error = err;
    else if (m !== null) {
      const h = m.headers;
      const d = m.data;
      // a PubAck is a small object; anything else, or one with "error", fails the put
      if (h !== undefined && h.code !== 0) this.error = new ObjectStoreError(`a chunk was refused: ${h.code} ${h.description}`);
      else if (d.length > 2048 || !nestsWithin(d, 3)) this.error = new ObjectStoreError("a chunk ack is not a PubAck");
      else {
        let v: Record<string, unknown> | null = null;
        try {
          v = JSON.parse(m.string()) as Record<string, unknown>;
        } catch {
          // left null
        }
        if (v === null || typeof v !== "object") this.error = new ObjectStoreError("a chunk ack is not JSON");
        else if (v.error !== undefined) {
          const e = v.error as Record<string, unknown>;
          this.error = new ObjectStoreError(`a chunk was refused: ${typeof e?.description === "string" ? e.description.substring(0, 200) : "unknown error"} (${String(e?.err_code)})`);
        }
      }
      this.acked++;
    }
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  };

  /** Waits until at most `pending` chunks wait for their acks; throws the first refusal. */
  private async settle(pending: number): Promise<void> {
    while (this.error === null && this.sent - this.acked > pending) {
      const acked = this.acked;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = Timer.set(() => {
          this.timer = null;
          this.wake = null;
          resolve();
        }, this.timeout);
      });
      if (this.timer !== null) Timer.clear(this.timer);
      this.timer = null;
      if (this.acked === acked && this.error === null) throw new TimeoutError(`no ack for a chunk of ${this.subject} within ${this.timeout} ms`);
    }
    if (this.error !== null) throw this.error;
  }

  /** Sends one chunk of `n` bytes whose pieces come from `fill(into)` (returning the count). */
  async chunk(n: number, buffer: Uint8Array, fill: (into: Uint8Array) => number | Promise<number>): Promise<void> {
    await this.settle(IN_FLIGHT - 1);
    const w = publishStream(this.nc, this.subject, n, { reply: this.inbox });
    let done = 0;
    try {
      while (done < n) {
        const k = await fill(buffer.subarray(0, Math.min(buffer.length, n - done)));
        if (typeof k !== "number" || !Number.isInteger(k) || k <= 0 || k > buffer.length) throw new ObjectStoreError(`the source gave ${String(k)} bytes at ${this.size + done}; it must give 1 or more`);
        const view = buffer.subarray(0, k);
        this.digest.write(view);
        done += k;
        if (!w.write(view)) await w.ready();
      }
      w.end();
    } catch (e) {
      w.abort();
      throw e;
    }
    this.sent++;
    this.chunks++;
    this.size += n;
  }

  /** Waits for every ack. */
  finish(): Promise<void> {
    return this.settle(0);
  }

  close(): void {
    if (this.timer !== null) Timer.clear(this.timer);
    const sub = this.sub;
    if (sub !== null && !sub.done && !this.nc.isClosed()) sub.unsubscribe();
  }
}
