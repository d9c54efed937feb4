/**
 * Error classes of the NATSBridge layer. Every one extends NatsError (so `instanceof NatsError`
 * catches them all) and carries a stable `code`. A malformed envelope costs only that envelope:
 * the connection, the subscription and the envelopes after it keep working.
 *
 * `name` is set once on each prototype (nameErrors), never assigned: a preloaded Error.prototype is frozen on Moddable.
 */
import { NatsError } from "nats-xs";
import { nameErrors } from "nats-xs";

/** Base class of the bridge errors. */
export class BridgeError extends NatsError {
  constructor(message: string, code: string, cause?: unknown) {
    super(message, code, cause);
  }
}

/** The envelope is not valid JSON (or not a JSON object where one is required). */
export class EnvelopeSyntaxError extends BridgeError {
  /** Byte offset in the message where the problem was seen (-1 when unknown). */
  readonly offset: number;
  constructor(message: string, offset = -1) {
    super(`the NATSBridge envelope is not valid JSON: ${message}${offset >= 0 ? ` (at byte ${offset})` : ""}; check the sender's JSON writer`, "BRIDGE_BAD_JSON");
    this.offset = offset;
  }
}

/** A required field is missing, or a field has the wrong JSON type. */
export class EnvelopeFieldError extends BridgeError {
  readonly field: string;
  constructor(field: string, why: string) {
    super(`NATSBridge envelope field ${JSON.stringify(field)} ${why}; the sender must write it as the NATSBridge README describes`, "BRIDGE_BAD_FIELD");
    this.field = field;
  }
}

/** A payload names a type this bridge does not know. */
export class UnknownPayloadTypeError extends BridgeError {
  readonly type: string;
  constructor(type: string) {
    super(
      `unknown NATSBridge payload type ${JSON.stringify(type)}; expected text, dictionary, table (arrowtable, jsontable), image, audio, video or binary`,
      "BRIDGE_UNKNOWN_TYPE",
    );
    this.type = type;
  }
}

/** A direct payload's data is not valid base64 (RFC 4648 standard alphabet). */
export class Base64Error extends BridgeError {
  /** Offset of the offending character within the base64 text (-1 when it is the end). */
  readonly position: number;
  constructor(why: string, position: number) {
    super(`invalid base64 in a NATSBridge payload: ${why}${position >= 0 ? ` at character ${position}` : ""}; the sender must use the standard base64 alphabet with padding`, "BRIDGE_BAD_BASE64");
    this.position = position;
  }
}

/** The bytes of a payload (decoded, or downloaded) do not match its declared `size`. */
export class PayloadSizeError extends BridgeError {
  readonly declared: number;
  /** Bytes seen so far when the mismatch was detected (a lower bound when `actual > declared`). */
  readonly actual: number;
  constructor(dataname: string, declared: number, actual: number) {
    super(
      `payload ${JSON.stringify(dataname)} declares ${declared} bytes but ${actual > declared ? "carries more than that" : `carries ${actual}`}; the envelope or the linked file is corrupt`,
      "BRIDGE_SIZE_MISMATCH",
    );
    this.declared = declared;
    this.actual = actual;
  }
}

/** A payload (or an envelope field) is larger than this device accepts. */
export class PayloadLimitError extends BridgeError {
  readonly size: number;
  readonly limit: number;
  constructor(what: string, size: number, limit: number, hint: string) {
    super(`${what} of ${size} bytes exceeds the limit of ${limit} bytes; ${hint}`, "BRIDGE_LIMIT");
    this.size = size;
    this.limit = limit;
  }
}

/** A link could not be uploaded or downloaded: unreachable server, HTTP error, or timeout, after
 *  the retries; or an https server's certificate refused (`cause` is the core's TlsError, code
 *  TLS_HANDSHAKE; not retried). `status` is the last HTTP status (0 when no response came). */
/** The scheme of a link into a JetStream Object Store bucket: `nats-os://<bucket>/<object name>`. */
export const OBJECT_LINK_SCHEME = "nats-os://";

export class LinkError extends BridgeError {
  readonly url: string;
  readonly status: number;
  constructor(message: string, url: string, status = 0, cause?: unknown) {
    const hint = url.startsWith(OBJECT_LINK_SCHEME) ? "check the bucket and the object on the NATS server" : "check that the file server runs and is reachable from the device";
    super(`${message} (${url}); ${hint}`, "BRIDGE_LINK", cause);
    this.url = url;
    this.status = status;
  }
}

/** An envelope goes past a structural bound of this receiver (nesting depth, number of payloads or
 *  JSON values, bytes held in memory). Only that envelope is refused; `option` names the receive
 *  option that sets the bound. */
export class EnvelopeLimitError extends BridgeError {
  readonly option: string;
  readonly limit: number;
  constructor(what: string, option: string, limit: number) {
    super(`the NATSBridge envelope ${what}, beyond this receiver's ${option} of ${limit}; raise ${option} in the receive options if the sender is trusted`, "BRIDGE_BOUND");
    this.option = option;
    this.limit = limit;
  }
}

/** A link payload's bytes do not match the SHA-256 digest its metadata carries, or a digest is
 *  required and missing or malformed. The payload is not reported complete. */
export class DigestError extends BridgeError {
  readonly dataname: string;
  /** The digest the envelope declared ("SHA-256=<base64url>"), or "" when none. */
  readonly expected: string;
  /** The digest of the bytes received, or "" when they were not received. */
  readonly actual: string;
  constructor(dataname: string, why: string, expected = "", actual = "") {
    super(`payload ${JSON.stringify(dataname)} ${why}`, "BRIDGE_DIGEST");
    this.dataname = dataname;
    this.expected = expected;
    this.actual = actual;
  }
}

/** An envelope arrived while earlier ones still waited for their link downloads and the wait queue
 *  was full (max_pending envelopes or max_pending_bytes): it was dropped and counted. */
export class EnvelopeDroppedError extends BridgeError {
  /** Envelopes this receiver has dropped so far, this one included. */
  readonly dropped: number;
  constructor(subject: string, why: string, dropped: number) {
    super(`a NATSBridge envelope on ${JSON.stringify(subject)} was dropped: ${why} (${dropped} dropped so far); raise max_pending / max_pending_bytes or lower the link deadline`, "BRIDGE_DROPPED");
    this.dropped = dropped;
  }
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [BridgeError, "BridgeError"],
  [EnvelopeSyntaxError, "EnvelopeSyntaxError"],
  [EnvelopeFieldError, "EnvelopeFieldError"],
  [UnknownPayloadTypeError, "UnknownPayloadTypeError"],
  [Base64Error, "Base64Error"],
  [PayloadSizeError, "PayloadSizeError"],
  [PayloadLimitError, "PayloadLimitError"],
  [LinkError, "LinkError"],
  [EnvelopeLimitError, "EnvelopeLimitError"],
  [DigestError, "DigestError"],
  [EnvelopeDroppedError, "EnvelopeDroppedError"],
]);
