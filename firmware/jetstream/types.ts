/**
 * Shapes of the JetStream API as nats.js names them: policy values, stream and consumer configs
 * and infos, and the checks of the info fields the device relies on.
 */
import { name, obj, uint } from "./json.js";
import type { Json } from "./json.js";

/** Values of the policy fields, as nats.js names them. */
export const DeliverPolicy = Object.freeze({
  All: "all",
  Last: "last",
  New: "new",
  StartSequence: "by_start_sequence",
  StartTime: "by_start_time",
  LastPerSubject: "last_per_subject",
});
/** How a consumer expects acks. */
export const AckPolicy = Object.freeze({ None: "none", All: "all", Explicit: "explicit" });
/** How fast a consumer replays: at once, or at the pace they were stored. */
export const ReplayPolicy = Object.freeze({ Instant: "instant", Original: "original" });
/** Where a stream keeps its messages. */
export const StorageType = Object.freeze({ File: "file", Memory: "memory" });
/** When a stream lets messages go. */
export const RetentionPolicy = Object.freeze({ Limits: "limits", Interest: "interest", Workqueue: "workqueue" });
/** What a full stream discards. */
export const DiscardPolicy = Object.freeze({ Old: "old", New: "new" });

/** Stream configuration (server field names; durations in nanoseconds). */
export interface StreamConfig {
  name: string;
  subjects?: string[];
  storage?: string;
  retention?: string;
  discard?: string;
  max_msgs?: number;
  max_bytes?: number;
  max_age?: number;
  max_msgs_per_subject?: number;
  max_msg_size?: number;
  num_replicas?: number;
  duplicate_window?: number;
  allow_direct?: boolean;
  allow_rollup_hdrs?: boolean;
  deny_delete?: boolean;
  deny_purge?: boolean;
  description?: string;
  [key: string]: unknown;
}

/** Counts of a stream (the fields the device relies on are checked). */
export interface StreamState {
  messages: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  consumer_count: number;
  [key: string]: unknown;
}

/** A stream's config and state. */
export interface StreamInfo {
  config: StreamConfig;
  state: StreamState;
  created: string;
  [key: string]: unknown;
}

/** Consumer configuration (server field names; durations in nanoseconds). */
export interface ConsumerConfig {
  name?: string;
  durable_name?: string;
  ack_policy?: string;
  deliver_policy?: string;
  opt_start_seq?: number;
  opt_start_time?: string;
  replay_policy?: string;
  filter_subject?: string;
  filter_subjects?: string[];
  ack_wait?: number;
  max_deliver?: number;
  max_ack_pending?: number;
  max_waiting?: number;
  inactive_threshold?: number;
  mem_storage?: boolean;
  num_replicas?: number;
  headers_only?: boolean;
  deliver_subject?: string;
  [key: string]: unknown;
}

/** A consumer and stream sequence pair. */
export interface SequenceInfo {
  consumer_seq: number;
  stream_seq: number;
}

/** A consumer's config and progress. */
export interface ConsumerInfo {
  stream_name: string;
  name: string;
  config: ConsumerConfig;
  delivered: SequenceInfo;
  ack_floor: SequenceInfo;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  [key: string]: unknown;
}

/** Checks the fields of a stream info the device relies on. */
export function checkStreamInfo(v: Json): StreamInfo {
  const config = obj(v, "config", "stream info");
  name(config, "name", "stream info.config");
  const state = obj(v, "state", "stream info");
  for (const k of ["messages", "bytes", "first_seq", "last_seq", "consumer_count"]) uint(state, k, "stream info.state");
  return v as unknown as StreamInfo;
}

/** Checks the fields of a consumer info the device relies on. */
export function checkConsumerInfo(v: Json): ConsumerInfo {
  name(v, "stream_name", "consumer info");
  name(v, "name", "consumer info");
  obj(v, "config", "consumer info");
  for (const k of ["delivered", "ack_floor"]) {
    const s = obj(v, k, "consumer info");
    uint(s, "consumer_seq", `consumer info.${k}`);
    uint(s, "stream_seq", `consumer info.${k}`);
  }
  for (const k of ["num_ack_pending", "num_redelivered", "num_waiting", "num_pending"]) uint(v, k, "consumer info");
  return v as unknown as ConsumerInfo;
}

