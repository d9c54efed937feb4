// Image metadata to JetStream, as the user's notebook does it: each image's metadata is a JSON
// message on `images.process` with a `file-name` header, stored in the stream IMAGE_STREAM (made at
// first boot if missing; adding it again with the same config is harmless). Each publish carries a
// Nats-Msg-Id derived from the file, so running the app twice stores every image once; the outbox
// keeps publishes that meet an outage until the stream acknowledges them.
//
// On Node:   node --import ./host-sim/register.js examples/image-metadata/main.js nats=nats://127.0.0.1:4222
// On a board: mcconfig -d -m -p esp32 examples/image-metadata/manifest.json nats=nats://10.0.0.2:4222
import config from "mc/config";
import { connect, headers } from "nats-xs";
import { jetstream, jetstreamManager } from "nats-xs/jetstream";

const server = typeof config.nats === "string" && config.nats !== "" ? config.nats : "nats://127.0.0.1:4222";
const camera = typeof config.camera === "string" ? config.camera : "cam-1";
const count = typeof config.count === "number" ? config.count : 3;

/** The images this device took (a camera would list its card here). */
function images() {
  const out = [];
  for (let i = 1; i <= count; i++) {
    out.push({
      file_name: `${camera}-${String(i).padStart(4, "0")}.jpg`,
      path: `/sd/dcim/${camera}-${String(i).padStart(4, "0")}.jpg`,
      size: 180000 + i * 1111,
      width: 1600,
      height: 1200,
      content_type: "image/jpeg",
      taken: new Date(Date.UTC(2026, 10, 30, 8, 0, i)).toISOString(),
    });
  }
  return out;
}

const nc = await connect({ servers: server, name: `image-metadata-${camera}`, maxReconnectAttempts: -1 });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "IMAGE_STREAM", subjects: ["images.process"], storage: "file" });
const js = jetstream(nc);

const acks = [];
for (const meta of images()) {
  const h = headers();
  h.set("file-name", meta.file_name);
  h.set("content-type", "application/json");
  acks.push(
    js.publish("images.process", JSON.stringify(meta), { headers: h, msgID: `${meta.file_name}@${meta.taken}` }).then(
      (ack) => trace(`image-metadata: ${meta.file_name} stored as ${ack.stream} #${ack.seq}${ack.duplicate ? " (already there)" : ""}\n`),
      (err) => trace(`image-metadata: ${meta.file_name} not stored: ${err.message}\n`),
    ),
  );
}
await Promise.all(acks);
const st = js.outboxStatus();
trace(`image-metadata: ${st.acked} acked, ${st.duplicates} already stored, ${st.failed} failed\n`);
await nc.drain();
