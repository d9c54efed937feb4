/**
 * Connection status events as an async iterable (nats.js v3 `nc.status()`). Events are rare, so a
 * small bounded queue per listener is enough; when a listener falls behind, the oldest event is
 * dropped and the count is reported on the next event it reads.
 */

/** A status event. `type` is one of: disconnect, reconnecting, reconnect, update, ldm,
 *  error, staleConnection, ping, close. */
export interface Status {
  type: string;
  /** The server involved, as host:port. */
  server?: string;
  /** For "error": the error. */
  error?: Error;
  /** For "update": servers added to and deleted from the pool. */
  added?: string[];
  deleted?: string[];
  /** For "disconnect": messages handed to the socket after the last PONG, which may or may not
   *  have reached the server (TCP cannot tell); those still queued are sent after the reconnect. */
  unconfirmed?: number;
  /** For "ping": PINGs sent without a PONG yet. */
  pendingPings?: number;
  /** Events this listener missed because it did not read them in time. */
  missed?: number;
}

const QUEUE_LIMIT = 32;

/** One listener's queue. */
export class StatusStream implements AsyncIterableIterator<Status> {
  #queue: Status[] = [];
  #waiting: ((r: IteratorResult<Status>) => void) | null = null;
  #done = false;
  #missed = 0;
  readonly #detach: (s: StatusStream) => void;

  constructor(detach: (s: StatusStream) => void) {
    this.#detach = detach;
  }

  push(event: Status): void {
    if (this.#done) return;
    const w = this.#waiting;
    if (w !== null) {
      this.#waiting = null;
      w({ value: this.#stamp(event), done: false });
      return;
    }
    if (this.#queue.length === QUEUE_LIMIT) {
      this.#queue.shift();
      this.#missed++;
    }
    this.#queue.push(event);
  }

  #stamp(event: Status): Status {
    if (this.#missed === 0) return event;
    const e = { ...event, missed: this.#missed };
    this.#missed = 0;
    return e;
  }

  /** Ends the iteration (the connection closed). Queued events are still read first. */
  end(): void {
    this.#done = true;
    const w = this.#waiting;
    this.#waiting = null;
    if (w !== null) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<Status>> {
    const e = this.#queue.shift();
    if (e !== undefined) return Promise.resolve({ value: this.#stamp(e), done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<Status>> {
    this.#detach(this);
    this.end();
    this.#queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Status> {
    return this;
  }
}
