// "ota/boot" on Node: what Moddable's `ota` module lacks to finish an update with ESP-IDF's
// rollback (firmware/device/esp32/ota-boot/ is the chip's version over esp_ota_ops), over the
// simulated partitions of host-sim/otadata.js. The runner (host-sim/sim.js) says which image runs
// (NATS_XS_OTA_RUNNING) and restarts the process when it exits with RESTART_STATUS.
import { deviceDir, entryOfSlot, labelOf, lastInvalid as lastInvalidSlot, nextSlot, otaFolder, readOtadata, RESTART_STATUS, runningSlot, runningState, slotBytes, State, STATE_NAMES, writeEntry } from "./otadata.js";

function folder() {
  return otaFolder(deviceDir());
}

/** The label of the running image's partition: "factory", "ota_0" or "ota_1". */
export function running() {
  return labelOf(runningSlot());
}

/** The running image's state: "new", "pending-verify", "valid", "invalid", "aborted" or
 *  "undefined" (the factory image, or an image booted without rollback). */
export function state() {
  return STATE_NAMES[runningState(folder(), runningSlot())];
}

/** The partition the next update writes: { label, bytes }. */
export function next() {
  return { label: labelOf(nextSlot(runningSlot())), bytes: slotBytes() };
}

/** The last image the bootloader refused or the app rolled back (its label), or undefined. */
export function lastInvalid() {
  return lastInvalidSlot(folder());
}

/** The running image works: it stays (esp_ota_mark_app_valid_cancel_rollback). */
export function markValid() {
  const slot = runningSlot();
  if (slot < 0) return;
  const f = folder();
  const entries = readOtadata(f);
  const i = entryOfSlot(entries, slot);
  if (i >= 0 && entries[i].state === State.PENDING_VERIFY) writeEntry(f, i, entries[i].seq, State.VALID);
}

/** The running image is bad: mark it invalid and reboot into the previous one
 *  (esp_ota_mark_app_invalid_rollback_and_reboot). Throws when the factory image runs. */
export function rollback() {
  const slot = runningSlot();
  if (slot < 0) throw new Error("rollback failed: the factory image is running; there is nothing to roll back to");
  const f = folder();
  const entries = readOtadata(f);
  const i = entryOfSlot(entries, slot);
  if (i >= 0) writeEntry(f, i, entries[i].seq, State.INVALID);
  restart();
}

/** Reboots now (esp_restart): the process ends with RESTART_STATUS; the runner starts it again. */
export function restart() {
  process.exit(RESTART_STATUS);
}

export default Object.freeze({ running, state, next, lastInvalid, markValid, rollback, restart });
