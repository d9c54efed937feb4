// Key-Value as the README shows it (nats-xs/kv, the names of @nats-io/kv). Needs JetStream.
//   node --import ./host-sim/register.js examples/kv.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";
import { Kvm, KvWatchInclude } from "nats-xs/kv";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers });
const apply = (/** @type {string} */ key, /** @type {string} */ value) => trace(`watch: ${key} = ${value}\n`);
// #region kv
const kv = await new Kvm(nc).create("config", { history: 5, ttl: 0, max_bytes: -1, replicas: 1 });
const rev = await kv.put("led.color", "red");
await kv.update("led.color", "green", rev);     // compare-and-set: JetStreamApiError 10071 if it lost
await kv.create(`boot.${Date.now()}`, "1");     // only when the key has no value (or was deleted)
const e = await kv.get("led.color");            // direct get: e.key, e.value, e.revision, e.created, e.operation, e.string(), e.json()
trace(`${e?.key} = ${e?.string()} at revision ${e?.revision}\n`);
for await (const k of await kv.keys("led.*")) trace(`key ${k}\n`);
for await (const h of await kv.history({ key: "led.color" })) trace(`history ${h.revision} ${h.operation}\n`);
const w = await kv.watch({ key: "led.>", include: KvWatchInclude.LastValue, ignoreDeletes: true,
  callback: (e) => apply(e.key, e.string()) });     // or `for await (const e of w)`; w.stop()
await kv.put("led.color", "blue");
await kv.delete("led.color"); await kv.purge("old");
// #endregion kv
await nc.flush();
w.stop();
await nc.drain();
