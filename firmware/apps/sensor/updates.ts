/**
 * The commands that replace or restart the running image, endpoints of the device's service beside
 * ping and config (commands.ts). They need Moddable's `ota` module (ESP32; simulated in host-sim
 * and on the XS host), so main.ts adds them and the preloadable nats-xs/sensor-app does not.
 *   reboot  -> {"rebooting":true}, then the device restarts (the outbox journal keeps the readings)
 *   update  {"bucket","name","digest"?} -> {"accepted":true} at once (409 while one runs); the image
 *           streams from the Object Store into the update partition, progress and the result in the
 *           status key (`update`: starting, downloading, verified or failed with the reason); once
 *           verified the device reboots into it, and the new image marks itself good only after it
 *           has connected (main.ts), else the bootloader brings this one back
 */
import Timer from "timer";
import { checkJson } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { Objm } from "nats-xs/obj";
import type { Service, ServiceMsg } from "nats-xs/services";
import { commandPrefix } from "nats-xs/sensor-app";
import type { SensorApp } from "nats-xs/sensor-app";
import { reboot, updateFromObjectStore } from "./update.js";

const UPDATE_KEYS = Object.freeze(["bucket", "name", "digest"]);

/** The update request, or why it is refused. */
function updateRequest(msg: ServiceMsg): { bucket: string; name: string; digest: string | undefined } | string {
  try {
    checkJson(msg.data, { maxBytes: 1024, maxDepth: 1, maxValues: 8, what: "the update request" });
  } catch (e) {
    return (e as Error).message;
  }
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(msg.string());
  } catch {
    return "the update request is not JSON text";
  }
  if (r === null || typeof r !== "object" || Array.isArray(r)) return "the update request must be a JSON object";
  for (const k in r) if (UPDATE_KEYS.indexOf(k) < 0) return `unknown field ${JSON.stringify(k.slice(0, 32))}; the fields are ${UPDATE_KEYS.join(", ")}`;
  if (typeof r.bucket !== "string" || r.bucket === "") return "bucket must be the Object Store bucket's name";
  if (typeof r.name !== "string" || r.name === "") return "name must be the image's object name";
  if (r.digest !== undefined && typeof r.digest !== "string") return 'digest must be "SHA-256=<base64url>"';
  return { bucket: r.bucket, name: r.name, digest: r.digest as string | undefined };
}

async function update(app: SensorApp, nc: NatsConnection, bucket: string, name: string, digest: string | undefined): Promise<void> {
  try {
    const os = await new Objm(nc).open(bucket);
    const r = await updateFromObjectStore(os, name, (bytes, size) => app.updating("downloading", bytes, size, null), digest === undefined ? {} : { digest });
    app.updating("verified", r.size, r.size, null);
    app.log("info", `update ${name} (${r.size} bytes, ${r.digest}) written to ${r.partition}: rebooting into it`);
    await app.statusStored().catch(() => {});
    app.stop();
    await nc.flush().catch(() => {});
    reboot();
  } catch (e) {
    const err = e as Error & { bytes?: number };
    app.updating("failed", err.bytes ?? 0, 0, `${err.name}: ${err.message}`);
  }
}

/** Adds the reboot and update endpoints to the device's service. */
export function serveUpdates(app: SensorApp, nc: NatsConnection, svc: Service): void {
  const cmd = svc.addGroup(commandPrefix(app.id));
  cmd.addEndpoint("reboot", async (err, msg) => {
    if (err !== null) return;
    app.commanded();
    msg.respond(JSON.stringify({ rebooting: true }));
    app.log("info", "reboot asked for");
    await app.statusStored().catch(() => {});
    app.stop();
    await nc.flush().catch(() => {});
    reboot();
  });
  cmd.addEndpoint("update", (err, msg) => {
    if (err !== null) return;
    app.commanded();
    if (app.updateRunning) {
      msg.respondError(409, "an update is running");
      return;
    }
    const r = updateRequest(msg);
    if (typeof r === "string") {
      msg.respondError(400, r);
      return;
    }
    msg.respond(JSON.stringify({ accepted: true, name: r.name }));
    // started from a timer, not from under the socket's read callback and the parser: the
    // transfer's call chain then has the stack to itself (512 slots on XS)
    app.updating("starting", 0, 0, null);
    Timer.set(() => void update(app, nc, r.bucket, r.name, r.digest));
  });
}
