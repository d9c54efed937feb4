/**
 * A subscription: its sid, its remaining budget of messages, and where its messages go (a callback,
 * or a bounded queue read with `for await`).
 */
import { ClosedConnectionError } from "./errors.js";
import type { Msg } from "./msg.js";

export type MsgCallback = (err: Error | null, msg: Msg | null) => void;

export interface SubscriptionOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Unsubscribe automatically after this many messages. */
  max?: number;
  /** Called for each message; without it, read the subscription with `for await`. */
  callback?: MsgCallback;
  /** Deliver each message in pieces (MsgChunk) as it arrives, so that a message larger than the
   *  receive buffer passes through the device. Requires a callback. */
  chunks?: boolean;
  /** Without a callback: messages queued for the iterator before new ones are dropped and counted
   *  (default 64). Queued messages are copies. */
  maxPending?: number;
}

/** What a subscription needs of its connection. */
export interface SubscriptionOwner {
  unsubscribe(sub: Subscription, max: number): void;
  drainSubscription(sub: Subscription): Promise<void>;
}

export class Subscription implements AsyncIterable<Msg> {
  readonly sid: number;
  readonly subject: string;
  readonly queue: string;
  readonly chunks: boolean;
  /** Messages (or last chunks) delivered, including those skipped as too large. */
  received = 0;
  /** Messages dropped: too large for the receive buffer, or the iterator queue was full. */
  dropped = 0;
  /** 0 for no limit; otherwise the total number of messages after which the subscription ends. */
  max: number;
  readonly callback: MsgCallback | null;
  /** Set when the subscription ended. */
  done = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  readonly #owner: SubscriptionOwner;
  #queue: Msg[] | null = null;
  #waiting: ((r: IteratorResult<Msg>) => void) | null = null;
  readonly #maxPending: number;
  #error: Error | null = null;

  constructor(owner: SubscriptionOwner, sid: number, subject: string, options: SubscriptionOptions) {
    this.#owner = owner;
    this.sid = sid;
    this.subject = subject;
    this.queue = options.queue ?? "";
    this.max = options.max ?? 0;
    this.callback = options.callback ?? null;
    this.chunks = options.chunks === true;
    this.#maxPending = options.maxPending ?? 64;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Stops the subscription now, or after `max` messages in all. */
  unsubscribe(max?: number): void {
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
    return this.received - this.dropped - (this.#queue === null ? 0 : this.#queue.length);
  }
  getPending(): number {
    return this.#queue === null ? 0 : this.#queue.length;
  }
  getMax(): number | undefined {
    return this.max === 0 ? undefined : this.max;
  }

  /** Queues a copy for the iterator; false when the queue is full (the caller counts the drop). */
  enqueue(msg: Msg): boolean {
    const w = this.#waiting;
    if (w !== null) {
      this.#waiting = null;
      w({ value: msg.copy(), done: false });
      return true;
    }
    if (this.#queue === null) this.#queue = [];
    if (this.#queue.length >= this.#maxPending) return false;
    this.#queue.push(msg.copy());
    return true;
  }

  /** Ends the subscription: iterators finish after the queued messages; `error` ends them with it. */
  finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.#error = error;
    const w = this.#waiting;
    this.#waiting = null;
    if (w !== null) w({ value: undefined, done: true });
    this.#resolveClosed();
  }

  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    return {
      next: (): Promise<IteratorResult<Msg>> => {
        const q = this.#queue;
        if (q !== null && q.length > 0) return Promise.resolve({ value: q.shift() as Msg, done: false });
        if (this.done) return this.#error === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
        return new Promise((resolve) => {
          this.#waiting = resolve;
        });
      },
      return: (): Promise<IteratorResult<Msg>> => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
