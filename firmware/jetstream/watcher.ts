/**
 * An ordered push consumer read as a watch, as ADR-8 (KV) and ADR-20 (Object Store) watches are
 * made: an ephemeral consumer with no acks, flow control and idle heartbeats, delivering to one
 * inbox subscription. Each message's delivery sequence is checked; a gap, a consumer the server
 * forgot (heartbeats stop, a restart) or a 409 makes the consumer again from the stream sequence
 * after the last one handed out, so a watch goes on across server restarts. nats-xs/kv and
 * nats-xs/obj turn its messages into their entries.
 *
 * With a callback, an item goes from the subscription callback straight to the caller's (its bytes
 * a view valid during the callback; no copy, promise or closure). Without one, copies wait in a
 * queue bounded by `maxQueueBytes`; an item that does not fit is dropped and counted, and a watch
 * that stops when caught up ends with the `overflow` error when it had to drop any.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import type { Msg, NatsConnection, Subscription } from "nats-xs";
import { parseInfo } from "./jsmsg.js";
import type { DeliveryInfo } from "./jsmsg.js";
import type { JetStreamManager } from "./manager.js";
import type { ConsumerConfig } from "./types.js";

/** What a watch reads and how its messages become items. */
export interface OrderedWatchSpec<T> {
  stream: string;
  filters: string[];
  deliverPolicy: string;
  startSeq: number;
  headersOnly: boolean;
  callback: ((item: T) => void) | null;
  maxQueueBytes: number;
  /** Milliseconds between the server's idle heartbeats; two missed make the consumer again. */
  heartbeat: number;
  /** End once the messages there were at the start have all come (keys(), history()). */
  stopWhenCaughtUp: boolean;
  initializedFn: (() => void) | null;
  /** Whether a message is passed by before anything is made of it (a filter on its headers). */
  skip(msg: Msg): boolean;
  /** Bytes the item of a message counts for in the queue. */
  cost(msg: Msg): number;
  /** The item of a message: null to pass it by, undefined when it is not valid (counted as ignored).
   *  With `keep`, the item waits in the queue and must own its bytes. */
  item(msg: Msg, info: DeliveryInfo, caughtUp: boolean, keep: boolean): T | null | undefined;
  /** The error class of this kind of watch, for `message`. */
  error(message: string): Error;
  /** The error of a watch that stopped when caught up after dropping `dropped` items. */
  overflow(dropped: number, maxQueueBytes: number): Error;
}

/** Counters of one watch. */
export interface OrderedWatchStats {
  /** Items handed out (to the callback or the queue). */
  received: number;
  /** Items dropped because the queue was full. */
  dropped: number;
  /** Bytes waiting in the queue now. */
  queuedBytes: number;
  /** Times the consumer was made again (gap, missed heartbeats, restart). */
  resets: number;
  /** Messages ignored: not an ack subject, from a consumer already replaced, or not valid. */
  ignored: number;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Random letters and digits for inbox and consumer names. */
function randomToken(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(Math.random() * 62)];
  return s;
}

/** A running watch: iterate it, or give a callback; stop() ends it. */
export class OrderedWatcher<T> implements AsyncIterable<T> {
  private readonly nc: NatsConnection;
  private readonly jsm: JetStreamManager;
  private readonly spec: OrderedWatchSpec<T>;
  private readonly inbox: string;
  private readonly prefix: string;
  private sub: Subscription | null = null;
  private timer: TimerId | null = null;
  private serial = 0;
  private name = "";
  private dseq = 0;
  private sseq = 0;
  private idle = 0;
  private resetting = false;
  private stuckAt = -1;
  private subDropped = 0;
  private caughtUp = false;
  private done = false;
  private _error: Error | null = null;
  private readonly queue: T[] = [];
  /** What each queued item counts for. */
  private readonly costs: number[] = [];
  private queuedBytes = 0;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  private _closed: Promise<void> | null = null;
  private resolveClosed: (() => void) | null = null;
  private received = 0;
  private dropped = 0;
  private resets = 0;
  private ignored = 0;

