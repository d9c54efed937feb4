/**
 * Error classes of nats-xs/kv. `name` is set once on each prototype (nameErrors): a preloaded Error.prototype is frozen.
 * Server refusals (a compare-and-set that lost: code 10071) stay the JetStreamApiError that
 * nats-xs/jetstream raises, as nats.js reports them.
 */

import { nameErrors } from "nats-xs";

/** Base class of the KV errors. */
export class KvError extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** A watch, keys() or history() had to drop entries: its queue (maxQueueBytes) was full. */
export class KvWatchOverflowError extends KvError {
  readonly dropped: number;
  constructor(dropped: number, maxBytes: number) {
    super(`${dropped} entries were dropped: more than maxQueueBytes (${maxBytes}) waited to be read; read faster, raise maxQueueBytes or use a callback`);
    this.dropped = dropped;
  }
}

/** A watch ended because the server kept sending what could not be received (a value larger
 *  than the connection's receive buffer), or the bucket went away. */
export class KvWatchError extends KvError {
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [KvError, "KvError"],
  [KvWatchOverflowError, "KvWatchOverflowError"],
  [KvWatchError, "KvWatchError"],
]);
