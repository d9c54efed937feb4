/**
 * The messages of a pull consumer: one inbox subscription, pull requests sent to
 * `CONSUMER.MSG.NEXT`, and what comes back on the inbox — messages (with an ack subject as reply)
 * and status frames (no reply, no body, a status code): 404/408 end a pull, 409 reports a limit or
 * a deleted consumer, 100 is an idle heartbeat.
 *
 * fetch() sends one pull and ends with it; consume() keeps pulls outstanding, pulling again when
 * fewer than half its messages (or bytes) are still owed, and starts over when heartbeats stop or
 * the connection is re-established. With a callback each message goes straight from the
 * subscription callback to the caller's (one JsMsg object per message, no promise or closure);
 * without one, copies wait in a queue bounded by what was pulled.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import { InvalidArgumentError } from "nats-xs";
import type { Msg, NatsConnection, Subscription } from "nats-xs";
import { JetStreamStatusError } from "./errors.js";
import { JsMsg } from "./jsmsg.js";
import { randomToken } from "./outbox.js";

/** Where pulls go, and how a gap is handled (ordered consumers). */
export interface PullTarget {
  readonly nc: NatsConnection;
  readonly timeout: number;
  /** The subject pull requests are published to. */
  nextSubject(): string;
  /** Ordered consumers: checks each message's place; false asks for a restart. */
  check?(m: JsMsg): boolean;
  /** Ordered consumers: recreates the server-side consumer; resolves when pulls may go on. */
  restart?(): Promise<void>;
  /** Ordered consumers: the messages ended; the server-side consumer can go. */
  ended?(): void;
}

/** Options of fetch() (nats.js names, plus buffer_bytes). */
export interface PullOptions {
  /** Messages per pull (default 100). */
  max_messages?: number;
  /** Bytes per pull (default: no byte limit; messages bound the buffer then). */
  max_bytes?: number;
  /** Milliseconds a pull stays open at the server (default 30000). */
  expires?: number;
  /** Milliseconds between server heartbeats while a pull is open (default: consume() uses
   *  min(expires / 2, 30000); fetch() none). */
  idle_heartbeat?: number;
  /** nats-xs: bytes of copied messages waiting to be read when there is no callback (fetch, next,
   *  iterators); every pull asks the server for no more than fits (default 16384). */
  buffer_bytes?: number;
}

/** Options of consume(). */
export interface ConsumeOptions extends PullOptions {
  /** Each message, as it arrives; without it, read the messages with `for await`. */
  callback?: (m: JsMsg) => void;
  /** Pull again once this many or fewer messages are still owed (default max_messages / 2). */
  threshold_messages?: number;
}

/** Counters of one fetch or consume. */
export interface ConsumerMessagesStats {
  delivered: number;
  /** Messages refused: more than was pulled arrived, the buffer was full, or (ordered consumers)
   *  the ack subject was not one. */
  dropped: number;
  /** Times the callback threw (the message counts as delivered; the consume goes on). */
  callbackErrors: number;
  heartbeats: number;
  /** Times the pulls were started over (heartbeats missed, reconnect, ordered gap). */
  resets: number;
  pulls: number;
  /** Messages and bytes pulled and not yet delivered. */
  pendingMessages: number;
  pendingBytes: number;
  /** Last status code seen (404, 408, 409...) and its description. */
  lastStatus: number;
  lastDescription: string;
}

/** What a ConsumerMessages does: one pull (fetch, next) or pulls without end (consume). */
export const PullMode = Object.freeze({ Fetch: 0, Consume: 1 });
const Mode = PullMode;

const PULL_RETRY_MS = 1000;

