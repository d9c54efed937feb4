/**
 * The NATSBridge envelope model and its dialects.
 *
 * One envelope per NATS message: identity and routing fields, then `payloads`, each one a piece of
 * data with its own type and transport. Published NATSBridge versions spell the keys differently;
 * the tables here map every spelling to one field id, so the reader accepts them all. The writer
 * emits one dialect per envelope: the current specification's (v1.x: `payload_type`, `arrowtable` /
 * `jsontable`, `encoding` by content) unless the sender asks for the earlier snake_case one (`v0`:
 * `type`, `table`, `encoding` always `base64`) that peers written before March 2026 read.
 */
import { InvalidArgumentError } from "nats-xs";
import { EnvelopeFieldError, PayloadLimitError, UnknownPayloadTypeError } from "./errors.js";
import { normalizeTimestamp } from "./ids.js";

/** Dialects the writer emits: "v1" the current NATSBridge specification (v1.0 to v1.2), "v0" the
 *  snake_case form before it (payload key `type`, Arrow tables as `table`, `encoding` "base64"). */
export type Dialect = "v1" | "v0";

/** Checks a caller's dialect option; undefined means the current specification. */
export function dialectOf(value: unknown): Dialect {
  if (value === undefined || value === "v1") return "v1";
  if (value === "v0") return "v0";
  throw new InvalidArgumentError(`option dialect must be "v1" (the current NATSBridge specification) or "v0" (the snake_case form with type before it), not ${JSON.stringify(value)}`);
}

/** Canonical payload types (a table's spelling on the wire also depends on `format`). */
export type PayloadType = "text" | "dictionary" | "table" | "image" | "audio" | "video" | "binary";

/** Envelope field ids (the order the writer emits them in). */
export const EnvelopeKey = Object.freeze({
  Unknown: -1,
  CorrelationId: 0,
  MsgId: 1,
  Timestamp: 2,
  SendTo: 3,
  MsgPurpose: 4,
  SenderName: 5,
  SenderId: 6,
  ReceiverName: 7,
  ReceiverId: 8,
  ReplyTo: 9,
  ReplyToMsgId: 10,
  BrokerUrl: 11,
  Metadata: 12,
  Payloads: 13,
} as const);

/** Payload field ids. */
export const PayloadKey = Object.freeze({
  Unknown: -1,
  Id: 0,
  Dataname: 1,
  Type: 2,
  Transport: 3,
  Encoding: 4,
  Size: 5,
  Metadata: 6,
  Data: 7,
} as const);

/** Every spelling of the envelope keys in published NATSBridge versions. */
export const ENVELOPE_KEYS: Readonly<Record<string, number>> = Object.freeze({
  correlation_id: EnvelopeKey.CorrelationId,
  correlationId: EnvelopeKey.CorrelationId,
  correlationID: EnvelopeKey.CorrelationId,
  msg_id: EnvelopeKey.MsgId,
  msgId: EnvelopeKey.MsgId,
  msgID: EnvelopeKey.MsgId,
  timestamp: EnvelopeKey.Timestamp,
  send_to: EnvelopeKey.SendTo,
  sendTo: EnvelopeKey.SendTo,
  msg_purpose: EnvelopeKey.MsgPurpose,
  msgPurpose: EnvelopeKey.MsgPurpose,
  sender_name: EnvelopeKey.SenderName,
  senderName: EnvelopeKey.SenderName,
  sender_id: EnvelopeKey.SenderId,
  senderId: EnvelopeKey.SenderId,
  senderID: EnvelopeKey.SenderId,
  receiver_name: EnvelopeKey.ReceiverName,
  receiverName: EnvelopeKey.ReceiverName,
  receiver_id: EnvelopeKey.ReceiverId,
  receiverId: EnvelopeKey.ReceiverId,
  receiverID: EnvelopeKey.ReceiverId,
  reply_to: EnvelopeKey.ReplyTo,
  replyTo: EnvelopeKey.ReplyTo,
  reply_to_msg_id: EnvelopeKey.ReplyToMsgId,
  replyToMsgId: EnvelopeKey.ReplyToMsgId,
  replyToMsgID: EnvelopeKey.ReplyToMsgId,
  broker_url: EnvelopeKey.BrokerUrl,
  brokerURL: EnvelopeKey.BrokerUrl,
  brokerUrl: EnvelopeKey.BrokerUrl,
  metadata: EnvelopeKey.Metadata,
  payloads: EnvelopeKey.Payloads,
});

