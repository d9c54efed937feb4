// A link payload over https: the file server's certificate is checked against the CA given in the
// link option `tls` (here from the `ca` setting). The device sends itself an envelope whose payload
// goes by link, and reads it back.
//   MC_CA="$(cat ca.pem)" node --import ./host-sim/register.js examples/bridge-https.js nats=nats://127.0.0.1:4222 files=https://127.0.0.1:8443
import config from "mc/config";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe } from "nats-xs/bridge";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const files = typeof config.files === "string" ? config.files : "https://127.0.0.1:8443";
const caPem = typeof config.ca === "string" ? config.ca : "";
const nc = await connect({ servers, name: "s7" });
const payloads = [{ dataname: "cam.jpg", type: "image", data: new Uint8Array(50_000).fill(7), transport: /** @type {const} */ ("link") }];
/** @type {(value?: unknown) => void} */
let done = () => {};
const received = new Promise((resolve) => (done = resolve));
/** @type {import("nats-xs/bridge").EnvelopeCallback} */
const callback = (err, env) => {
  if (err) return trace(`bad envelope: ${err.message}\n`);
  const p = env.payloads[0];
  trace(`bridge-https: ${p.dataname} of ${p.data instanceof Uint8Array ? p.data.length : 0} bytes by link\n`);
  done();
};
// #region https
const tls = { ca: caPem };                                   // PEM text or its bytes
smartsubscribe(nc, "site.s7.cmd", { fileserver_url: files, tls, max_held_bytes: 65536, callback });
await smartsend(nc, "site.s7.cmd", payloads, { fileserver_url: files, tls });
// #endregion https
await received;
await nc.drain();
