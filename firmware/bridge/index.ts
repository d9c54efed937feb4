/**
 * nats-xs/bridge: NATSBridge envelopes on a nats-xs connection. Direct payloads travel base64 in
 * the JSON, larger ones by link through a Plik-style file server, both streamed in bounded memory.
 *
 *   import { smartsend, smartsubscribe } from "nats-xs/bridge";
 *   await smartsend(nc, "dev.photos", [{ dataname: "cam", data: jpeg, type: "image" }], { fileserver_url });
 *   smartsubscribe(nc, "dev.cmd", { callback: (err, env) => ... });
 */
export {
  smartsend,
  smartreceive,
  smartsubscribe,
  smartreply,
  smartrequest,
  maxDirectSize,
  EnvelopeReceiver,
} from "./smart.js";
export type { PayloadInput, SendOptions, ReceiveOptions, SmartSubscribeOptions, EnvelopeCallback } from "./smart.js";
export type { ReceiverStats } from "./smart.js";
export { jsonShape, EnvelopeBudget } from "./bounds.js";
export { digestTag, parseDigestTag } from "./digest.js";
export { MessageEnvelope, MessagePayload, payloadType } from "./envelope.js";
export type { PayloadType } from "./envelope.js";
export { EnvelopeScanner, DECODE_CHUNK } from "./scanner.js";
export type { PayloadSink, SinkFactory, ScannerOptions } from "./scanner.js";
export { ENCODE_CHUNK, headJson, entryJson } from "./writer.js";
export type { PayloadSource, PublishStream } from "./writer.js";
export { arrowTable, arrowWidth } from "./arrow.js";
export type { Dialect } from "./envelope.js";
export { MAX_JSON_DEPTH } from "./rawjson.js";
export type { ArrowColumn, ArrowType } from "./arrow.js";
export { Base64Encoder, Base64Decoder, base64Length } from "./base64.js";
export type { ByteSink } from "./base64.js";
export { uuid4, isoNow, parseTimestamp, normalizeTimestamp } from "./ids.js";
export { upload, download, LinkSettings, validateLinkUrl, hostAllowed } from "./link.js";
export { validateObjectLink, objectLinkUrl, isObjectLink, ObjectLinkTarget } from "./objlink.js";
export type { LinkOptions, ProgressCallback } from "./link.js";
export { HttpExchange, HttpResponseHead, parseUrl } from "./http.js";
export {
  BridgeError,
  EnvelopeSyntaxError,
  EnvelopeFieldError,
  UnknownPayloadTypeError,
  Base64Error,
  PayloadSizeError,
  PayloadLimitError,
  LinkError,
  EnvelopeLimitError,
  DigestError,
  EnvelopeDroppedError,
} from "./errors.js";
