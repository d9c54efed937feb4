/**
 * os.watch(): the metas of a bucket as they change, read through an ordered push consumer on
 * `$O.<bucket>.M.>` (no acks, flow control, idle heartbeats; made again from the next sequence after
 * a gap, missed heartbeats or a server restart), as nats-xs/kv watches keys. Each meta is parsed
 * within bounds; one that is not valid is counted (`ignored`) and skipped. Without a callback,
 * infos wait in a queue bounded by `maxQueueBytes`; what does not fit is dropped and counted.
 */
import type { Msg, NatsConnection } from "nats-xs";
import { OrderedWatcher } from "nats-xs/jetstream";
import type { DeliveryInfo, JetStreamManager, OrderedWatchStats } from "nats-xs/jetstream";
import { ObjectStoreError } from "./errors.js";
import { parseMeta } from "./meta.js";
import type { ObjectInfo } from "./meta.js";

/** Bytes an info waiting in the queue counts for besides its meta's bytes (what it costs on XS). */
export const ENTRY_COST = 256;

/** What a watcher reads and how it hands entries out. */
export interface WatchSpec {
  bucket: string;
  stream: string;
  filter: string;
  deliverPolicy: string;
  startSeq: number;
  ignoreDeletes: boolean;
  callback: ((e: ObjectInfo) => void) | null;
  maxQueueBytes: number;
  /** Milliseconds between the server's idle heartbeats; two missed make the consumer again. */
  heartbeat: number;
  initializedFn: (() => void) | null;
}

/** Counters of one watch. */
export type ObjectWatchStats = OrderedWatchStats;

/** A running watch (nats.js `ObjectWatcher`): iterate it, or give a callback; stop() ends it. */
export class ObjectWatcher extends OrderedWatcher<ObjectInfo> {
  constructor(nc: NatsConnection, jsm: JetStreamManager, s: WatchSpec) {
    const decoder = nc.decoder;
    super(nc, jsm, {
      stream: s.stream,
      filters: [s.filter],
      deliverPolicy: s.deliverPolicy,
      startSeq: s.startSeq,
      headersOnly: false,
      callback: s.callback,
      maxQueueBytes: s.maxQueueBytes,
      heartbeat: s.heartbeat,
      stopWhenCaughtUp: false,
      initializedFn: s.initializedFn,
      skip: () => false,
      cost: (msg: Msg) => msg.data.length + ENTRY_COST,
      // a meta that is not valid is passed by and counted (ignored); a parsed one owns its strings
      item: (msg: Msg, info: DeliveryInfo) => {
        let oi: ObjectInfo;
        try {
          oi = parseMeta(msg.data, decoder, info.streamSequence);
        } catch {
          return undefined;
        }
        return s.ignoreDeletes && oi.deleted ? null : oi;
      },
      error: (message: string) => new ObjectStoreError(message),
      overflow: (dropped: number, max: number) => new ObjectStoreError(`the watch dropped ${dropped} infos beyond its queue of ${max} bytes`),
    });
  }
}