  constructor(nc: NatsConnection, jsm: JetStreamManager, spec: OrderedWatchSpec<T>) {
    this.nc = nc;
    this.jsm = jsm;
    this.spec = spec;
    this.prefix = randomToken(10);
    // a literal deliver subject: server 2.9 sees no interest from a wildcard subscription
    this.inbox = `_INBOX.${this.prefix}`;
  }

  /** @internal Subscribes and makes the consumer; rejects when the consumer cannot be made. */
  async start(): Promise<void> {
    this.sub = this.nc.subscribe(this.inbox, { callback: this.onMsg });
    try {
      // the server has the interest before the consumer exists; and the consumer is made from a
      // fresh turn: called straight through watch(), the API request overflows XS's 512-slot stack
      await this.nc.flush();
      await this.create();
    } catch (e) {
      this.finish(null);
      throw e;
    }
    if (!this.done) this.timer = Timer.repeat(this.tick, this.spec.heartbeat);
  }

  /** Counters of this watch. */
  status(): OrderedWatchStats {
    return { received: this.received, dropped: this.dropped, queuedBytes: this.queuedBytes, resets: this.resets, ignored: this.ignored };
  }

  /** Ends the watch: the iterator finishes after what is queued; the consumer is deleted. */
  stop(): void {
    this.finish(null);
  }

