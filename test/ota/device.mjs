// A tiny device app for the OTA suites, bundled at test time by test/ota/images.ts with
// firmware/apps/sensor/update.ts inside it (esbuild, types stripped) into an image: an ES module
// that imports only device modules and nats-xs. VERSION and CRASH are set per image.
//
// At boot it reads where it runs (bootInfo()), crashes at once when CRASH is set (an image that
// never marks itself good), else connects, marks itself good, and publishes
//   ota.<id>.boot     {version, boot (before marking), state (after), pid}
// then answers
//   ota.<id>.update   {name, heartbeat?, digest?}: streams the image, progress on
//                     ota.<id>.progress [bytes, size]; replies {ok: true, result} then reboots,
//                     or {ok: false, error, message, bytes}
//   ota.<id>.status   {version, boot, last}: the last update's outcome
import config from "mc/config";
import Timer from "timer";
import { connect } from "nats-xs";
import { Objm } from "nats-xs/obj";
import { bootInfo, markImageGood, reboot, updateFromObjectStore } from "../../firmware/apps/sensor/update.ts";

const id = String(config.id);
const boot = bootInfo();
trace(`device ${VERSION} boot ${JSON.stringify(boot)}\n`);
if (CRASH) throw new Error(`image ${VERSION} crashes at boot`);

const nc = await connect({ servers: config.nats, name: id, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
markImageGood();
const os = await new Objm(nc).open(String(config.bucket));
let last = null;

nc.subscribe(`ota.${id}.status`, {
  callback(err, msg) {
    if (err === null && msg !== null) msg.respond(JSON.stringify({ version: VERSION, boot, last }));
  },
});
nc.subscribe(`ota.${id}.update`, {
  callback(err, msg) {
    if (err !== null || msg === null) return;
    const { name, heartbeat, digest } = msg.json();
    const opts = {};
    if (heartbeat !== undefined) opts.heartbeat = heartbeat;
    if (digest !== undefined) opts.digest = digest;
    updateFromObjectStore(os, name, (bytes, size) => nc.publish(`ota.${id}.progress`, JSON.stringify([bytes, size])), opts).then(
      (result) => {
        last = { ok: true, result };
        msg.respond(JSON.stringify(last));
        // the reply goes out before the reboot
        nc.flush().then(() => reboot(), () => reboot());
      },
      (e) => {
        last = { ok: false, error: e.name, message: e.message, bytes: e.bytes ?? -1 };
        trace(`device ${VERSION} update failed: ${e.name}: ${e.message}\n`);
        try {
          msg.respond(JSON.stringify(last));
        } catch {
          // the connection is down: the outcome waits in `last` for a status request
        }
      },
    );
  },
});
await nc.flush();
nc.publish(`ota.${id}.boot`, JSON.stringify({ version: VERSION, boot, state: bootInfo().state }));
// keeps the device alive as a board is
Timer.repeat(() => {}, 60_000);
