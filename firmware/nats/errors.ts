/**
 * Error classes of nats-xs. Callers test them with `instanceof`; `code` is a stable string for
 * logs and switch statements. Every message says what happened and what to do about it.
 *
 * `name` is a read-only value on each class's prototype, set once below, never an assignment in a
 * constructor: a preloaded `Error.prototype` is frozen on Moddable, and writing `this.name` would
 * throw there. (A getter per class did the same for six slots each when imported at run time.)
 */
export class NatsError extends Error {
  /** Stable machine-readable code, e.g. "TIMEOUT" or "503". */
  readonly code: string;
  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/** A caller passed something the API cannot accept (wrong type, out of range, bad header). */
export class InvalidArgumentError extends NatsError {
  constructor(message: string) {
    super(message, "INVALID_ARGUMENT");
  }
}

/** A subject or queue name that NATS does not allow; refused before anything is sent. */
export class InvalidSubjectError extends NatsError {
  readonly subject: string;
  constructor(subject: string, why: string) {
    super(`invalid subject ${JSON.stringify(subject)}: ${why}`, "BAD_SUBJECT");
    this.subject = subject;
  }
}

/** The message (payload plus headers) is larger than the server's max_payload. */
export class MaxPayloadError extends NatsError {
  readonly size: number;
  readonly max: number;
  constructor(size: number, max: number) {
    super(
      `message of ${size} bytes exceeds the server's max_payload of ${max} bytes; send it in parts, or raise max_payload in the server configuration`,
      "MAX_PAYLOAD_EXCEEDED",
    );
    this.size = size;
    this.max = max;
  }
}

/** A request or flush got no answer in time. */
export class TimeoutError extends NatsError {
  constructor(message = "timed out waiting for the server or responder; raise the timeout or check that a responder is running") {
    super(message, "TIMEOUT");
  }
}

/** A request went to a subject with no subscriber (the server answered with status 503). */
export class NoRespondersError extends NatsError {
  readonly subject: string;
  constructor(subject: string) {
    super(`no responders are subscribed to ${JSON.stringify(subject)}; start a responder or check the subject`, "503");
    this.subject = subject;
  }
}

/** The connection is closed: nothing more can be sent or received on it. Connect again. */
export class ClosedConnectionError extends NatsError {
  constructor(message = "the connection is closed; create a new one with connect()", cause?: unknown) {
    super(message, "CONNECTION_CLOSED", cause);
  }
}

/** The connection is draining: it accepts no new subscriptions or requests. */
export class DrainingConnectionError extends NatsError {
  constructor() {
    super("the connection is draining and accepts no new subscriptions or requests", "CONNECTION_DRAINING");
  }
}

/** No server could be reached, or the connection to it failed. */
export class ConnectionError extends NatsError {
  constructor(message: string, cause?: unknown) {
    super(message, "CONNECTION_REFUSED", cause);
  }
}

/** The server refused the credentials (user/pass or token). */
export class AuthorizationError extends NatsError {
  /** `text` is the server's -ERR; with `cause`, the client's own authenticator failed instead. */
  constructor(text: string, cause?: unknown) {
    super(
      cause === undefined
        ? `the server refused the credentials (${text}); check user, pass, token, nkey seed or JWT (expired or revoked?)`
        : `the authenticator could not sign in: ${text}; check the nkey seed or creds given to it`,
      "AUTHORIZATION_VIOLATION",
      cause,
    );
  }
}

/** The server denied a publish or a subscription; the connection stays open. */
export class PermissionViolationError extends NatsError {
  /** "publish" or "subscription" */
  readonly operation: string;
  readonly subject: string;
  readonly queue: string;
  constructor(text: string, operation: string, subject: string, queue: string) {
    super(`the server denied this ${operation}: ${text}; grant the permission on the server or use another subject`, "PERMISSIONS_VIOLATION");
    this.operation = operation;
    this.subject = subject;
    this.queue = queue;
  }
}

/** The server or the byte stream broke the NATS protocol; the connection is closed and retried. */
export class ProtocolError extends NatsError {
  constructor(message: string) {
    super(message, "PROTOCOL_ERROR");
  }
}

/** An -ERR from the server that is not one of the kinds above. */
export class ServerError extends NatsError {
  constructor(text: string) {
    super(`server error: ${text}`, "SERVER_ERROR");
  }
}

/** The server stopped answering PINGs, stopped taking what the client must send (PONGs and other
 *  control frames), or went silent in the middle of a message; the connection is dropped and retried. */
export class StaleConnectionError extends NatsError {
  constructor(outstanding: number, message?: string) {
    super(message ?? `the server did not answer ${outstanding} PINGs; the connection is considered stale and is being re-established`, "STALE_CONNECTION");
  }
}

/** The outbound or reconnect buffer is full: this publish was NOT queued. */
export class BufferFullError extends NatsError {
  readonly limit: number;
  constructor(what: string, limit: number) {
    super(
      `the ${what} is full (${limit} bytes); this message was not queued. Wait for flush() or reconnection, or raise the limit`,
      "BUFFER_FULL",
    );
    this.limit = limit;
  }
}

/** An incoming message did not fit the receive buffer and the subscription does not take chunks:
 *  it was skipped (and counted), the connection stays up. */
export class MessageTooLargeError extends NatsError {
  readonly subject: string;
  readonly size: number;
  readonly limit: number;
  constructor(subject: string, size: number, limit: number) {
    super(
      `a message of ${size} bytes on ${JSON.stringify(subject)} exceeds the receive buffer of ${limit} bytes and was skipped; subscribe with { chunks: true } or raise receiveBufferBytes`,
      "MESSAGE_TOO_LARGE",
    );
    this.subject = subject;
    this.size = size;
    this.limit = limit;
  }
}

/** Another streamed message is open on this connection; `await streamIdle(nc)` (nats-xs/stream) and try again. */
export class StreamBusyError extends NatsError {
  constructor() {
    super("another streamed message is open on this connection; await streamIdle() and try again", "STREAM_BUSY");
  }
}

/** Untrusted JSON went past a bound (nesting depth, bytes or values) and was not parsed. */
export class JsonLimitError extends NatsError {
  /** "depth", "bytes" or "values". */
  readonly limit: string;
  readonly max: number;
  constructor(limit: string, max: number, what = "JSON text") {
    super(`${what} exceeds the ${limit} limit of ${max} and was not parsed`, "JSON_LIMIT");
    this.limit = limit;
    this.max = max;
  }
}

/** A subscription read with an iterator fell behind: messages beyond its queue bounds (messages or
 *  bytes) were dropped and counted in `sub.dropped` and `stats().dropped`. */
export class SlowConsumerError extends NatsError {
  readonly subject: string;
  readonly sid: number;
  constructor(subject: string, sid: number, why: string) {
    super(`subscription ${sid} (${JSON.stringify(subject)}) dropped a message: ${why}; read it faster or raise maxPending / maxPendingBytes`, "SLOW_CONSUMER");
    this.subject = subject;
    this.sid = sid;
  }
}

/** A frame the server would refuse (its control-line limit) or did refuse by closing the
 *  connection; it is not sent (again), and the subscription it belongs to is ended with it. */
export class ProtocolLimitError extends NatsError {
  readonly size: number;
  readonly max: number;
  constructor(what: string, size: number, max: number) {
    super(`${what} is ${size} bytes, over the server's control-line limit of ${max}; use a shorter subject or queue`, "MAX_CONTROL_LINE");
    this.size = size;
    this.max = max;
  }
}

/** Messages accepted by publish() were discarded before they could be sent: the connection was
 *  closed, or reconnecting gave up. Counted in `stats().dropped`. */
export class MessagesDiscardedError extends NatsError {
  readonly count: number;
  constructor(count: number, why: string) {
    super(`${count} published message(s) held for sending were discarded: ${why}; flush() before close(), or check the servers`, "MESSAGES_DISCARDED");
    this.count = count;
  }
}

/**
 * A secure link could not be set up. `code` says which side is missing what:
 * - `TLS_REQUIRED`: the server requires TLS and this client was told not to use it (`tls: null`);
 * - `TLS_NOT_OFFERED`: this client requires TLS (`tls://`, `wss://` or `tls` options) and the
 *   server does not offer it;
 * - `TLS_HANDSHAKE`: the handshake failed (certificate not signed by the given `ca`, expired, not
 *   valid for the host name, client certificate refused). The connection retries per its options.
 */
export class TlsError extends NatsError {
  constructor(message: string, code: "TLS_REQUIRED" | "TLS_NOT_OFFERED" | "TLS_HANDSHAKE", cause?: unknown) {
    super(message, code, cause);
  }
}

/** The server URL's scheme needs a transport module this build does not include. */
export class TransportUnavailableError extends NatsError {
  /** The module specifier that could not be loaded, e.g. "nats-xs/tls". */
  readonly module: string;
  /** `need`: what asked for the module ("tls://", "TLS (host:port requires it)"). */
  constructor(need: string, module: string, manifest: string, cause?: unknown) {
    super(
      `${need} needs the module ${module}, which this build does not include; add ${manifest} to the app's manifest "include" list`,
      "TRANSPORT_UNAVAILABLE",
      cause,
    );
    this.module = module;
  }
}

/** Names each error class on its prototype; the table is garbage once the module has run. */
export function nameErrors(classes: ReadonlyArray<readonly [Function, string]>): void {
  for (const [c, name] of classes) Object.defineProperty(c.prototype, "name", { value: name });
}

nameErrors([
  [NatsError, "NatsError"],
  [InvalidArgumentError, "InvalidArgumentError"],
  [InvalidSubjectError, "InvalidSubjectError"],
  [MaxPayloadError, "MaxPayloadError"],
  [TimeoutError, "TimeoutError"],
  [NoRespondersError, "NoRespondersError"],
  [ClosedConnectionError, "ClosedConnectionError"],
  [DrainingConnectionError, "DrainingConnectionError"],
  [ConnectionError, "ConnectionError"],
  [AuthorizationError, "AuthorizationError"],
  [PermissionViolationError, "PermissionViolationError"],
  [ProtocolError, "ProtocolError"],
  [ServerError, "ServerError"],
  [StaleConnectionError, "StaleConnectionError"],
  [BufferFullError, "BufferFullError"],
  [MessageTooLargeError, "MessageTooLargeError"],
  [StreamBusyError, "StreamBusyError"],
  [JsonLimitError, "JsonLimitError"],
  [SlowConsumerError, "SlowConsumerError"],
  [ProtocolLimitError, "ProtocolLimitError"],
  [MessagesDiscardedError, "MessagesDiscardedError"],
  [TlsError, "TlsError"],
  [TransportUnavailableError, "TransportUnavailableError"],
]);