function positive(v: unknown, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${what} must be a positive whole number`);
  return v;
}

/** What is still owed once a pull that left `left` (a header value) undelivered has ended. */
function owedAfter(owed: number, left: string): number {
  const n = left === "" ? NaN : Number(left);
  return Number.isSafeInteger(n) && n >= 0 && n < owed ? owed - n : 0;
}

/** An async iterable of JsMsg, plus close(), closed() and counters (nats.js ConsumerMessages). */
export class ConsumerMessages implements AsyncIterable<JsMsg> {
  private readonly t: PullTarget;
  private readonly mode: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly expires: number;
  private readonly heartbeat: number;
  private readonly threshold: number;
  private readonly callback: ((m: JsMsg) => void) | null;
  /** Iterators only: bound and use of the copies waiting in #queue. */
  private readonly bufferBytes: number;
  private queuedBytes = 0;
  private sub: Subscription | null = null;
  private inbox = "";
  private pendingMsgs = 0;
  private pendingBytes = 0;
  private queue: JsMsg[] = [];
  private waiting: ((r: IteratorResult<JsMsg>) => void) | null = null;
  private waitingReject: ((e: Error) => void) | null = null;
  private done = false;
  private error: Error | null = null;
  private timer: TimerId | null = null;
  private lastActivity = 0;
  private reconnects = 0;
  private restarting = false;
  private closedWaiters: ((e: Error | undefined) => void)[] = [];
  private readonly _stats: ConsumerMessagesStats = {
    delivered: 0,
    dropped: 0,
    callbackErrors: 0,
    heartbeats: 0,
    resets: 0,
    pulls: 0,
    pendingMessages: 0,
    pendingBytes: 0,
    lastStatus: 0,
    lastDescription: "",
  };

  constructor(target: PullTarget, mode: number, o: ConsumeOptions) {
    this.t = target;
    this.mode = mode;
    this.maxMessages = positive(o.max_messages, mode === Mode.Fetch && o.max_bytes !== undefined ? 1000000 : 100, "max_messages");
    this.maxBytes = o.max_bytes === undefined ? 0 : positive(o.max_bytes, 0, "max_bytes");
    this.expires = positive(o.expires, 30000, "expires");
    if (this.expires < 1000) throw new InvalidArgumentError("expires must be at least 1000 ms");
    const hb = o.idle_heartbeat === undefined ? (mode === Mode.Consume ? Math.min(this.expires >> 1, 30000) : 0) : positive(o.idle_heartbeat, 0, "idle_heartbeat");
    if (hb * 2 > this.expires) throw new InvalidArgumentError("idle_heartbeat must be at most half of expires");
    this.heartbeat = hb;
    this.threshold = o.threshold_messages === undefined ? this.maxMessages >> 1 : positive(o.threshold_messages, 0, "threshold_messages");
    if (o.callback !== undefined && typeof o.callback !== "function") throw new InvalidArgumentError("callback must be a function");
    this.callback = o.callback ?? null;
    this.bufferBytes = this.callback === null ? positive(o.buffer_bytes, 16384, "buffer_bytes") : 0;
  }

  /** @internal Subscribes and sends the first pull. */
  start(): void {
    this.subscribe();
    this.reconnects = this.t.nc.stats().reconnects;
    this.lastActivity = Date.now();
    this.pull();
    // fetch: a timer ends the fetch when the server's end-of-pull status is lost;
    // consume: it watches heartbeats and reconnects
    const every = this.mode === Mode.Fetch ? this.expires + this.t.timeout : Math.max(this.heartbeat, 250);
    this.timer = Timer.set(() => this.tick(), every, this.mode === Mode.Fetch ? 0 : every);
  }

  private subscribe(): void {
    const nc = this.t.nc;
    const o = nc.options as { inboxPrefix?: string } | undefined;
    this.inbox = `${o?.inboxPrefix ?? "_INBOX"}.${randomToken(22)}`;
    this.sub = nc.subscribe(this.inbox, { callback: (_e, m) => this.onMsg(m) });
  }

  /** Counters of this fetch or consume (nats.js has status() for notifications instead: not supported). */
  stats(): ConsumerMessagesStats {
    const s = this._stats;
    s.pendingMessages = this.pendingMsgs;
    s.pendingBytes = this.pendingBytes;
    return { ...s };
  }

  getProcessed(): number {
    return this._stats.delivered - this.queue.length;
  }
  getPending(): number {
    return this.queue.length;
  }

  private pull(): void {
    if (this.done || this.restarting) return;
    const nc = this.t.nc;
    if (nc.getServer() === "") return; // disconnected: the next tick after the reconnect pulls
    const batch = this.maxMessages - this.pendingMsgs - this.queue.length;
    if (batch <= 0) return;
    let body = `{"batch":${batch},"expires":${this.expires * 1000000}`;
    let bytes = this.maxBytes > 0 ? this.maxBytes - this.pendingBytes : 0;
    if (this.bufferBytes > 0) {
      // copies wait for the reader: never ask for more than the buffer has room for
      const room = this.bufferBytes - this.queuedBytes - this.pendingBytes;
      bytes = bytes > 0 && bytes < room ? bytes : room;
    }
    if (this.maxBytes > 0 || this.bufferBytes > 0) {
      if (bytes <= 0) return;
      body += `,"max_bytes":${bytes}`;
    }
    if (this.heartbeat > 0) body += `,"idle_heartbeat":${this.heartbeat * 1000000}`;
    body += "}";
    try {
      nc.publish(this.t.nextSubject(), body, { reply: this.inbox });
    } catch (e) {
      if (this.mode === Mode.Fetch) this.finish(e as Error);
      return; // consume: the next tick tries again
    }
    this.pendingMsgs += batch;
    this.pendingBytes += bytes;
    this._stats.pulls++;
  }

  private onMsg(msg: Msg | null): void {
    if (msg === null || this.done) return;
    this.lastActivity = Date.now();
    if (msg.reply === "" && msg.data.length === 0) {
      this.onStatus(msg);
      return;
    }
    if (this.restarting) return; // an ordered consumer's old delivery
    const cb = this.callback;
    const size = msg.data.length + msg.subject.length + msg.reply.length;
    if ((this.pendingMsgs === 0 && this.queue.length >= this.maxMessages) || (cb === null && this.queuedBytes + size > this.bufferBytes)) {
      this._stats.dropped++; // more than was asked for
      return;
    }
    if (this.pendingMsgs > 0) this.pendingMsgs--;
    this.pendingBytes = this.pendingBytes > size ? this.pendingBytes - size : 0;
    const t = this.t;
    const m = new JsMsg(t.nc, cb === null ? msg.copy() : msg, t.timeout);
    if (t.check !== undefined) {
      let inOrder: boolean;
      try {
        inOrder = t.check(m);
      } catch {
        this._stats.dropped++; // no delivery info in its reply subject: not from the consumer
        return;
      }
      if (!inOrder) {
        this.restart();
        return;
      }
    }
    this._stats.delivered++;
    if (cb !== null) {
      try {
        cb(m);
      } catch {
        this._stats.callbackErrors++;
      }
    } else {
      const w = this.waiting;
      if (w !== null) {
        this.waiting = null;
        this.waitingReject = null;
        w({ value: m, done: false });
      } else {
        this.queue.push(m);
        this.queuedBytes += size;
      }
    }
    this.afterDelivery();
  }

  private afterDelivery(): void {
    if (this.mode === Mode.Fetch) {
      if (this.pendingMsgs === 0) this.finish(null);
    } else if (this.pendingMsgs + this.queue.length <= this.threshold) this.pull();
  }

  private onStatus(msg: Msg): void {
    const h = msg.headers;
    const code = h === undefined ? 0 : h.code;
    const s = this._stats;
    if (code === 100) {
      s.heartbeats++;
      return;
    }
    const description = h === undefined ? "" : h.description;
    s.lastStatus = code;
    s.lastDescription = description;
    if (this.mode === Mode.Fetch) {
      if (code === 404 || code === 408 || (code === 409 && description.indexOf("MaxBytes") >= 0)) this.finish(null);
      else this.finish(new JetStreamStatusError(code, description));
      return;
    }
    if (code === 408 || code === 404) {
      // a pull expired: what it still owed is owed no more
      // (the status says how much of that pull went undelivered; without it, start over)
      this.pendingMsgs = owedAfter(this.pendingMsgs, h === undefined ? "" : h.get("Nats-Pending-Messages"));
      this.pendingBytes = owedAfter(this.pendingBytes, h === undefined ? "" : h.get("Nats-Pending-Bytes"));
      this.afterDelivery();
      return;
    }
    if (this.t.restart !== undefined && (code === 503 || (code === 409 && description.indexOf("Deleted") >= 0))) {
      this.restart(); // an ordered consumer the server no longer has: make it again
      return;
    }
    if (code === 409 && (description.indexOf("Deleted") >= 0 || description.indexOf("push based") >= 0)) {
      this.finish(new JetStreamStatusError(code, description));
      return;
    }
    // other limits (max waiting, max batch...): start over on the next tick
    this.pendingMsgs = 0;
    this.pendingBytes = 0;
  }

  private tick(): void {
    if (this.done) return;
    const nc = this.t.nc;
    if (nc.isClosed()) {
      this.finish(null);
      return;
    }
    if (this.mode === Mode.Fetch) {
      this.timer = null; // a one-shot timer that fired is not cleared again
      this.finish(null); // the pull's time is over
      return;
    }
    const reconnects = nc.stats().reconnects;
    const now = Date.now();
    if (reconnects !== this.reconnects || now - this.lastActivity > 2 * this.heartbeat + PULL_RETRY_MS) {
      // heartbeats stopped or the connection changed: the server may have forgotten our pulls
      this.reconnects = reconnects;
      this.lastActivity = now;
      this.pendingMsgs = 0;
      this.pendingBytes = 0;
      this._stats.resets++;
    }
    if (this.pendingMsgs + this.queue.length <= this.threshold) this.pull();
  }

  /** Ordered consumers: drops the old delivery and continues from the last message delivered. */
  private restart(): void {
    const restart = this.t.restart;
    if (restart === undefined || this.restarting) return;
    this.restarting = true;
    this._stats.resets++;
    if (this.sub !== null) this.sub.unsubscribe();
    this.pendingMsgs = 0;
    this.pendingBytes = 0;
    restart.call(this.t).then(
      () => {
        this.restarting = false;
        if (this.done) return;
        this.subscribe();
        this.lastActivity = Date.now();
        this.pull();
      },
      () => {
        // the consumer could not be made now: the next tick tries again
        this.restarting = false;
        if (this.done) return;
        this.subscribe();
        this.restart();
      },
    );
  }

  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    if (this.timer !== null) Timer.clear(this.timer);
    this.timer = null;
    if (this.sub !== null && !this.t.nc.isClosed()) this.sub.unsubscribe();
    this.sub = null;
    if (this.t.ended !== undefined) this.t.ended();
    const w = this.waiting;
    const wr = this.waitingReject;
    if (w !== null && wr !== null && this.queue.length === 0) {
      this.waiting = null;
      this.waitingReject = null;
      if (err === null) w({ value: undefined, done: true });
      else wr(err);
    }
    const cw = this.closedWaiters;
    this.closedWaiters = [];
    for (const r of cw) r(err ?? undefined);
  }

  /** Stops pulling; messages already queued can still be read. */
  close(): Promise<void | Error> {
    this.finish(null);
    return Promise.resolve();
  }

  /** Resolves when the messages end: undefined, or the error that ended them. */
  closed(): Promise<void | Error> {
    if (this.done) return Promise.resolve(this.error ?? undefined);
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<JsMsg> {
    if (this.callback !== null) throw new InvalidArgumentError("messages go to the callback: a consume() with a callback cannot be iterated");
    return {
      next: (): Promise<IteratorResult<JsMsg>> => {
        const m = this.queue.shift();
        if (m !== undefined) {
          this.queuedBytes -= m.data.length + m.subject.length + m.reply.length;
          if (this.mode === Mode.Consume && this.pendingMsgs + this.queue.length <= this.threshold) this.pull();
          return Promise.resolve({ value: m, done: false });
        }
        if (this.done) return this.error === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.error);
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.waitingReject = reject;
        });
      },
      return: (): Promise<IteratorResult<JsMsg>> => {
        this.finish(null);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

