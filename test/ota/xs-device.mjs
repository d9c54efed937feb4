// The factory image of the XS OTA suite (test/xs-ota.test.ts), bundled with
// firmware/apps/sensor/update.ts by test/ota/images.ts and run by tools/xs/run.mjs --device-dir
// with nats-xs, nats-xs/jetstream and nats-xs/obj preloaded, under the ESP32 budget. It streams the
// object `image` into the simulated partition, reporting the XS heap at every progress call (a
// forced collection each time), then reboots into it. Once the bootloader has rolled an image
// back (bootInfo().lastInvalid), it only says where it runs.
//
// Lines on stdout:
//   factory {...}   where it runs (bootInfo())
//   update {...}    the result, progress calls, the live heap before and its highest during the
//                   transfer, and the machine's high-water marks (garbage included)
import config from "mc/config";
import { memory } from "xs:memory";
import { connect } from "nats-xs";
import { Objm } from "nats-xs/obj";
import { bootInfo, markImageGood, reboot, updateFromObjectStore } from "../../firmware/apps/sensor/update.ts";

const boot = bootInfo();
trace(`factory ${JSON.stringify(boot)}\n`);
// after a rollback the factory image stays as it is (no update loop)
if (boot.lastInvalid === "") await update();

async function update() {
  const nc = await connect({ servers: config.server, name: "xs-ota" });
  markImageGood();
  const os = await new Objm(nc).open(config.bucket);
  const before = memory();
  const top = { slots: 0, chunkBytes: 0, calls: 0, bytes: 0 };
  const result = await updateFromObjectStore(os, config.image, (bytes) => {
    const m = memory();
    if (m.slots > top.slots) top.slots = m.slots;
    if (m.chunkBytes > top.chunkBytes) top.chunkBytes = m.chunkBytes;
    top.calls++;
    top.bytes = bytes;
  });
  const after = memory();
  trace(`update ${JSON.stringify({ result, progress: top.calls, bytes: top.bytes, before: { slots: before.slots, chunkBytes: before.chunkBytes }, during: { slots: top.slots, chunkBytes: top.chunkBytes }, slotsPeak: after.slotsPeak, chunkBytesPeak: after.chunkBytesPeak })}\n`);
  await nc.close();
  reboot();
}