  /** Resolves when the watch has ended (stop(), caught up for keys/history, or an error). */
  get closed(): Promise<void> {
    if (this._closed === null) {
      this._closed = this.done
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.resolveClosed = resolve;
          });
    }
    return this._closed;
  }

  /** The error that ended the watch, if any. */
  get error(): Error | null {
    return this._error;
  }

  private async create(): Promise<void> {
    const s = this.spec;
    const old = this.name;
    const name = `${this.prefix}_${++this.serial}`;
    const config: ConsumerConfig = {
      name,
      deliver_subject: this.inbox,
      ack_policy: "none",
      max_deliver: 1,
      flow_control: true,
      idle_heartbeat: s.heartbeat * 1_000_000,
      mem_storage: true,
      num_replicas: 1,
      deliver_policy: s.deliverPolicy,
      headers_only: s.headersOnly,
    };
    if (this.sseq > 0) {
      config.deliver_policy = "by_start_sequence";
      config.opt_start_seq = this.sseq + 1;
    } else if (s.startSeq > 0) {
      config.deliver_policy = "by_start_sequence";
      config.opt_start_seq = s.startSeq;
    }
    if (s.filters.length === 1) config.filter_subject = s.filters[0];
    else config.filter_subjects = s.filters;
    // messages of the new consumer may come before its info does: they are told apart by name
    this.name = name;
    this.dseq = 0;
    this.idle = 0;
    if (old !== "") this.jsm.consumers.delete(s.stream, old).catch(() => {});
    const info = await this.jsm.consumers.add(s.stream, config);
    // a consumer of new messages starts after the stream's last one: made again before any came, it
    // must start there too, not at whatever is last by then
    if (this.sseq === 0 && config.deliver_policy === "new") this.sseq = info.delivered.stream_seq;
    if (!this.caughtUp && info.num_pending === 0 && this.dseq === 0 && info.name === this.name) this.initialized();
  }

  private initialized(): void {
    this.caughtUp = true;
    const f = this.spec.initializedFn;
    if (f !== null) f();
    if (this.spec.stopWhenCaughtUp) this.finish(null);
  }

  private reset(): void {
    if (this.resetting || this.done) return;
    this.resetting = true;
    this.resets++;
    this.create().then(
      () => {
        this.resetting = false;
      },
      () => {
        // the server may be down: the next missed heartbeat tries again
        this.resetting = false;
      },
    );
  }

  private readonly tick = (): void => {
    if (this.done) return;
    if (this.sub !== null && this.sub.done) {
      this.finish(this.spec.error("the connection closed under the watch"));
      return;
    }
    if (++this.idle >= 2 && !this.nc.isClosed()) {
      this.idle = 0;
      this.reset();
    }
  };

  private readonly onMsg = (err: Error | null, msg: Msg | null): void => {
    if (this.done) return;
    if (err !== null || msg === null) {
      this.finish(err ?? this.spec.error("the watch subscription ended"));
      return;
    }
    this.idle = 0;
    const h = msg.headers;
    if (h !== undefined && h.code !== 0) {
      if (h.code === 100) {
        // flow control asks for an empty reply; a heartbeat may say the consumer is stalled
        if (msg.reply !== "") this.nc.publish(msg.reply);
        const stalled = h.get("Nats-Consumer-Stalled");
        if (stalled !== "") this.nc.publish(stalled);
      } else this.reset();
      return;
    }
    let info;
    try {
      info = parseInfo(msg.reply);
    } catch {
      this.ignored++;
      return;
    }
    if (info.consumer !== this.name) {
      this.ignored++;
      return;
    }
    if (info.deliverySequence !== this.dseq + 1) {
      const sub = this.sub;
      if (sub !== null && sub.dropped !== this.subDropped) {
        // the core dropped a message too large for its receive buffer: made again, the consumer
        // would send it again; the second time at the same place the watch ends
        this.subDropped = sub.dropped;
        if (this.stuckAt === this.sseq) {
          this.finish(this.spec.error(`an entry after stream sequence ${this.sseq} is larger than the connection's receive buffer (receiveBufferBytes)`));
          return;
        }
        this.stuckAt = this.sseq;
      }
      this.reset();
      return;
    }
    this.dseq = info.deliverySequence;
    this.sseq = info.streamSequence;
    const s = this.spec;
    if (!s.skip(msg)) {
      const cb = s.callback;
      if (cb !== null) {
        const item = s.item(msg, info, this.caughtUp, false);
        if (item === undefined) this.ignored++;
        else if (item !== null) {
          this.received++;
          cb(item);
        }
      } else {
        const cost = s.cost(msg);
        if (this.queuedBytes + cost > s.maxQueueBytes) this.dropped++;
        else {
          const item = s.item(msg, info, this.caughtUp, true);
          if (item === undefined) this.ignored++;
          else if (item !== null) {
            this.received++;
            const w = this.waiting;
            if (w !== null) {
              this.waiting = null;
              this.fail = null;
              w({ value: item, done: false });
            } else {
              this.queue.push(item);
              this.costs.push(cost);
              this.queuedBytes += cost;
            }
          }
        }
      }
    }
    if (!this.caughtUp && info.pending === 0) this.initialized();
  };

  private finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    if (error === null && this.spec.stopWhenCaughtUp && this.dropped > 0) error = this.spec.overflow(this.dropped, this.spec.maxQueueBytes);
    this._error = error;
    if (this.timer !== null) Timer.clear(this.timer);
    this.timer = null;
    const sub = this.sub;
    if (sub !== null && !sub.done && !this.nc.isClosed()) sub.unsubscribe();
    if (this.name !== "" && !this.nc.isClosed()) this.jsm.consumers.delete(this.spec.stream, this.name).catch(() => {});
    const w = this.waiting;
    const f = this.fail;
    this.waiting = null;
    this.fail = null;
    if (this.queue.length === 0) {
      if (error !== null && f !== null) f(error);
      else if (w !== null) w({ value: undefined, done: true });
    }
    if (this.resolveClosed !== null) this.resolveClosed();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        if (this.spec.callback !== null) return Promise.reject(this.spec.error("a watch with a callback is not iterated"));
        if (this.queue.length > 0) {
          this.queuedBytes -= this.costs.shift() as number;
          return Promise.resolve({ value: this.queue.shift() as T, done: false });
        }
        if (this.done) return this._error === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this._error);
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.fail = reject;
        });
      },
      return: (): Promise<IteratorResult<T>> => {
        this.finish(null);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
