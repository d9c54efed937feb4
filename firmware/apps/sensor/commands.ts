/**
 * The device's commands, each an endpoint of its service on `sensors.<id>.cmd.<name>`:
 *   ping    -> the status JSON (version, uptime, outbox depth, last error...)
 *   config  empty -> {"settings","config"}; a JSON object of settings -> checked, then written to
 *           the config bucket (the device applies it from there, as any change) -> {"revision"};
 *           refused -> error 400 with the reason
 */
import type { Msg, NatsConnection } from "nats-xs";
import type { SensorApp } from "./app.js";

function fail(msg: Msg, code: number, description: string): void {
  msg.respond(JSON.stringify({ error: { code, description } }));
}

async function config(app: SensorApp, msg: Msg): Promise<void> {
  if (msg.data.length === 0) {
    const s = app.status();
    msg.respond(JSON.stringify({ settings: s.settings, config: s.config }));
    return;
  }
  const checked = app.check(msg.data, () => msg.string());
  if (checked.settings === null) return fail(msg, 400, checked.reason);
  const kv = app.configKv;
  if (kv === null) return fail(msg, 503, "the config bucket is out of reach");
  try {
    const revision = await kv.put(app.id, msg.data);
    msg.respond(JSON.stringify({ revision }));
  } catch (e) {
    fail(msg, 503, (e as Error).message);
  }
}

/** Registers the endpoints. */
export async function serveCommands(app: SensorApp, nc: NatsConnection): Promise<void> {
  const prefix = `sensors.${app.id}.cmd.`;
  nc.subscribe(`${prefix}ping`, {
    callback: (err, msg) => {
      if (err !== null || msg === null) return;
      app.commanded();
      msg.respond(JSON.stringify(app.status()));
    },
  });
  nc.subscribe(`${prefix}config`, {
    callback: (err, msg) => {
      if (err !== null || msg === null) return;
      app.commanded();
      void config(app, msg);
    },
  });
  await nc.flush();
}
