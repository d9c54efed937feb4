// The `ota` and `ota/boot` device modules' contract, run unchanged on host-sim and on the XS host
// by test/ota-modules.test.ts (which compares the two): Moddable's own tests of its ESP32 module
// (tests/modules/devices/esp32/ota: write, cancel, complete) plus the partition's bound, one update
// at a time, and the rollback state. Prints one line `result {...}`: each step's outcome, "ok" or
// the name of what it threw. `phase=` picks the part (the test sets NATS_XS_DEVICE_DIR,
// NATS_XS_OTA_SLOT_BYTES=4096 and, for phase 2, NATS_XS_OTA_RUNNING=ota_0).
import config from "mc/config";
import OTA from "ota";
import { lastInvalid, markValid, next, rollback, running, state } from "ota/boot";

const out = {};
function step(name, f) {
  try {
    const v = f();
    out[name] = v === undefined ? "ok" : v;
  } catch (e) {
    out[name] = e.name;
  }
}

if (config.phase === 1) {
  step("where", () => [running(), state(), next(), lastInvalid() ?? null]);
  let o;
  step("begin", () => {
    o = new OTA();
  });
  step("second begin", () => new OTA());
  step("write ArrayBuffer", () => o.write(new ArrayBuffer(1000)));
  step("write Uint8Array", () => o.write(new Uint8Array(1000)));
  step("write DataView", () => o.write(new DataView(new ArrayBuffer(96))));
  step("write nothing", () => o.write());
  step("write number", () => o.write(1));
  step("write string", () => o.write("not a number"));
  step("write object", () => o.write({}));
  step("write Uint32Array", () => o.write(new Uint32Array(1)));
  step("write past the partition", () => o.write(new Uint8Array(2001)));
  step("write up to the partition", () => o.write(new Uint8Array(2000)));
  step("cancel", () => o.cancel());
  step("write after cancel", () => o.write(new Uint8Array(1)));
  step("complete after cancel", () => o.complete());
  step("cancel again", () => o.cancel());
  step("complete empty", () => new OTA().complete());
  let p;
  step("begin again", () => {
    p = new OTA();
  });
  step("write image", () => p.write(new Uint8Array(100)));
  step("complete", () => p.complete());
  step("write after complete", () => p.write(new Uint8Array(1)));
  step("still factory", () => [running(), state()]);
  step("mark valid on factory", () => markValid());
  step("rollback on factory", () => rollback());
} else if (config.phase === 2) {
  // runs as the image ota_0 that the first phase activated (not through the bootloader: still NEW)
  step("where", () => [running(), state(), next()]);
  step("begin while not valid", () => new OTA().cancel());
  trace(`result ${JSON.stringify(out)}\n`);
  rollback();
} else {
  step("after rollback", () => [running(), lastInvalid() ?? null]);
}
trace(`result ${JSON.stringify(out)}\n`);
