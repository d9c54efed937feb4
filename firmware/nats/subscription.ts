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

/** What an iterator reading the subscription needs; created only when one is used. */
class IteratorState {
  readonly queue: Msg[] = [];
  /** Bytes the queued copies hold. */
  bytes = 0;
  /** A drop happened and no message was queued since: one report per episode. */
  overflowing = false;
  waiting: ((r: IteratorResult<Msg>) => void) | null = null;
}

export class Subscription implements AsyncIterable<Msg> {
  readonly sid: number;
  readonly subject: string;
  readonly queue: string;
  readonly chunks: boolean;
  /** Callback messages are views of the receive memory (see SubscriptionOptions.zeroCopy). */
  readonly zeroCopy: boolean;
  /** No wildcard token: every message carries exactly `subject`, which need not be decoded. */
  readonly literal: boolean;
  /** Messages (or last chunks) delivered, including those skipped as too large. */
  received = 0;
  /** Messages dropped: too large for the receive buffer, or the iterator queue was full. */
  dropped = 0;
  /** 0 for no limit; otherwise the total number of messages after which the subscription ends. */
  max: number;
  /** @internal */
  readonly callback: MsgCallback<Msg> | null;
  /** Set when the subscription ended. */
  done = false;
  // the `closed` promise and the iterator's state are made only when asked for: most
  // subscriptions never use them, and each costs a dozen slots on the device
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;
  #iter: IteratorState | null = null;
  readonly #owner: SubscriptionOwner;
  readonly #maxPending: number;
  readonly #maxPendingBytes: number;
  #error: Error | null = null;
  /** The last error reported on this subscription without ending it (e.g. SlowConsumerError). */
  lastError: Error | null = null;

  /** @internal Made by NatsConnection.subscribe(). */
  constructor(owner: SubscriptionOwner, sid: number, subject: string, options: SubscriptionOptions) {
    this.#owner = owner;
    this.sid = sid;
    this.subject = subject;
    this.literal = isLiteral(subject);
    this.queue = options.queue ?? "";
    this.max = options.max ?? 0;
    this.callback = options.callback ?? null;
    this.chunks = options.chunks === true;
    this.zeroCopy = options.zeroCopy === true;
    this.#maxPending = options.maxPending ?? 64;
    this.#maxPendingBytes = options.maxPendingBytes ?? MAX_PENDING_BYTES;
  }

  /** Resolves when the subscription ends (unsubscribed, max reached, drained, or closed). */
  get closed(): Promise<void> {
    if (this.#closed === null) {
      this.#closed = this.done
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#resolveClosed = resolve;
          });
    }
    return this.#closed;
  }

  /** Stops the subscription now, or after `max` messages in all. */
  unsubscribe(max?: number): void {
    if (max !== undefined && (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0))
      throw new InvalidArgumentError(`unsubscribe(max): max must be a whole number of messages, not ${String(max)}`);
    if (this.done) return;
    this.#owner.unsubscribe(this, max ?? 0);
  }

  /** Unsubscribes, but delivers the messages the server already sent; resolves when done. */
  drain(): Promise<void> {
    if (this.done) return Promise.reject(new ClosedConnectionError("the subscription is already closed"));
    return this.#owner.drainSubscription(this);
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
    return this.#iter === null ? 0 : this.#iter.queue.length;
  }
  getMax(): number | undefined {
    return this.max === 0 ? undefined : this.max;
  }

  /** @internal Queues a copy for the iterator; an Enqueued value: not Ok when a bound is hit (the caller
   *  counts the drop and, when `firstDrop()` says so, reports it). */
  enqueue(msg: Msg): number {
    if (this.#iter === null) this.#iter = new IteratorState();
    const it = this.#iter;
    const w = it.waiting;
    if (w !== null) {
      it.waiting = null;
      it.overflowing = false;
      w({ value: msg.copy(), done: false });
      return Enqueued.Ok;
    }
    if (it.queue.length >= this.#maxPending) return Enqueued.FullMessages;
    const size = msg.heldBytes;
    if (it.bytes + size > this.#maxPendingBytes) return Enqueued.FullBytes;
    it.overflowing = false;
    it.bytes += size;
    it.queue.push(msg.copy());
    return Enqueued.Ok;
  }

  /** @internal True for the first drop since a message was last queued: drops are reported once per episode. */
  firstDrop(): boolean {
    const it = this.#iter as IteratorState;
    if (it.overflowing) return false;
    it.overflowing = true;
    return true;
  }

  /** @internal Ends the subscription: iterators finish after the queued messages; `error` ends them with it. */
  finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.#error = error;
    const it = this.#iter;
    if (it !== null && it.waiting !== null) {
      const w = it.waiting;
      it.waiting = null;
      w({ value: undefined, done: true });
    }
    if (this.#resolveClosed !== null) this.#resolveClosed();
  }

  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    if (this.#iter === null) this.#iter = new IteratorState();
    const it = this.#iter;
    return {
      next: (): Promise<IteratorResult<Msg>> => {
        if (it.queue.length > 0) {
          const m = it.queue.shift() as Msg;
          it.bytes -= m.heldBytes;
          return Promise.resolve({ value: m, done: false });
        }
        if (this.done) return this.#error === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
        return new Promise((resolve) => {
          it.waiting = resolve;
        });
      },
      return: (): Promise<IteratorResult<Msg>> => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
