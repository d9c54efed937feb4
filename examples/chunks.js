// A message larger than memory, both ways: publishStream() (nats-xs/stream) sends a frame in pieces and a
// `chunks: true` subscription takes it in pieces (views valid during the callback).
//   node --import ./host-sim/register.js examples/chunks.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";
import { publishStream } from "nats-xs/stream";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers, name: "camera-7" });

// stand-ins for the device's flash and camera: a 100 KB frame handed over in 4 KB pieces
const frame = new Uint8Array(100_000).map((_, i) => i % 251);
const frameBytes = frame.length;
const camera = {
  *pieces() {
    for (let at = 0; at < frame.length; at += 4096) yield frame.subarray(at, at + 4096);
  },
};
let written = 0;
/** @type {(value?: unknown) => void} */
let done = () => {};
const received = new Promise((resolve) => (done = resolve));
const flash = {
  /** @param {number} offset @param {Uint8Array} bytes */
  write(offset, bytes) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== frame[offset + i]) throw new Error(`byte ${offset + i} differs`);
    written += bytes.length;
    if (written === frame.length) done();
  },
};

// #region receive
nc.subscribe("camera.7.frame", {
  chunks: true,
  callback(err, msg) {          // msg is a MsgChunk
    if (err) return trace(`image lost: ${err.message}\n`);
    flash.write(msg.offset, msg.data);          // bytes [offset, offset + data.length) of msg.size
    if (msg.last) trace(`image of ${msg.size} bytes received\n`);
  },
});
// #endregion receive
await nc.flush();

// #region send
const w = publishStream(nc, "camera.7.frame", frameBytes);
for (const piece of camera.pieces()) if (!w.write(piece)) await w.ready();
w.end();
// #endregion send

await received;
trace(`chunks: ${written} bytes written to flash\n`);
await nc.drain();
