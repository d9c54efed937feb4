/**
 * nats-xs/obj: the JetStream Object Store on a device, named and shaped as `@nats-io/obj` 3.x and
 * stored as ADR-20 says, so nats.js, nats.go and the nats CLI share the buckets. Objects pass
 * through in pieces both ways: a 10 MB object (in 128 KB chunks) never sits in RAM.
 *
 *   import { Objm } from "nats-xs/obj";
 *   const os = await new Objm(nc).create("images");
 *   await os.put({ name: "frame.jpg" }, { size, read: (offset, into) => camera.read(offset, into) });
 *   await os.get("frame.jpg", { write: (view) => file.write(view) });   // digest checked at the end
 */
export { Objm } from "./objm.js";
export type { ObjectStoreOptions } from "./objm.js";
export { ObjectStore } from "./store.js";
export { ObjectWatcher } from "./watch.js";
export type { ObjectWatchStats } from "./watch.js";
export type { ObjectWatchOptions, ObjectPutOptions, ObjectGetOptions, ObjectStoreStatus, ObjectSink, PayloadSource } from "./store.js";
export type { ObjectInfo, ObjectStoreMeta } from "./meta.js";
export { ObjectStoreError, DigestMismatchError, ObjectNotFoundError } from "./errors.js";
