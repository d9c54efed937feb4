// NATSBridge links through the Object Store instead of an HTTP file server: the device sends a
// 40 KB image whose bytes go into the bucket "links", the envelope carries nats-os://links/...,
// and a receiver on the same connection reads it back through the Object Store. Needs JetStream.
//   node --import ./host-sim/register.js examples/bridge-objlink.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers });
const jpeg = new Uint8Array(40_000).map((_, i) => (i * 13) % 256);
const jpegSource = { size: jpeg.length, read: (/** @type {number} */ offset, /** @type {Uint8Array} */ into) => {
  const piece = jpeg.subarray(offset, offset + into.length);
  into.set(piece);
  return piece.length;
} };
let bytes = 0;
const sink = () => ({ write: (/** @type {Uint8Array} */ view) => { bytes += view.length; } });
/** @type {() => void} */
let done = () => {};
const received = new Promise((resolve) => (done = () => resolve(undefined)));
const callback = (/** @type {Error | null} */ err, /** @type {import("nats-xs/bridge").MessageEnvelope | null} */ env) => {
  if (err !== null || env === null) return trace(`bridge-objlink: ${err?.message}\n`);
  trace(`bridge-objlink: ${env.payloads[0].dataname} of ${bytes} bytes from ${env.payloads[0].url.split("/")[2]}\n`);
  done();
};
// #region objlink
import { Objm } from "nats-xs/obj";
import { smartsend, smartsubscribe } from "nats-xs/bridge";
await new Objm(nc).create("links", { ttl: 24 * 3600e9 });          // once: the bucket must exist
smartsubscribe(nc, "site.s7.report", { object_store: "links", sink, callback });   // reads nats-os:// links from "links"
await smartsend(nc, "site.s7.report", [{ dataname: "cam.jpg", type: "image", data: jpegSource }],
  { object_store: "links", size_threshold: 1000 });                // instead of fileserver_url
// #endregion objlink
await received;
await nc.drain();
