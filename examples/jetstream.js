// JetStream as the README shows it: a stream and a durable consumer made at first boot, a publish
// through the outbox, and the three ways to read (fetch, next, consume), then a replay and a
// direct get. Needs a server with JetStream (nats-server -js).
//   node --import ./host-sim/register.js examples/jetstream.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect, headers } from "nats-xs";
import { jetstream, jetstreamManager } from "nats-xs/jetstream";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers, maxReconnectAttempts: -1 });
const jsm = await jetstreamManager(nc);                 // first boot: make what the device uses
await jsm.streams.add({ name: "IMAGE_STREAM", subjects: ["images.process"], storage: "file", allow_direct: true });
await jsm.consumers.add("IMAGE_STREAM", { durable_name: "dev7", ack_policy: "explicit" });

const js = jetstream(nc);                               // { domain, apiPrefix, timeout, outboxBytes, ... }
for (let i = 1; i <= 3; i++) {
  const meta = { file_name: `cam-1-000${i}.jpg`, size: 180000 + i, taken: new Date().toISOString() };
  const h = headers();
  h.set("file-name", meta.file_name);
  const ack = await js.publish("images.process", JSON.stringify(meta), { headers: h });
  trace(`stored as ${ack.stream} #${ack.seq}${ack.duplicate ? " (duplicate)" : ""}\n`);  // { stream, seq, duplicate }
}
js.outboxStatus();                                      // { waiting, inFlight, bytes, acked, retries, ... }

const c = await js.consumers.get("IMAGE_STREAM", "dev7");
for await (const m of await c.fetch({ max_messages: 1, expires: 5000 })) m.ack();
const one = await c.next({ expires: 2000 });            // JsMsg or null
one?.ack();
const msgs = await c.consume({ max_messages: 50, callback: (m) => {
  trace(`${m.info.streamSequence} ${m.headers?.get("file-name")}\n`);
  m.ack();                                              // or nak(ms), term(reason), working(), await ackAck()
  void msgs.close();                                    // one is enough here
} });
await msgs.closed();
const replay = await js.consumers.get("IMAGE_STREAM", { deliver_policy: "by_start_time", opt_start_time: new Date(Date.now() - 60_000).toISOString() });
const first = await replay.next({ expires: 2000 });     // an ordered consumer: no state on the server
const last = await jsm.direct.getMessage("IMAGE_STREAM", { last_by_subj: "images.process" });  // allow_direct streams
trace(`jetstream: replay from #${first?.seq}, last is #${last?.seq} ${last?.header.get("file-name")}\n`);
await nc.drain();