/** Every spelling of the payload keys. */
export const PAYLOAD_KEYS: Readonly<Record<string, number>> = Object.freeze({
  id: PayloadKey.Id,
  dataname: PayloadKey.Dataname,
  dataName: PayloadKey.Dataname,
  data_name: PayloadKey.Dataname,
  type: PayloadKey.Type,
  payload_type: PayloadKey.Type,
  payloadType: PayloadKey.Type,
  transport: PayloadKey.Transport,
  encoding: PayloadKey.Encoding,
  size: PayloadKey.Size,
  metadata: PayloadKey.Metadata,
  data: PayloadKey.Data,
});

/** Field names the writer emits, by id. */
export const ENVELOPE_NAMES: readonly string[] = Object.freeze([
  "correlation_id",
  "msg_id",
  "timestamp",
  "send_to",
  "msg_purpose",
  "sender_name",
  "sender_id",
  "receiver_name",
  "receiver_id",
  "reply_to",
  "reply_to_msg_id",
  "broker_url",
  "metadata",
  "payloads",
]);

/** Payload type spellings -> the type and the table's format. */
const TYPES: Readonly<Record<string, string>> = Object.freeze({
  text: "text",
  dictionary: "dictionary",
  table: "table",
  arrowtable: "table",
  jsontable: "table",
  image: "image",
  audio: "audio",
  video: "video",
  binary: "binary",
});

/** The canonical type of a spelling; throws UnknownPayloadTypeError. */
export function payloadType(spelling: unknown): PayloadType {
  if (typeof spelling !== "string") throw new EnvelopeFieldError("type", "must be a string");
  const key = spelling.toLowerCase();
  // a linear search: on XS a peer's string used as a property name would be kept forever
  for (const k in TYPES) if (k === key) return TYPES[k] as PayloadType;
  throw new UnknownPayloadTypeError(spelling);
}

/** One payload of an envelope. On receipt, `data` holds the decoded value (text: string;
 *  dictionary and JSON tables: the parsed value; everything else: a Uint8Array the caller owns),
 *  or undefined when the bytes went to a sink. */
export class MessagePayload {
  id = "";
  dataname = "";
  type: PayloadType = "binary";
  /** How a table is encoded: "arrow" (Arrow IPC stream) or "json" (a `jsontable`). */
  format: "arrow" | "json" | "" = "";
  transport: "direct" | "link" = "direct";
  /** As the envelope says; the reader decodes direct data as base64 whatever it says. */
  encoding = "base64";
  /** Bytes of the payload (raw, before base64); -1 when the envelope does not say. */
  size = -1;
  metadata: Record<string, unknown> = {};
  /** The decoded value (see the class comment); for a link before download, its URL is in `url`. */
  data: unknown = undefined;
  /** Link payloads: where the bytes are. */
  url = "";
}

/** An envelope, with every field of the NATSBridge design. */
export class MessageEnvelope {
  correlation_id = "";
  msg_id = "";
  /** ISO 8601 UTC with `Z` when the sender's timestamp parsed; otherwise as it came. */
  timestamp = "";
  send_to = "";
  msg_purpose = "";
  sender_name = "";
  sender_id = "";
  receiver_name = "";
  receiver_id = "";
  reply_to = "";
  reply_to_msg_id = "";
  broker_url = "";
  metadata: Record<string, unknown> = {};
  payloads: MessagePayload[] = [];
  /** The NATS message's subject and reply subject (not part of the JSON). */
  subject = "";
  reply = "";
  /** Sending: the dialect written (not part of the JSON). */
  dialect: Dialect = "v1";
}

function text(value: unknown, field: string): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new EnvelopeFieldError(field, "must be a string");
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new EnvelopeFieldError(field, "must be a JSON object");
  return value as Record<string, unknown>;
}

