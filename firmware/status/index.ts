/**
 * nats-xs/status: a connection's status events as an async iterable, as nats.js v3's
 * `nc.status()`, in a module of its own so that an app that never reads them does not carry it.
 *
 *   import { status } from "nats-xs/status";
 *   for await (const s of status(nc)) trace(`${s.type} ${s.server ?? ""}\n`);
 *
 * Events are rare, so a small bounded queue per listener is enough; when a listener falls behind,
 * the oldest event is dropped and the count is reported (`missed`) on the next event it reads.
 */
import type { NatsConnection, Status } from "nats-xs";

/** Status events of `nc` from now on (disconnect, reconnecting, reconnect, update, ldm, error,
 *  slowConsumer, staleConnection, ping, close); the iteration ends when the connection closes. */
export function status(nc: NatsConnection): AsyncIterableIterator<Status> {
  return new StatusStream(nc);
}

const QUEUE_LIMIT = 32;

/** One listener's queue. */
export class StatusStream implements AsyncIterableIterator<Status> {
  private queue: Status[] = [];
  private waiting: ((r: IteratorResult<Status>) => void) | null = null;
  private done = false;
  private missed = 0;
  private readonly nc: NatsConnection;

  constructor(nc: NatsConnection) {
    this.nc = nc;
    // a closed connection has no more events: the iteration ends at once
    if (!nc.listen(this)) this.end();
  }

  push(event: Status): void {
    if (this.done) return;
    const w = this.waiting;
    if (w !== null) {
      this.waiting = null;
      w({ value: this.stamp(event), done: false });
      return;
    }
    if (this.queue.length === QUEUE_LIMIT) {
      this.queue.shift();
      this.missed++;
    }
    this.queue.push(event);
  }

  private stamp(event: Status): Status {
    if (this.missed === 0) return event;
    const e = { ...event, missed: this.missed };
    this.missed = 0;
    return e;
  }

  /** Ends the iteration (the connection closed). Queued events are still read first. */
  end(): void {
    this.done = true;
    const w = this.waiting;
    this.waiting = null;
    if (w !== null) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<Status>> {
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve({ value: this.stamp(e), done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<Status>> {
    this.nc.unlisten(this);
    this.end();
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Status> {
    return this;
  }
}
