// A backend reads the reports of bridge-device.js (an image by link and an Arrow table) and sends
// it a command with a reply; started before or after the device, it ends within 10 s.
//   node --import ./host-sim/register.js examples/bridge-backend.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import Timer from "timer";
import { connect } from "nats-xs";
import { smartsubscribe, smartrequest } from "nats-xs/bridge";
import { tableFromIPC } from "apache-arrow";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers, name: "backend" });
/** @type {(value?: unknown) => void} */
let reported = () => {};
const report = new Promise((resolve) => (reported = resolve));
const timer = Timer.set(() => reported(), 10_000);
smartsubscribe(nc, "site.*.report", { max_size: 64 << 20, max_held_bytes: 64 << 20, callback: (err, env) => {
  if (err) return trace(`bad envelope: ${err.message}\n`);
  const [img, table] = env.payloads;                  // an image and an Arrow table arrive as bytes
  if (!(img.data instanceof Uint8Array) || !(table.data instanceof Uint8Array)) return;
  trace(`${env.sender_name}: ${img.dataname} ${img.data.length} bytes, ${JSON.stringify(tableFromIPC(table.data).toArray())}\n`);
  reported();
} });
await report;                                         // a device is there: send it a command
Timer.clear(timer);
const reply = await smartrequest(nc, "site.s7.cmd", [{ dataname: "cmd", type: "text", data: "reboot" }]);
trace(`backend: reply ${JSON.stringify(reply.payloads[0].data)} to ${reply.correlation_id}\n`);
await nc.drain();
