// NATSBridge on a device, the tour of docs/bridge.md: every payload type sent, commands received
// and answered, and an Arrow table read column by column. The device sends itself the command and
// the set points, so it runs alone; it ends when both came back.
//   node --import ./host-sim/register.js examples/bridge-tour.js nats=nats://127.0.0.1:4222 files=http://127.0.0.1:8080
import config from "mc/config";
// #region tour
import { connect } from "nats-xs";
import { smartsend, smartsubscribe, smartreceive, smartreply, smartrequest, arrowTable, maxDirectSize } from "nats-xs/bridge";
// #endregion tour
import { arrowColumns } from "nats-xs/bridge/arrow";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const files = typeof config.files === "string" ? config.files : "http://127.0.0.1:8080";
// stand-ins for the device's readings and camera
const times = [Date.UTC(2026, 10, 30, 8), Date.UTC(2026, 10, 30, 9)];
const temps = [20.5, 21];
const jpegBytes = new Uint8Array(20_000).map((_, i) => i % 256);
/** @type {(values: ArrayLike<unknown>) => void} */
const apply = (values) => trace(`set points: ${Array.from(values).join(", ")}\n`);

// #region tour
const nc = await connect({ servers, name: "s7" });

// send: payloads as NATSBridge.js takes them ({ dataname, data, type } or [dataname, data, type])
await smartsend(nc, "site.s7.report", [
  { dataname: "note", type: "text", data: "door opened" },
  { dataname: "state", type: "dictionary", data: { mode: "eco", setpoint: 21.5 } },
  { dataname: "readings", type: "table", data: [                       // Arrow IPC, written on the device
      { name: "t", type: "timestamp", values: times, timezone: "UTC" },
      { name: "celsius", type: "float32", values: temps } ] },
  { dataname: "cam.jpg", type: "image", data: jpegBytes },               // Uint8Array, ArrayBuffer or a PayloadSource
], { fileserver_url: files, msg_purpose: "telemetry" });

// receive: one callback per message, envelopes read from chunked delivery
smartsubscribe(nc, "site.s7.cmd", {
  callback: (err, env) => {
    if (err) return trace(`bad envelope: ${err.name}: ${err.message}\n`);   // typed, the subscription goes on
    const cmd = env.payloads[0].data;                                        // "reboot"
    smartreply(nc, env, [{ dataname: "ack", type: "dictionary", data: { ok: true } }]);
  },
});
// #endregion tour

/** @type {(value?: unknown) => void} */
let done = () => {};
const setpoints = new Promise((resolve) => (done = resolve));
// #region columns
smartsubscribe(nc, "site.s7.setpoints", {
  sink: arrowColumns({ onColumn: (col) => { if (col.name === "celsius") apply(col.values); } }),  // Float32Array
  callback: (err, env) => { if (err) trace(`${err.name}: ${err.message}\n`); },                 // ArrowTypeError names the type
});
// #endregion columns
smartsubscribe(nc, "site.s7.setpoints", { callback: () => done() });

const reply = await smartrequest(nc, "site.s7.cmd", [{ dataname: "cmd", type: "text", data: "reboot" }]);
trace(`command answered: ${JSON.stringify(reply.payloads[0].data)}\n`);
await smartsend(nc, "site.s7.setpoints", [{ dataname: "sp", type: "table", data: [{ name: "celsius", type: "float32", values: [19, 21.5] }] }]);
await setpoints;
trace(`bridge-tour: done (${maxDirectSize(nc, "site.s7.report")} bytes fit direct)\n`);
await nc.drain();
