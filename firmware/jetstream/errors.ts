/**
 * Error classes of nats-xs/jetstream, named and shaped as in `@nats-io/jetstream` 3.x: a
 * JetStreamApiError's `code` is the JetStream error code (`err_code`, e.g. 10059) and `status` the
 * HTTP-like code (e.g. 404), so that code written against nats.js tests the same numbers here.
 *
 * `name` is set once on each prototype (nameErrors), never assigned: a preloaded Error.prototype is frozen on Moddable.
 */

import { nameErrors } from "nats-xs";

/** The body of a JetStream API error (`{"error":{"code":404,"err_code":10059,"description":"..."}}`). */
export interface ApiError {
  code: number;
  err_code: number;
  description: string;
}

/** JetStream error codes a caller commonly tests (values of `err.code`). */
export const JetStreamApiCodes = Object.freeze({
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  JetStreamNotEnabledForAccount: 10039,
  StreamWrongLastSequence: 10071,
  NoMessageFound: 10037,
});

/** Base class of the JetStream errors. */
export class JetStreamError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** The server refused an API call or a publish: `code` is the JetStream code (`err_code`). */
export class JetStreamApiError extends JetStreamError {
  readonly #api: ApiError;
  constructor(api: ApiError) {
    super(`JetStream error ${api.err_code} (${api.code}): ${api.description}`);
    this.#api = { code: api.code, err_code: api.err_code, description: api.description };
  }
  /** The JetStream error code, as nats.js reports it (e.g. 10059 for stream not found). */
  get code(): number {
    return this.#api.err_code;
  }
  /** Same as `code`, under the name the server gives it. */
  get err_code(): number {
    return this.#api.err_code;
  }
  /** The HTTP-like status code (e.g. 400, 404, 503). */
  get status(): number {
    return this.#api.code;
  }
  get description(): string {
    return this.#api.description;
  }
  apiError(): ApiError {
    return { code: this.#api.code, err_code: this.#api.err_code, description: this.#api.description };
  }
}

/** The stream named does not exist (err_code 10059). */
export class StreamNotFoundError extends JetStreamApiError {
}

/** The consumer named does not exist (err_code 10014). */
export class ConsumerNotFoundError extends JetStreamApiError {
}

/** Nobody answers the JetStream API: the server has JetStream off, or the domain/prefix is wrong. */
export class JetStreamNotEnabled extends JetStreamError {
  constructor(subject: string) {
    super(`nobody answered the JetStream API on ${JSON.stringify(subject)}: enable JetStream on the server (-js) or check the domain and apiPrefix options`);
  }
}

/** A publish went to a subject that no stream captures (the server answered 503, no responders). */
export class NoStreamError extends JetStreamError {
  readonly subject: string;
  constructor(subject: string) {
    super(`no JetStream stream captures subject ${JSON.stringify(subject)} (the server answered 503): create a stream whose subjects include it, or check the subject`);
    this.subject = subject;
  }
}

/** A pull request ended with a status the caller must hear of (409 and other codes). */
export class JetStreamStatusError extends JetStreamError {
  readonly code: number;
  readonly description: string;
  constructor(code: number, description: string) {
    super(`JetStream pull status ${code}${description === "" ? "" : ` ${description}`}`);
    this.code = code;
    this.description = description;
  }
}

/** A reply from the server is not what the JetStream API defines: too large, nested too deep, not
 *  JSON, or a field of the wrong type. The reply is discarded; nothing built from it is kept. */
export class JetStreamResponseError extends JetStreamError {
  constructor(why: string) {
    super(`a JetStream reply was refused: ${why}`);
  }
}

/** The outbox holds `limit` bytes of unacknowledged publishes already: wait for acks (see
 *  `js.outboxStatus()`, `js.outboxIdle()`) or raise the `outboxBytes` option. Nothing was queued. */
export class OutboxFullError extends JetStreamError {
  readonly size: number;
  readonly waiting: number;
  readonly bytes: number;
  readonly limit: number;
  constructor(size: number, waiting: number, bytes: number, limit: number) {
    super(
      `the JetStream outbox is full (${waiting} publishes, ${bytes} of ${limit} bytes waiting for acks; this one needs ${size}): wait for acks or raise the outboxBytes option`,
    );
    this.size = size;
    this.waiting = waiting;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Builds the typed error for an API error body (stream and consumer not found get their class). */
export function apiError(api: ApiError): JetStreamApiError {
  if (api.err_code === JetStreamApiCodes.StreamNotFound) return new StreamNotFoundError(api);
  if (api.err_code === JetStreamApiCodes.ConsumerNotFound) return new ConsumerNotFoundError(api);
  return new JetStreamApiError(api);
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [JetStreamError, "JetStreamError"],
  [JetStreamApiError, "JetStreamApiError"],
  [StreamNotFoundError, "StreamNotFoundError"],
  [ConsumerNotFoundError, "ConsumerNotFoundError"],
  [JetStreamNotEnabled, "JetStreamNotEnabled"],
  [NoStreamError, "NoStreamError"],
  [JetStreamStatusError, "JetStreamStatusError"],
  [JetStreamResponseError, "JetStreamResponseError"],
  [OutboxFullError, "OutboxFullError"],
]);
