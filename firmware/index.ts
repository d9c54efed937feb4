/**
 * nats-xs: a NATS client for the Moddable XS engine. The API follows nats.js v3 core, with the
 * same names, so that code moves between a device and a Node backend; nats.js options it lacks are
 * refused, and the device's additions (chunks, zeroCopy, buffers) are named apart; streams (nats-xs/stream)
 * and the status iterator (nats-xs/status) are modules of their own.
 */
export { connect, NatsConnection, VERSION } from "./nats/connection.js";
export type { RequestOptions, ServerInfo, Stats } from "./nats/connection.js";
/** @internal The connection's side of a streamed message, for nats-xs/stream. */
export type { StreamHook } from "./nats/connection.js";
export type { Auth, Authenticator, ConnectionOptions } from "./nats/options.js";
export type { Events, Layer, LayerModule, LayerOptions, Socket, TlsOptions } from "./nats/transport.js";
export { headers, Match } from "./nats/headers.js";
/** @internal For nats-xs/stream: headers are checked to come from headers(). */
export { MsgHdrsImpl } from "./nats/headers.js";
/** @internal For nats-xs/stream. */
export { checkPublishSubject } from "./nats/subjects.js";
export type { MsgHdrs } from "./nats/headers.js";
export { Msg, MsgChunk } from "./nats/msg.js";
export type { PublishOptions } from "./nats/msg.js";
export { Subscription } from "./nats/subscription.js";
export type { ChunkSubscriptionOptions, MsgCallback, SubscriptionOptions } from "./nats/subscription.js";
export type { Status, StatusListener } from "./nats/status.js";
/** @internal The protocol parser, exported for the parser suites, fuzzers and benchmarks; not part of the API. */
export { Parser, Delivery } from "./nats/parser.js";
export { Empty, utf8Length } from "./nats/text.js";
/** @internal */
export type { ParserSink } from "./nats/parser.js";
export {
  NatsError,
  InvalidArgumentError,
  InvalidSubjectError,
  MaxPayloadError,
  TimeoutError,
  NoRespondersError,
  ClosedConnectionError,
  DrainingConnectionError,
  ConnectionError,
  AuthorizationError,
  PermissionViolationError,
  ProtocolError,
  ServerError,
  StaleConnectionError,
  BufferFullError,
  MessageTooLargeError,
  StreamBusyError,
  JsonLimitError,
  SlowConsumerError,
  ProtocolLimitError,
  MessagesDiscardedError,
  TlsError,
  TransportUnavailableError,
} from "./nats/errors.js";
/** @internal Names error classes on their prototypes, for the modules' own errors. */
export { nameErrors } from "./nats/errors.js";
export { checkJson, parseJson } from "./nats/json.js";
export type { JsonLimits } from "./nats/json.js";
export { checkNames } from "./nats/check.js";
/** NUIDs as nats.js makes them (22 characters of base 62); nats-xs/services names a service with one. */
export { Nuid } from "./nats/nuid.js";
export type { Refusals } from "./nats/check.js";
