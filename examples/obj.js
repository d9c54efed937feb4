// Object Store as the README shows it (nats-xs/obj, the names of @nats-io/obj). Needs JetStream.
//   node --import ./host-sim/register.js examples/obj.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";
import { Objm } from "nats-xs/obj";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers });
// stand-ins: a camera whose 300 KB frame is read at any offset, and a file that counts what it gets
const frame = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
const size = frame.length;
const camera = {
  read(/** @type {number} */ offset, /** @type {Uint8Array} */ into) {
    const piece = frame.subarray(offset, offset + into.length);
    into.set(piece);
    return piece.length;
  },
};
const file = { bytes: 0, write(/** @type {Uint8Array} */ view) { this.bytes += view.length; } };
// #region obj
const os = await new Objm(nc).create("images", { ttl: 0, max_bytes: -1, replicas: 1 });
// from the bridge's PayloadSource shape, or an async iterable of Uint8Array pieces
const info = await os.put({ name: "frame.jpg", options: { max_chunk_size: 128 * 1024 } },
  { size, read: (offset, into) => camera.read(offset, into) });
await os.get("frame.jpg", { write: (view) => file.write(view) });  // resolves after the digest matched
await os.put({ name: "cfg.json" }, { size: 2, read: (offset, into) => (into.set([123, 125].slice(offset)), 2 - offset) });
const small = await os.getBlob("cfg.json");                        // bytes, up to 64 KB (an argument)
await os.info("frame.jpg"); await os.list(); await os.delete("frame.jpg");
const w = await os.watch({ callback: (i) => trace(`watch: ${i.name}${i.deleted ? " (deleted)" : ""}\n`), ignoreDeletes: true });  // or for await; w.stop()
// #endregion obj
trace(`obj: put ${info.size} bytes in ${info.chunks} chunks, got ${file.bytes} back; cfg.json is ${small?.length} bytes\n`);
await nc.flush();
w.stop();
await nc.drain();
