// A device app that depends on nats-xs: it says hello, answers `<id>.cmd.ping`, and ends after
// `count` pings (0: runs for ever). Its server and id come from mc/config: the manifest's "config",
// the mcconfig command line on a board, or key=value words in the simulator.
//
//   npm run sim -- nats=nats://127.0.0.1:4222 id=dev-1      (host simulator)
//   mcconfig -d -m -p esp32 ssid=... password=... nats=nats://10.0.0.2:4222 id=dev-1
// @ts-check
import config from "mc/config";
import { connect } from "nats-xs";

const server = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const id = typeof config.id === "string" ? config.id : "dev-1";
const count = Number(config.count ?? 0);

const nc = await connect({ servers: server, name: id, maxReconnectAttempts: -1 });
trace(`${id}: connected to ${nc.getServer()}\n`);

let pings = 0;
nc.subscribe(`${id}.cmd.ping`, {
  callback(err, msg) {
    if (err !== null || msg === null) return trace(`${id}: ${err?.message}\n`);
    msg.respond(JSON.stringify({ id, pings: ++pings }));
    if (count > 0 && pings >= count) nc.drain();
  },
});
nc.publish(`${id}.hello`, JSON.stringify({ id, started: Date.now() }));
await nc.flush();
trace(`${id}: ready\n`);
