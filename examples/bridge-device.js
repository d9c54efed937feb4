// A device reports an image and a table and answers commands over NATSBridge; its peer is
// bridge-backend.js, started before or after it. It reports once a second until a command came
// (at most 10 times), answers it, and ends.
//   node --import ./host-sim/register.js examples/bridge-device.js nats=nats://127.0.0.1:4222 files=http://127.0.0.1:8080
import config from "mc/config";
import Timer from "timer";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe, smartreply } from "nats-xs/bridge";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const fileserver_url = typeof config.files === "string" ? config.files : "http://127.0.0.1:8080";
const jpeg = new Uint8Array(100_000).map((_, i) => i % 256);   // stands in for a camera frame
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => Timer.set(resolve, ms));

const nc = await connect({ servers, name: "s7" });
/** @type {Promise<unknown> | null} */
let answered = null;
smartsubscribe(nc, "site.s7.cmd", { callback: (err, env) => {
  if (err) return trace(`bad envelope: ${err.message}\n`);
  trace(`device: command ${JSON.stringify(env.payloads[0].data)}\n`);
  answered = smartreply(nc, env, [{ dataname: "ack", type: "dictionary", data: { done: env.payloads[0].data } }]);
} });
for (let i = 0; i < 10 && answered === null; i++) {
  // envelopes over 64 KB send their largest payloads to the file server, by link
  await smartsend(nc, "site.s7.report", [
    { dataname: "cam.jpg", type: "image", data: jpeg },
    { dataname: "readings", type: "table", data: [{ name: "celsius", type: "float32", values: [20.5, 21] }] },
  ], { fileserver_url, size_threshold: 64 * 1024 });
  await sleep(1000);
}
if (answered !== null) await answered;
trace(answered !== null ? "device: command answered\n" : "device: no backend asked anything\n");
await nc.drain();
