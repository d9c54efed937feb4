/**
 * What watch(), keys() and history() read through: the jetstream module's OrderedWatcher, an
 * ordered push consumer as ADR-8 and nats.js use — an ephemeral consumer with no acks, flow control and idle heartbeats, delivering to one
 * inbox subscription. Each message's delivery sequence is checked; a gap, a consumer the server
 * forgot (heartbeats stop, a restart) or a 409 makes the consumer again from the stream sequence
 * after the last one handed out, so a watch goes on across server restarts.
 *
 * With a callback, an entry goes from the subscription callback straight to the caller's (its value
 * a view valid during the callback; no copy, promise or closure). Without one, copies wait in a
 * queue bounded by `maxQueueBytes`; an entry that does not fit is dropped and counted, and keys()
 * and history() end with KvWatchOverflowError when they had to drop any.
 */
import type { Msg, NatsConnection } from "nats-xs";
import { OrderedWatcher } from "nats-xs/jetstream";
import type { DeliveryInfo, JetStreamManager, OrderedWatchStats } from "nats-xs/jetstream";
import { KvEntry, operationOf } from "./entry.js";
import type { KvOperation } from "./entry.js";
import { KvWatchError, KvWatchOverflowError } from "./errors.js";

/** Bytes an entry waiting in the queue counts for besides its key and value (what it costs on XS). */
export const ENTRY_COST = 160;

/** What a watcher reads and how it hands entries out. */
export interface WatchSpec {
  bucket: string;
  stream: string;
  /** Length of `$KV.<bucket>.`, cut from each subject to give the key. */
  prefixLen: number;
  filters: string[];
  deliverPolicy: string;
  startSeq: number;
  headersOnly: boolean;
  ignoreDeletes: boolean;
  callback: ((e: KvEntry) => void) | null;
  maxQueueBytes: number;
  /** Milliseconds between the server's idle heartbeats; two missed make the consumer again. */
  heartbeat: number;
  /** keys() and history(): end once the values there were at the start have all come. */
  stopWhenCaughtUp: boolean;
  initializedFn: (() => void) | null;
}

/** Counters of one watch. */
export type KvWatchStats = OrderedWatchStats;

function operation(msg: Msg): KvOperation {
  const h = msg.headers;
  return operationOf(h === undefined ? "" : h.get("KV-Operation"));
}

/** A running watch (nats.js `KvWatcher`): iterate it, or give a callback; stop() ends it. */
export class KvWatcher extends OrderedWatcher<KvEntry> {
  constructor(nc: NatsConnection, jsm: JetStreamManager, s: WatchSpec) {
    const decoder = nc.decoder;
    super(nc, jsm, {
      stream: s.stream,
      filters: s.filters,
      deliverPolicy: s.deliverPolicy,
      startSeq: s.startSeq,
      headersOnly: s.headersOnly,
      callback: s.callback,
      maxQueueBytes: s.maxQueueBytes,
      heartbeat: s.heartbeat,
      stopWhenCaughtUp: s.stopWhenCaughtUp,
      initializedFn: s.initializedFn,
      skip: (msg: Msg) => s.ignoreDeletes && operation(msg) !== "PUT",
      cost: (msg: Msg) => msg.data.length + msg.subject.length - s.prefixLen + ENTRY_COST,
      item: (msg: Msg, info: DeliveryInfo, caughtUp: boolean, keep: boolean) =>
        new KvEntry(decoder, s.bucket, msg.subject.substring(s.prefixLen), keep ? msg.data.slice() : msg.data, info.streamSequence, new Date(Math.floor(info.timestampNanos / 1_000_000)), operation(msg), info.pending, caughtUp),
      error: (message: string) => new KvWatchError(message),
      overflow: (dropped: number, max: number) => new KvWatchOverflowError(dropped, max),
    });
  }
}
