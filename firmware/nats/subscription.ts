/**
 * A subscription: its sid, its remaining budget of messages, and where its messages go (a callback,
 * or a bounded queue read with `for await`).
 */
import { ClosedConnectionError, InvalidArgumentError } from "./errors.js";
import { isLiteral } from "./subjects.js";
import type { Msg, MsgChunk } from "./msg.js";

/**
 * A subscription's callback: a message with `err` null, or an error with no message. Typed as
 * the two cases it is, so that `if (err) return;` leaves `msg` non-null, as nats.js types it.
 */
export type MsgCallback<T = Msg> = (...args: [err: null, msg: T] | [err: Error, msg: null]) => void;

export interface SubscriptionOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Unsubscribe automatically after this many messages. */
  max?: number;
  /** Called for each message; without it, read the subscription with `for await`. */
  callback?: MsgCallback<Msg>;
  /** Deliver each message in pieces (MsgChunk) as it arrives, so that a message larger than the
   *  receive buffer passes through the device. Requires a callback. Each piece's `data` is a view
   *  of the receive memory, valid until the callback returns (as with `zeroCopy`). */
  chunks?: boolean;
  /** With a callback: `msg.data` (and the headers' bytes) are views of the client's receive
   *  memory instead of copies, valid only until the callback returns; the next message reuses
   *  that memory. Saves a copy per message. After the callback, `msg.string()`, `msg.json()`,
   *  `msg.headers` and `msg.copy()` throw; keep `msg.copy()` made inside it. Default false: every
   *  message's bytes are the caller's to keep, as in nats.js. */
  zeroCopy?: boolean;
  /** Without a callback: messages queued for the iterator before new ones are dropped and counted
   *  (default 64). Queued messages are copies. */
  maxPending?: number;
  /** Without a callback: bytes (payload plus headers) the iterator's queued copies may hold before
   *  new messages are dropped and counted (default 16384). */
  maxPendingBytes?: number;
}

/** A subscription taking each message in pieces: its callback gets `MsgChunk`s. */
export interface ChunkSubscriptionOptions extends Omit<SubscriptionOptions, "callback" | "chunks" | "maxPending" | "maxPendingBytes"> {
  chunks: true;
  callback: MsgCallback<MsgChunk>;
}

/** Default bound of an iterator's queue in bytes: 64 messages of 4 KB would take 256 KB, more than
 *  an ESP32 app has; 16 KB is a fifth of its chunk heap. */
export const MAX_PENDING_BYTES = 16384;

/** @internal What enqueue() did. */
export const Enqueued = Object.freeze({ Ok: 0, FullMessages: 1, FullBytes: 2 });

/** @internal What a subscription needs of its connection. */
export interface SubscriptionOwner {
  unsubscribe(sub: Subscription, max: number): void;
  drainSubscription(sub: Subscription): Promise<void>;
}

/** Bit flags of a subscription. */
const enum Flag {
  Chunks = 1,
  ZeroCopy = 2,
  Literal = 4,
  Done = 8,
  /** A drop happened and no message was queued since: one report per episode. */
  Overflowing = 16,
}

/** What most subscriptions never use, made on first need: a queue group, drops, errors, the
 *  `closed` promise. A device holds many subscriptions; each field kept on every one of them costs
 *  a slot. */
class Extra {
  queue = "";
  /** See Subscription.max. */
  max = 0;
  dropped = 0;
  lastError: Error | null = null;
  /** The error that ended the subscription, for an iterator still reading. */
  error: Error | null = null;
  closed: Promise<void> | null = null;
  resolveClosed: (() => void) | null = null;
}

/** What an iterator reading the subscription needs (with its bounds, when the options gave them). */
class IteratorState {
  /** Queued copies and the bytes they hold. */
  pending: Msg[] | null = null;
  bytes = 0;
  /** next() waiting for a message. */
  waiting: ((r: IteratorResult<Msg>) => void) | null = null;
  maxPending = 64;
  maxPendingBytes = MAX_PENDING_BYTES;
}

/** As nats.js: a subscription's messages go to its callback or to its iterator, never both. */
const CALLBACK_NOT_ITERATED = "a subscription with a callback cannot be iterated; subscribe without one to use for await";

