// A NATS micro service on the device as the README shows it (nats-xs/services, the names of
// @nats-io/services): discoverable with `nats micro ls`, @nats-io/services or nats.go's micro package.
//   node --import ./host-sim/register.js examples/services.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";
import { ServiceError, Svcm } from "nats-xs/services";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers });
const settings = { interval: 60 };
let updating = false;
// #region services
const svc = await new Svcm(nc).add({
  name: "sensor", version: "1.4.0", description: "greenhouse sensor",
  metadata: { board: "esp32", site: "greenhouse-2" },
});
svc.addEndpoint("ping", (err, msg) => msg.respond("pong"));
const cmd = svc.addGroup(`sensor.${svc.id}`);          // this device's own command subjects
cmd.addEndpoint("config", (err, msg) => {
  const c = /** @type {{ interval?: unknown }} */ (msg.json());  // bounded: too deep a payload throws
  if (typeof c?.interval !== "number") throw new ServiceError(400, "interval must be a number");
  settings.interval = c.interval;                       // a throw is answered with the error headers
  msg.respond(JSON.stringify(settings));
});
cmd.addEndpoint("update", (err, msg) => {
  if (updating) msg.respondError(409, "an update is running");
  else msg.respond("started");
});
// #endregion services
await nc.flush();
const info = /** @type {{ endpoints: unknown[] }} */ ((await nc.request(`$SRV.INFO.sensor.${svc.id}`, "", { timeout: 2000 })).json());
const answer = await nc.request(`sensor.${svc.id}.config`, '{"interval":"soon"}', { timeout: 2000 });
const refused = ServiceError.toServiceError(answer);
const stats = await svc.stats();
trace(`services: ${info.endpoints.length} endpoints; config refused ${refused?.code} "${refused?.message}"; ${stats.endpoints[1].num_errors} error counted\n`);
await svc.stop();
await nc.drain();
