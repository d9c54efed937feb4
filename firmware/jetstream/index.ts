/**
 * nats-xs/jetstream: JetStream on a device, named as `@nats-io/jetstream` 3.x names it. Publishes
 * wait in a bounded outbox until the stream acknowledges them, so nothing accepted is lost across
 * outages; pull consumers deliver with bounded buffering; the manager sets up streams and consumers.
 *
 *   import { jetstream, jetstreamManager } from "nats-xs/jetstream";
 *   const js = jetstream(nc);
 *   const ack = await js.publish("images.process", json, { headers: h });
 *   const c = await js.consumers.get("IMAGE_STREAM", "worker");
 *   await c.consume({ callback: (m) => { ...; m.ack(); } });
 */
export { jetstream, JetStreamClient } from "./client.js";
export type { JetStreamPublishOptions, PublishExpectations } from "./client.js";
export type { JetStreamOptions } from "./api.js";
export type { PubAck, OutboxStatus } from "./outbox.js";
export type { OutboxStore, OutboxStoreStatus, OutboxRecord } from "./store.js";
export { jetstreamManager, JetStreamManager, Streams, ConsumersManager, DirectStreamAPI, StoredMsg } from "./manager.js";
export type { DirectMsgRequest } from "./manager.js";
export { DeliverPolicy, AckPolicy, ReplayPolicy, StorageType, RetentionPolicy, DiscardPolicy } from "./types.js";
export type { StreamConfig, StreamInfo, StreamState, ConsumerConfig, ConsumerInfo, SequenceInfo } from "./types.js";
export { Consumers, PullConsumer, OrderedConsumer } from "./consumer.js";
export type { NextOptions, OrderedConsumerOptions } from "./consumer.js";
export { ConsumerMessages } from "./messages.js";
export type { PullOptions, ConsumeOptions, ConsumerMessagesStats } from "./messages.js";
export { JsMsg, parseInfo } from "./jsmsg.js";
export type { DeliveryInfo } from "./jsmsg.js";
export { MAX_DEPTH } from "./json.js";
export {
  JetStreamError,
  JetStreamApiError,
  StreamNotFoundError,
  ConsumerNotFoundError,
  JetStreamNotEnabled,
  NoStreamError,
  JetStreamStatusError,
  JetStreamResponseError,
  OutboxFullError,
  JetStreamApiCodes,
} from "./errors.js";
export type { ApiError } from "./errors.js";
export { OrderedWatcher } from "./watcher.js";
export type { OrderedWatchSpec, OrderedWatchStats } from "./watcher.js";
