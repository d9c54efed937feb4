/**
 * The device's commands: the endpoints of its micro service (ADR-32, `nats-xs/services`), service
 * name "sensor", metadata `{ device: <id> }`, on `sensors.<id>.cmd.<name>`; a backend with
 * @nats-io/services (or `nats micro ls`) finds every device, its endpoints and their stats.
 *   ping    -> the status JSON (version, uptime, outbox depth, last error...)
 *   config  empty -> {"settings","config"}; a JSON object of settings -> checked, then written to
 *           the config bucket (the device applies it from there, as any change) -> {"revision"};
 *           refused -> error 400 with the reason (headers Nats-Service-Error(-Code))
 * main.ts adds reboot and update (they need the ota module).
 */
import type { NatsConnection } from "nats-xs";
import { Svcm } from "nats-xs/services";
import type { Service, ServiceMsg } from "nats-xs/services";
import type { SensorApp } from "./app.js";

async function config(app: SensorApp, msg: ServiceMsg): Promise<void> {
  if (msg.data.length === 0) {
    const s = app.status();
    msg.respond(JSON.stringify({ settings: s.settings, config: s.config }));
    return;
  }
  const checked = app.check(msg.data, () => msg.string());
  if (checked.settings === null) {
    msg.respondError(400, checked.reason);
    return;
  }
  const kv = app.configKv;
  if (kv === null) {
    msg.respondError(503, "the config bucket is out of reach");
    return;
  }
  try {
    // put() copies the value before its first await: the request's view may go after that
    const revision = await kv.put(app.id, msg.data);
    msg.respond(JSON.stringify({ revision }));
  } catch (e) {
    msg.respondError(503, (e as Error).message);
  }
}

/** The subject prefix of a device's commands. */
export function commandPrefix(id: string): string {
  return `sensors.${id}.cmd`;
}

/** Starts the service with its ping and config endpoints; main.ts adds the others. */
export async function serveCommands(app: SensorApp, nc: NatsConnection): Promise<Service> {
  const svc = await new Svcm(nc).add({
    name: "sensor",
    version: app.version,
    description: "nats-xs fielded sensor",
    metadata: { device: app.id },
  });
  const cmd = svc.addGroup(commandPrefix(app.id));
  cmd.addEndpoint("ping", (err, msg) => {
    if (err !== null) return;
    app.commanded();
    msg.respond(JSON.stringify(app.status()));
  });
  cmd.addEndpoint("config", (err, msg) => {
    if (err !== null) return;
    app.commanded();
    return config(app, msg);
  });
  await nc.flush();
  return svc;
}
