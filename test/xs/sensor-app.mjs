// The sensor app (dist/apps/sensor.js, as flashed) on the XS engine under the ESP32 creation
// budget, with nats-xs, its JetStream, KV, Object Store and services modules and the app's own
// module (nats-xs/sensor-app) preloaded as manifests/sensor preloads them. Driven by
// test/xs-sensor-app.test.ts (a nats.js backend), which acts on the lines marked <-:
//   booted                  <- the app runs; the backend changes its settings in KV
//   configured <json>          the change applied (status.config)
//   progress <n>            <- n readings taken (every 100); the backend stops and restarts the server
//   readings <json>            all readings taken and the outbox drained (status.readings)
//   commanded               <- after the backend's command (ping) was answered; the backend puts
//                              firmware 1.1.0 into the Object Store and sends the update command
//                              the image streams in (memory "updating" when seen before the reboot);
//                              the device reboots into it (exit 100, the runner boots the new image,
//                              which marks itself good once connected)
//   memory <json>              heap after a forced collection at each stage above, with the peaks
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { say, fail, until, watchdog } from "./report.mjs";
import { booted } from "../../dist/apps/sensor.js";

const app = await booted;

const COUNT = config.count ?? 1000;
const dog = watchdog(config.timeout ?? 100000);

function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

async function main() {
  say("booted");
  stage("booted");
  await until(() => app.status().config.source === "kv", 20000, "the settings change", 20);
  say(`configured ${JSON.stringify(app.status().config)}`);
  stage("configured");
  let told = 0;
  await until(() => {
    const s = app.status();
    while (s.readings.taken >= told + 100 && told + 100 <= COUNT) say(`progress ${(told += 100)}`);
    return s.readings.taken >= COUNT && s.outbox.waiting === 0;
  }, 90000, `${COUNT} readings stored`, 20);
  say(`readings ${JSON.stringify(app.status().readings)}`);
  stage("readings");
  await until(() => app.status().commands >= 1, 20000, "a command", 20);
  say("commanded");
  stage("commanded");
  await until(() => app.status().update !== null, 30000, "the update", 5);
  // measured while the image streams in, when it is seen before the reboot
  await until(() => app.status().update.state !== "starting", 30000, "the update", 1);
  if (app.status().update.state === "downloading") stage("updating");
  // the app reboots once the image is verified; a failed update is a failure here
  await until(() => app.status().update?.state === "failed", 60000, "", 50).then(
    () => fail(`update failed: ${app.status().update.error}`),
    () => fail("no reboot within 60 s of the update"),
  );
}

main().catch((e) => fail(`${e.message}`));