/** Stores one parsed envelope value (not `payloads`). */
export function setEnvelopeField(env: MessageEnvelope, key: number, value: unknown): void {
  switch (key) {
    case EnvelopeKey.CorrelationId:
      env.correlation_id = text(value, "correlation_id");
      break;
    case EnvelopeKey.MsgId:
      env.msg_id = text(value, "msg_id");
      break;
    case EnvelopeKey.Timestamp:
      env.timestamp = normalizeTimestamp(value);
      break;
    case EnvelopeKey.SendTo:
      env.send_to = text(value, "send_to");
      break;
    case EnvelopeKey.MsgPurpose:
      env.msg_purpose = text(value, "msg_purpose");
      break;
    case EnvelopeKey.SenderName:
      env.sender_name = text(value, "sender_name");
      break;
    case EnvelopeKey.SenderId:
      env.sender_id = text(value, "sender_id");
      break;
    case EnvelopeKey.ReceiverName:
      env.receiver_name = text(value, "receiver_name");
      break;
    case EnvelopeKey.ReceiverId:
      env.receiver_id = text(value, "receiver_id");
      break;
    case EnvelopeKey.ReplyTo:
      env.reply_to = text(value, "reply_to");
      break;
    case EnvelopeKey.ReplyToMsgId:
      env.reply_to_msg_id = text(value, "reply_to_msg_id");
      break;
    case EnvelopeKey.BrokerUrl:
      env.broker_url = text(value, "broker_url");
      break;
    case EnvelopeKey.Metadata:
      env.metadata = object(value, "metadata");
      break;
    case EnvelopeKey.Payloads:
      throw new EnvelopeFieldError("payloads", "must be a JSON array");
  }
}

/** Stores one parsed payload value (not a streamed `data`). */
export function setPayloadField(p: MessagePayload, key: number, value: unknown, limit: number): void {
  switch (key) {
    case PayloadKey.Id:
      p.id = text(value, "id");
      break;
    case PayloadKey.Dataname:
      p.dataname = text(value, "dataname");
      break;
    case PayloadKey.Type: {
      p.type = payloadType(value);
      const spelling = (value as string).toLowerCase();
      p.format = p.type !== "table" ? "" : spelling === "jsontable" ? "json" : "arrow";
      break;
    }
    case PayloadKey.Transport: {
      const t = text(value, "transport").toLowerCase();
      if (t !== "direct" && t !== "link") throw new EnvelopeFieldError("transport", `must be "direct" or "link", not ${JSON.stringify(t)}`);
      p.transport = t;
      break;
    }
    case PayloadKey.Encoding:
      p.encoding = text(value, "encoding");
      break;
    case PayloadKey.Size: {
      const n = typeof value === "string" && value !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new EnvelopeFieldError("size", "must be a whole number of bytes");
      checkLimit(p, n, limit);
      p.size = n;
      break;
    }
    case PayloadKey.Metadata:
      p.metadata = object(value, "payload metadata");
      break;
    case PayloadKey.Data:
      if (typeof value !== "string") throw new EnvelopeFieldError("data", "must be a string (base64 or a URL)");
      p.url = value;
      break;
  }
}

/** Throws PayloadLimitError when a payload's size goes past what this receiver accepts. */
export function checkLimit(p: MessagePayload, size: number, limit: number): void {
  if (size > limit)
    throw new PayloadLimitError(
      `payload ${JSON.stringify(p.dataname)}`,
      size,
      limit,
      "raise max_size in the receive options (and give a sink, so that the bytes are not held in memory)",
    );
}

/** Checks that a finished envelope has what every NATSBridge reader needs. */
export function checkEnvelope(env: MessageEnvelope, sawPayloads: boolean): void {
  if (env.correlation_id === "") throw new EnvelopeFieldError("correlation_id", "is missing");
  if (!sawPayloads) throw new EnvelopeFieldError("payloads", "is missing");
}

/** Checks a finished payload; `sawType` and `sawData` say whether the fields came. */
export function checkPayload(p: MessagePayload, sawType: boolean, sawData: boolean): void {
  if (!sawType) throw new EnvelopeFieldError("type", `is missing in payload ${JSON.stringify(p.dataname)}`);
  if (!sawData) throw new EnvelopeFieldError("data", `is missing in payload ${JSON.stringify(p.dataname)}`);
  if (p.transport === "link" && p.url === "") throw new EnvelopeFieldError("data", `of link payload ${JSON.stringify(p.dataname)} must be its URL`);
}
