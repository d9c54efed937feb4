/**
 * Option names of the bridge's calls: an unknown name (a typo, or an option of another call) is
 * refused with the call's own list, as the core does for connect() and subscribe(), rather than
 * silently ignored. The core's checker is not part of its public API, so the bridge has its own.
 */
import { InvalidArgumentError, checkNames } from "nats-xs";

const LINK = Object.freeze(["max_retries", "base_delay", "max_delay", "timeout", "deadline", "buffer_bytes", "progress", "progress_bytes", "progress_ms", "dns_servers", "tls"]);
const SEND_OWN = Object.freeze([
  "correlation_id",
  "msg_id",
  "msg_purpose",
  "sender_name",
  "sender_id",
  "receiver_name",
  "receiver_id",
  "reply_to",
  "reply_to_msg_id",
  "broker_url",
  "metadata",
  "size_threshold",
  "fileserver_url",
  "headers",
  "reply",
  "dialect",
  "object_store",
]);
const RECEIVE_OWN = Object.freeze([
  "sink",
  "max_size",
  "max_field_bytes",
  "max_depth",
  "max_payloads",
  "max_values",
  "max_held_bytes",
  "max_keys",
  "max_pending",
  "max_pending_bytes",
  "link_hosts",
  "fileserver_url",
  "require_digest",
  "link_buckets",
  "object_store",
  "connection",
]);

/** smartsend() and smartreply(). */
export const SEND_OPTIONS: readonly string[] = Object.freeze([...SEND_OWN, ...LINK]);
/** smartreceive(). */
export const RECEIVE_OPTIONS: readonly string[] = Object.freeze([...RECEIVE_OWN, ...LINK]);
/** smartsubscribe(). */
export const SUBSCRIBE_OPTIONS: readonly string[] = Object.freeze([...RECEIVE_OWN, ...LINK, "callback", "queue", "max"]);
/** smartrequest(): what it sends and what it receives with, and its wait. */
export const REQUEST_OPTIONS: readonly string[] = Object.freeze([...SEND_OWN, ...RECEIVE_OWN.filter((n) => n !== "fileserver_url" && n !== "object_store"), ...LINK, "timeout_ms"]);

/**
 * Throws InvalidArgumentError for the first own name of `options` that `known` lacks; a name given
 * as undefined counts as absent (spread defaults do that). `what` names the call.
 */
export function checkOptions(options: object, known: readonly string[], what: string): void {
  if (options === null || typeof options !== "object") throw new InvalidArgumentError(`${what}: options must be an object`);
  checkNames(options, known, what);
}
