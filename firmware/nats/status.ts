/**
 * Connection status events. The connection hands each event to its listeners; the async iterable
 * of nats.js v3 (`nc.status()`) is a module of its own, `nats-xs/status`, that an app imports
 * when it reads the events (pay for what you use).
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

/** A status listener of the connection: what nats-xs/status's iterator is to it. */
export interface StatusListener {
  /** One event; called during the connection's own work, so it must only queue it. */
  push(event: Status): void;
  /** The connection closed: no more events. */
  end(): void;
}
