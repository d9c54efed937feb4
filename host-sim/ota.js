// "ota" on Node: Moddable's ESP32 OTA module (build/devices/esp32/modules/ota) over the simulated
// partitions of host-sim/otadata.js. Same surface and the same failures as on the chip:
//   new OTA()        esp_ota_begin on the slot after the running one (erases it); throws "begin
//                    failed" while the running image is pending verification (ESP-IDF refuses an
//                    update before the running image was marked valid) or another update is open
//   write(bytes)     ArrayBuffer, byte-sized typed array or DataView (TypeError for anything else,
//                    SyntaxError when missing); "write failed" past the slot's size, after cancel()
//                    or complete()
//   cancel()         stops the update, the slot stays erased; safe to call again
//   complete()       esp_ota_end (fails on an empty image) and esp_ota_set_boot_partition: the new
//                    image boots next, pending verification
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { deviceDir, nextSlot, otaFolder, runningSlot, runningState, setBootSlot, slotBytes, slotFile, State } from "./otadata.js";

let open = null;

function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Uint8Array || data instanceof Int8Array || data instanceof Uint8ClampedArray) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("write: expected an ArrayBuffer or a byte view");
}

export default class OTA {
  #fd = -1;
  #folder;
  #slot;
  #written = 0;
  #limit;

  constructor() {
    const folder = otaFolder(deviceDir());
    const running = runningSlot();
    if (runningState(folder, running) === State.PENDING_VERIFY)
      throw new Error("begin failed: the running image is pending verification; mark it valid (ota/boot markValid) before updating");
    if (open !== null) throw new Error("begin failed: an update is already being written");
    this.#folder = folder;
    this.#slot = nextSlot(running);
    this.#limit = slotBytes();
    const file = slotFile(folder, this.#slot);
    rmSync(file, { force: true });
    this.#fd = openSync(`${file}.new`, "w");
    open = this;
  }

  write(data) {
    if (arguments.length < 1) throw new SyntaxError("write: not enough arguments");
    const bytes = bytesOf(data);
    if (this.#fd < 0) throw new Error("write failed: no update in progress");
    if (this.#written + bytes.length > this.#limit) throw new Error(`write failed: the image does not fit the ${this.#limit}-byte update partition`);
    writeSync(this.#fd, bytes);
    this.#written += bytes.length;
  }

  cancel() {
    if (this.#fd < 0) return;
    this.#close();
    rmSync(`${slotFile(this.#folder, this.#slot)}.new`, { force: true });
  }

  complete() {
    if (this.#fd < 0) throw new Error("bad state");
    const file = slotFile(this.#folder, this.#slot);
    this.#close();
    if (this.#written === 0) {
      rmSync(`${file}.new`, { force: true });
      throw new Error("end failed: no image was written");
    }
    renameSync(`${file}.new`, file);
    try {
      setBootSlot(this.#folder, this.#slot);
    } catch (e) {
      throw new Error(`can't change boot partition: ${e.message}`);
    }
  }

  #close() {
    closeSync(this.#fd);
    this.#fd = -1;
    if (open === this) open = null;
  }
}
Object.freeze(OTA.prototype);
