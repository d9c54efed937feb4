/**
 * The fielded sensor: publishes a reading every second on `sensors.<id>.reading` and answers
 * `sensors.<id>.cmd.ping`. Its server and id come from mc/config (`config.nats`, `config.id`), set
 * in the manifest or on the mcconfig command line (`mcconfig ... nats=nats://10.0.0.2:4222 id=s7`).
 */
import config from "mc/config";
import Timer from "timer";
import { connect } from "nats-xs";
import { status } from "nats-xs/status";

// no default server: on a board 127.0.0.1 is the board itself, so a missing setting is said at boot
const server = typeof config.nats === "string" ? config.nats : "";
const id = typeof config.id === "string" && config.id !== "" ? config.id : String(config.id ?? "sensor-1");
const interval = typeof config.interval === "number" ? config.interval : 1000;
const limit = typeof config.count === "number" ? config.count : 0;

if (server === "") {
  trace(`sensor ${id}: no NATS server set: build with nats=nats://<host>:4222 on the mcconfig command line (or in the manifest's config)\n`);
  throw new Error("sensor: no NATS server set (nats=...)");
}
trace(`sensor ${id}: connecting to ${server}\n`);
const nc = await connect({ servers: server, name: id, reconnectTimeWait: 1000, maxReconnectAttempts: -1 });
trace(`sensor ${id}: connected to ${nc.getServer()} (server ${nc.info?.server_name} ${nc.info?.version})\n`);

(async () => {
  for await (const s of status(nc)) trace(`sensor ${id}: ${s.type}${s.server ? " " + s.server : ""}${s.error ? ": " + s.error.message : ""}\n`);
})();

const started = Date.now();
let seq = 0;
nc.subscribe(`sensors.${id}.cmd.ping`, {
  callback(err, msg) {
    if (err !== null || msg === null) return;
    trace(`sensor ${id}: ping from ${msg.reply}\n`);
    msg.respond(JSON.stringify({ id, uptime: Date.now() - started, sent: seq }));
  },
});
// the server has the subscription once a flush comes back: commands sent from now on reach us
await nc.flush();
trace(`sensor ${id}: listening on sensors.${id}.cmd.ping\n`);

const subject = `sensors.${id}.reading`;
const timer = Timer.repeat(() => {
  seq++;
  // a simulated temperature: a slow sine around 21 °C
  const celsius = Math.round((21 + 3 * Math.sin(seq / 30)) * 100) / 100;
  const reading = JSON.stringify({ id, seq, celsius, t: Date.now() });
  try {
    nc.publish(subject, reading);
    trace(`sensor ${id}: ${subject} ${reading}\n`);
  } catch (e) {
    trace(`sensor ${id}: reading ${seq} not sent: ${(e as Error).message}\n`);
  }
  if (limit > 0 && seq >= limit) {
    Timer.clear(timer);
    nc.drain().then(() => trace(`sensor ${id}: done after ${seq} readings\n`));
  }
}, interval);
