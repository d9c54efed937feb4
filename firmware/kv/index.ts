/**
 * nats-xs/kv: Key-Value buckets on a device, named and shaped as `@nats-io/kv` 3.x and stored as
 * ADR-8 says, so that nats.js, nats.go and the nats CLI read and write the same buckets.
 *
 *   import { Kvm } from "nats-xs/kv";
 *   const kv = await new Kvm(nc).create("config", { history: 5 });
 *   const rev = await kv.put("led.color", "red");
 *   await kv.update("led.color", "green", rev);          // compare-and-set
 *   const w = await kv.watch({ key: "led.>", callback: (e) => apply(e.key, e.value) });
 */
export { Kvm } from "./kvm.js";
export type { KvOptions } from "./kvm.js";
export { Bucket, KvWatchInclude } from "./bucket.js";
export type { KvWatchOptions, KvPutOptions, KvDeleteOptions, KvStatus, KvWatchStats } from "./bucket.js";
export { KvWatcher } from "./watcher.js";
export { KvEntry } from "./entry.js";
export type { KvOperation } from "./entry.js";
export { validateKey, validateBucket } from "./keys.js";
export { KvError, KvWatchError, KvWatchOverflowError } from "./errors.js";
