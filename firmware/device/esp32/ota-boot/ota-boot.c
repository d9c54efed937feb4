/*
 * "ota/boot" natives for ESP32 over ESP-IDF's esp_ota_ops (app_update component):
 *
 *   running()      esp_ota_get_running_partition()->label ("factory", "ota_0", "ota_1")
 *   state()        esp_ota_get_state_partition() of the running partition, as a name;
 *                  "undefined" when ESP-IDF has none (the factory partition, rollback off)
 *   next           esp_ota_get_next_update_partition(NULL): label and size
 *   lastInvalid()  esp_ota_get_last_invalid_partition()->label, or undefined
 *   markValid()    esp_ota_mark_app_valid_cancel_rollback()
 *   rollback()     esp_ota_mark_app_invalid_rollback_and_reboot() (returns only when it failed)
 *   restart()      esp_restart()
 *
 * NOT COMPILED in this repository: there is no ESP-IDF toolchain on the machine that builds and
 * tests nats-xs. The same surface is simulated and tested in host-sim and on the XS host; see
 * README "Updates over the air" for what a board still needs checking.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "app_update/include/esp_ota_ops.h"
#include "esp_system.h"

static const char* stateName(esp_ota_img_states_t state)
{
	switch (state) {
	case ESP_OTA_IMG_NEW: return "new";
	case ESP_OTA_IMG_PENDING_VERIFY: return "pending-verify";
	case ESP_OTA_IMG_VALID: return "valid";
	case ESP_OTA_IMG_INVALID: return "invalid";
	case ESP_OTA_IMG_ABORTED: return "aborted";
	default: return "undefined";
	}
}

void xs_otaboot_running(xsMachine *the)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	if (NULL == running)
		xsUnknownError("no running partition");
	xsmcSetString(xsResult, (char *)running->label);
}

void xs_otaboot_state(xsMachine *the)
{
	esp_ota_img_states_t state;
	const esp_partition_t *running = esp_ota_get_running_partition();
	if ((NULL == running) || (ESP_OK != esp_ota_get_state_partition(running, &state)))
		state = ESP_OTA_IMG_UNDEFINED;
	xsmcSetString(xsResult, (char *)stateName(state));
}

static const esp_partition_t *nextPartition(xsMachine *the)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	if (NULL == next)
		xsUnknownError("no update partition");
	return next;
}

void xs_otaboot_next_label(xsMachine *the)
{
	xsmcSetString(xsResult, (char *)nextPartition(the)->label);
}

void xs_otaboot_next_bytes(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)nextPartition(the)->size);
}

void xs_otaboot_last_invalid(xsMachine *the)
{
	const esp_partition_t *invalid = esp_ota_get_last_invalid_partition();
	if (NULL != invalid)
		xsmcSetString(xsResult, (char *)invalid->label);
}

void xs_otaboot_mark_valid(xsMachine *the)
{
	if (ESP_OK != esp_ota_mark_app_valid_cancel_rollback())
		xsUnknownError("mark valid failed");
}

void xs_otaboot_rollback(xsMachine *the)
{
	esp_ota_mark_app_invalid_rollback_and_reboot();
	xsUnknownError("rollback failed: there is no other image to roll back to");
}

void xs_otaboot_restart(xsMachine *the)
{
	esp_restart();
}