/** The iterator's answer when it is over. */
const DONE: IteratorResult<Msg> = Object.freeze({ value: undefined, done: true });

// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class Subscription implements AsyncIterable<Msg>, AsyncIterator<Msg> {
  readonly sid: number;
  readonly subject: string;
  /** Messages (or last chunks) delivered, including those skipped as too large. */
  received = 0;
  /** The callback, or, without one, what the iterator needs (made on first need): a subscription
   *  is one or the other, and one slot serves both. */
  private sink: MsgCallback<Msg> | IteratorState | null;
  private flags: number;
  private x: Extra | null = null;
  private readonly owner: SubscriptionOwner;

  /** @internal Made by NatsConnection.subscribe(). */
  constructor(owner: SubscriptionOwner, sid: number, subject: string, options: SubscriptionOptions) {
    this.owner = owner;
    this.sid = sid;
    this.subject = subject;
    if (options.max !== undefined && options.max > 0) this.extra().max = options.max;
    this.sink = options.callback ?? null;
    this.flags = (options.chunks === true ? Flag.Chunks : 0) | (options.zeroCopy === true ? Flag.ZeroCopy : 0) | (isLiteral(subject) ? Flag.Literal : 0);
    if (options.queue !== undefined) this.extra().queue = options.queue;
    if (this.sink === null && (options.maxPending !== undefined || options.maxPendingBytes !== undefined)) {
      const it = this.iter();
      it.maxPending = options.maxPending ?? 64;
      it.maxPendingBytes = options.maxPendingBytes ?? MAX_PENDING_BYTES;
    }
  }

  /** @internal */
  private extra(): Extra {
    if (this.x === null) this.x = new Extra();
    return this.x;
  }

  /** @internal */
  private iter(): IteratorState {
    if (this.sink === null) this.sink = new IteratorState();
    return this.sink as IteratorState;
  }

  /** @internal The callback messages go to; null for a subscription read as an iterator. */
  get callback(): MsgCallback<Msg> | null {
    return typeof this.sink === "function" ? this.sink : null;
  }

  /** 0 for no limit; otherwise the total number of messages after which the subscription ends
   *  (kept aside with the other rarely used state: most subscriptions have no limit). */
  get max(): number {
    return this.x === null ? 0 : this.x.max;
  }
  set max(n: number) {
    if (n !== 0 || this.x !== null) this.extra().max = n;
  }

  /** Queue group, or "". */
  get queue(): string {
    return this.x === null ? "" : this.x.queue;
  }
  /** Messages are delivered in pieces (MsgChunk). */
  get chunks(): boolean {
    return (this.flags & Flag.Chunks) !== 0;
  }
  /** Callback messages are views of the receive memory (see SubscriptionOptions.zeroCopy). */
  get zeroCopy(): boolean {
    return (this.flags & Flag.ZeroCopy) !== 0;
  }
  /** No wildcard token: every message carries exactly `subject`, which need not be decoded. */
  get literal(): boolean {
    return (this.flags & Flag.Literal) !== 0;
  }
  /** Set when the subscription ended. */
  get done(): boolean {
    return (this.flags & Flag.Done) !== 0;
  }
  /** Messages dropped: too large for the receive buffer, or the iterator queue was full. */
  get dropped(): number {
    return this.x === null ? 0 : this.x.dropped;
  }
  set dropped(n: number) {
    this.extra().dropped = n;
  }
  /** The last error reported on this subscription without ending it (e.g. SlowConsumerError). */
  get lastError(): Error | null {
    return this.x === null ? null : this.x.lastError;
  }
  set lastError(e: Error | null) {
    this.extra().lastError = e;
  }

  /** Resolves when the subscription ends (unsubscribed, max reached, drained, or closed). */
  get closed(): Promise<void> {
    const x = this.extra();
    if (x.closed === null) {
      x.closed = this.done
        ? Promise.resolve()
        : new Promise((resolve) => {
            x.resolveClosed = resolve;
          });
    }
    return x.closed;
  }

  /** Stops the subscription now, or after `max` messages in all. */
  unsubscribe(max?: number): void {
    if (max !== undefined && (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0))
      throw new InvalidArgumentError(`unsubscribe(max): max must be a whole number of messages, not ${String(max)}`);
    if (this.done) return;
    this.owner.unsubscribe(this, max ?? 0);
  }

  /** Unsubscribes, but delivers the messages the server already sent; resolves when done. */
  drain(): Promise<void> {
    if (this.done) return Promise.reject(new ClosedConnectionError("the subscription is already closed"));
    return this.owner.drainSubscription(this);
  }

  isClosed(): boolean {
    return this.done;
  }
  getSubject(): string {
    return this.subject;
  }
  getID(): number {
    return this.sid;
  }
  getReceived(): number {
    return this.received;
  }
  /** Messages handed to the callback or the iterator so far. */
  getProcessed(): number {
    return this.received - this.dropped - this.getPending();
  }
  getPending(): number {
    const it = this.sink;
    const p = it === null || typeof it === "function" ? null : it.pending;
    return p === null ? 0 : p.length;
  }
  getMax(): number | undefined {
    return this.max === 0 ? undefined : this.max;
  }

  /** @internal Whether the iterator takes a message holding `bytes`: an Enqueued value, not Ok
   *  when a bound is hit (the caller counts the drop and, when `firstDrop()` says so, reports it).
   *  Asked before the caller copies the message, so that a drop costs no copy. */
  room(bytes: number): number {
    const x = this.iter();
    if (x.waiting !== null) return Enqueued.Ok;
    const n = x.pending === null ? 0 : x.pending.length;
    if (n >= x.maxPending) return Enqueued.FullMessages;
    if (x.bytes + bytes > x.maxPendingBytes) return Enqueued.FullBytes;
    return Enqueued.Ok;
  }

  /** @internal Hands the iterator a message the caller owns (after room() said Ok). */
  enqueue(msg: Msg): void {
    const x = this.iter();
    this.flags &= ~Flag.Overflowing;
    const w = x.waiting;
    if (w !== null) {
      x.waiting = null;
      w({ value: msg, done: false });
      return;
    }
    x.bytes += msg.heldBytes;
    if (x.pending === null) x.pending = [];
    x.pending.push(msg);
  }

  /** @internal True for the first drop since a message was last queued: drops are reported once per episode. */
  firstDrop(): boolean {
    if ((this.flags & Flag.Overflowing) !== 0) return false;
    this.flags |= Flag.Overflowing;
    return true;
  }

  /** @internal Ends the subscription: iterators finish after the queued messages; `error` ends them with it. */
  finish(error: Error | null): void {
    if (this.done) return;
    this.flags |= Flag.Done;
    if (error !== null) this.extra().error = error;
    const it = this.sink;
    if (it !== null && typeof it !== "function" && it.waiting !== null) {
      const w = it.waiting;
      it.waiting = null;
      w(DONE);
    }
    const x = this.x;
    if (x === null || x.resolveClosed === null) return;
    x.resolveClosed();
    x.resolveClosed = null;
  }

  /** The subscription is its own iterator: reading it with `for await` costs no further object. */
  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    if (typeof this.sink === "function") throw new InvalidArgumentError(CALLBACK_NOT_ITERATED);
    return this;
  }

  /** The iterator's next message: read the subscription with `for await`. */
  next(): Promise<IteratorResult<Msg>> {
    if (typeof this.sink === "function") return Promise.reject(new InvalidArgumentError(CALLBACK_NOT_ITERATED));
    const it = this.iter();
    const p = it.pending;
    if (p !== null && p.length > 0) {
      const m = p.shift() as Msg;
      it.bytes -= m.heldBytes;
      if (p.length === 0) it.pending = null;
      return Promise.resolve({ value: m, done: false });
    }
    if (this.done) {
      const error = this.x === null ? null : this.x.error;
      return error === null ? Promise.resolve(DONE) : Promise.reject(error);
    }
    return new Promise((resolve) => {
      it.waiting = resolve;
    });
  }

  /** Leaving a `for await` loop early (break, return, throw) unsubscribes. */
  return(): Promise<IteratorResult<Msg>> {
    this.unsubscribe();
    return Promise.resolve(DONE);
  }
}
