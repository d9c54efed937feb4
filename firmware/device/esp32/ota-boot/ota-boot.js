/*
 * "ota/boot" on ESP32: what Moddable's `ota` module lacks to finish an update with ESP-IDF's app
 * rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, see sdkconfig/): the running image's state,
 * marking it valid, rolling it back, restarting. Natives in ota-boot.c over esp_ota_ops.
 * host-sim (host-sim/ota-boot.js) and the XS host (tools/xs/host/ota.c) simulate the same surface;
 * firmware/device/modules.d.ts declares it.
 */
function running() @ "xs_otaboot_running";
function state() @ "xs_otaboot_state";
function nextLabel() @ "xs_otaboot_next_label";
function nextBytes() @ "xs_otaboot_next_bytes";
function lastInvalid() @ "xs_otaboot_last_invalid";
function markValid() @ "xs_otaboot_mark_valid";
function rollback() @ "xs_otaboot_rollback";
function restart() @ "xs_otaboot_restart";

/** The partition the next `new OTA()` writes: { label, bytes }. */
function next() {
	return { label: nextLabel(), bytes: nextBytes() };
}

export { running, state, next, lastInvalid, markValid, rollback, restart };
export default Object.freeze({ running, state, next, lastInvalid, markValid, rollback, restart });
