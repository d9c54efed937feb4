// Readings that survive a power loss: the JetStream outbox kept in a file of the device's storage
// (nats-xs/outbox-file). A reading accepted before the power goes is restored at the next boot and
// sent with its Nats-Msg-Id, so the stream stores it once. Needs a server with JetStream.
//   NATS_XS_DEVICE_DIR=/tmp/dev7 node --import ./host-sim/register.js examples/outbox-file.js nats=nats://127.0.0.1:4222
// (the device's files live under $NATS_XS_DEVICE_DIR/files; without it each run starts empty)
import config from "mc/config";
import { connect } from "nats-xs";
import { jetstream, jetstreamManager } from "nats-xs/jetstream";
import files from "embedded:storage/files";
import { fileStore } from "nats-xs/outbox-file";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers, maxReconnectAttempts: -1 });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "READINGS", subjects: ["readings.>"], storage: "file" });

// #region outbox-file
const store = fileStore(files, "outbox", { maxBytes: 16384 });   // a journal file under the files root
const js = jetstream(nc, { outboxStore: store });           // restores what waited before the reboot
trace(`restored ${js.outboxStatus().restored} readings from before the reboot\n`);
for (let i = 0; i < 5; i++) {
  const published = js.outboxStatus().published;
  const acked = js.publish("readings.dev7", JSON.stringify({ celsius: 21 + i / 10 }));
  acked.catch((e) => trace(`reading ${i}: ${e.name} ${e.message}\n`));  // OutboxFullError, ...
  if (js.outboxStatus().published > published) {
    // accepted: on flash now; it reaches the stream once, whatever happens to the power
  }
}
await js.outboxIdle();                                      // all acknowledged by the stream
// #endregion outbox-file
const s = store.status();                                   // { entries, bytes, maxBytes, restored, corrupt, discarded, compactions, error? }
trace(`outbox-file: ${js.outboxStatus().acked} readings stored, the file is ${s.bytes} bytes again\n`);
await nc.drain();
