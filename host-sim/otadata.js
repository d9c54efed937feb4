// The simulated OTA partitions of a device, as ESP-IDF lays them out (app_update/esp_ota_ops.c and
// the bootloader's selection), shared by host-sim's `ota` and `ota/boot` modules and by the device
// runners (host-sim/sim.js, tools/xs/run.mjs). The XS host (tools/xs/host/ota.c) reads and writes
// the same files.
//
// <device dir>/ota/
//   ota_0.mjs, ota_1.mjs   the two app slots: an image is an ES module (see README, "Updates over
//                          the air"); the .mjs ending lets Node import it as one
//   ota_N.mjs.new          a slot being written: renamed to ota_N.mjs by complete(), removed by
//                          cancel(); beginning an update erases ota_N.mjs, as esp_ota_begin erases
//                          the partition
//   otadata                ESP-IDF's otadata: two 32-byte entries, little-endian
//                          { u32 ota_seq, u8 seq_label[20], u32 ota_state, u32 crc }, crc = CRC-32
//                          of the 4 bytes of ota_seq; an erased entry is all 0xFF. The entry with
//                          the highest valid sequence selects the slot (seq - 1) % 2; none selects
//                          the factory image.
//
// Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE): a newly selected slot is NEW; the bootloader
// makes it PENDING_VERIFY and boots it; the image marks itself VALID once it works. If the
// bootloader finds it still PENDING_VERIFY (the image rebooted or died first), it marks it ABORTED
// and boots the other entry's slot, or the factory image.
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** esp_ota_img_states_t. */
export const State = Object.freeze({
  NEW: 0,
  PENDING_VERIFY: 1,
  VALID: 2,
  INVALID: 3,
  ABORTED: 4,
  UNDEFINED: 0xffffffff,
});

/** Names of the states as `ota/boot` reports them. */
export const STATE_NAMES = Object.freeze({
  0: "new",
  1: "pending-verify",
  2: "valid",
  3: "invalid",
  4: "aborted",
  4294967295: "undefined",
});

/** Partition labels: slot -1 is the factory image. */
export const FACTORY = "factory";
export const LABELS = Object.freeze(["ota_0", "ota_1"]);

/** The size of each OTA slot: 0x1E8000 as in the partition table of README "Updates over the
 *  air" (Moddable's examples/network/http/httpota), or NATS_XS_OTA_SLOT_BYTES. */
export const DEFAULT_SLOT_BYTES = 0x1e8000;

/** Exit status by which a device process asks its runner for a reboot (ota/boot restart()). */
export const RESTART_STATUS = 100;

const ENTRY = 32;
const ERASED = 0xffffffff;

export function slotBytes(env = process.env) {
  const text = env.NATS_XS_OTA_SLOT_BYTES;
  if (text === undefined || text === "") return DEFAULT_SLOT_BYTES;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`NATS_XS_OTA_SLOT_BYTES must be a whole number of bytes, not ${JSON.stringify(text)}`);
  return n;
}

/** The OTA folder of a device folder, made when missing. */
export function otaFolder(deviceDir) {
  const folder = join(deviceDir, "ota");
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** The file of slot 0 or 1 (or of the factory image, given as `factory`). */
export function slotFile(folder, slot) {
  return join(folder, `${LABELS[slot]}.mjs`);
}

/** CRC-32 (IEEE, as zlib's) of the 4 little-endian bytes of a sequence number; written here
 *  because node:zlib has crc32 only from Node 20.15. */
function seqCrc(seq) {
  let crc = 0xffffffff;
  for (let i = 0; i < 4; i++) {
    crc ^= (seq >>> (8 * i)) & 0xff;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** The two otadata entries: { seq, state, valid } (valid: not erased and its CRC matches). */
export function readOtadata(folder) {
  const file = join(folder, "otadata");
  const data = Buffer.alloc(2 * ENTRY, 0xff);
  if (existsSync(file)) {
    const fd = openSync(file, "r");
    try {
      readSync(fd, data, 0, data.length, 0);
    } finally {
      closeSync(fd);
    }
  }
  const entries = [];
  for (let i = 0; i < 2; i++) {
    const seq = data.readUInt32LE(i * ENTRY);
    const state = data.readUInt32LE(i * ENTRY + 24);
    const crc = data.readUInt32LE(i * ENTRY + 28);
    entries.push({ seq, state, valid: seq !== ERASED && seq !== 0 && crc === seqCrc(seq) });
  }
  return entries;
}

/** Writes one entry in place (the other one is never touched, as on flash), synced. */
export function writeEntry(folder, index, seq, state) {
  const file = join(folder, "otadata");
  if (!existsSync(file) || statSync(file).size < 2 * ENTRY) {
    const fresh = Buffer.alloc(2 * ENTRY, 0xff);
    if (existsSync(file)) readFileSync(file).copy(fresh);
    const fd = openSync(file, "w");
    try {
      writeSync(fd, fresh, 0, fresh.length, 0);
    } finally {
      closeSync(fd);
    }
  }
  const entry = Buffer.alloc(ENTRY, 0);
  entry.writeUInt32LE(seq >>> 0, 0);
  entry.writeUInt32LE(state >>> 0, 24);
  entry.writeUInt32LE(seqCrc(seq), 28);
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, entry, 0, ENTRY, index * ENTRY);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function selectable(e) {
  return e.valid && e.state !== State.INVALID && e.state !== State.ABORTED;
}

/** Index of the entry that selects the boot slot (highest valid sequence), or -1. */
export function activeEntry(entries) {
  let best = -1;
  for (let i = 0; i < entries.length; i++) {
    if (selectable(entries[i]) && (best < 0 || entries[i].seq > entries[best].seq)) best = i;
  }
  return best;
}

export function slotOfSeq(seq) {
  return (seq - 1) % 2;
}

/** Index of the entry that selected `slot` (the running one), or -1. */
export function entryOfSlot(entries, slot) {
  const a = activeEntry(entries);
  if (a >= 0 && slotOfSeq(entries[a].seq) === slot) return a;
  const b = a < 0 ? -1 : a ^ 1;
  if (b >= 0 && entries[b].valid && slotOfSeq(entries[b].seq) === slot) return b;
  return -1;
}

/** esp_ota_set_boot_partition: the next sequence that selects `slot`, written over the entry that
 *  is not the active one, state NEW. */
export function setBootSlot(folder, slot) {
  const entries = readOtadata(folder);
  const a = activeEntry(entries);
  let seq = a < 0 ? 0 : entries[a].seq;
  do seq++;
  while (slotOfSeq(seq) !== slot);
  writeEntry(folder, a < 0 ? 0 : a ^ 1, seq, State.NEW);
}

/** The slot a device runs: -1 factory, else 0 or 1. */
export function labelOf(slot) {
  return slot < 0 ? FACTORY : LABELS[slot];
}

export function slotOfLabel(label) {
  return label === LABELS[0] ? 0 : label === LABELS[1] ? 1 : -1;
}

/**
 * The bootloader: which image boots now, updating otadata as ESP-IDF's does with rollback on.
 * Returns { slot (-1 factory), label, file (undefined for the factory image), state, rolledBack:
 * [labels refused on the way, each with why] }.
 * @param {string} deviceDir
 */
export function selectBoot(deviceDir) {
  const folder = otaFolder(deviceDir);
  const rolledBack = [];
  for (let tries = 0; tries < 3; tries++) {
    const entries = readOtadata(folder);
    const a = activeEntry(entries);
    if (a < 0) break;
    const { seq, state } = entries[a];
    const slot = slotOfSeq(seq);
    const file = slotFile(folder, slot);
    if (state === State.PENDING_VERIFY) {
      // it booted once and never said it works: the bootloader gives up on it
      writeEntry(folder, a, seq, State.ABORTED);
      rolledBack.push({ label: LABELS[slot], why: "it rebooted or died before marking itself valid" });
      continue;
    }
    if (!existsSync(file)) {
      // the image does not verify (esp_image_verify): the entry is skipped for good
      writeEntry(folder, a, seq, State.INVALID);
      rolledBack.push({ label: LABELS[slot], why: "its slot holds no complete image" });
      continue;
    }
    let now = state;
    if (state === State.NEW) {
      writeEntry(folder, a, seq, State.PENDING_VERIFY);
      now = State.PENDING_VERIFY;
    }
    return { slot, label: LABELS[slot], file, state: STATE_NAMES[now], rolledBack };
  }
  return { slot: -1, label: FACTORY, file: undefined, state: "undefined", rolledBack };
}

/** The invalid or aborted slot with the highest sequence (esp_ota_get_last_invalid_partition). */
export function lastInvalid(folder) {
  const entries = readOtadata(folder);
  let best = -1;
  for (let i = 0; i < 2; i++) {
    const e = entries[i];
    if (e.valid && (e.state === State.INVALID || e.state === State.ABORTED) && (best < 0 || e.seq > entries[best].seq)) best = i;
  }
  return best < 0 ? undefined : LABELS[slotOfSeq(entries[best].seq)];
}

/** The slot of the running image, as the runner said (NATS_XS_OTA_RUNNING): -1 when factory. */
export function runningSlot(env = process.env) {
  return slotOfLabel(env.NATS_XS_OTA_RUNNING ?? FACTORY);
}

/** esp_ota_get_next_update_partition: the slot after the running one (ota_0 after the factory). */
export function nextSlot(running) {
  return running === 0 ? 1 : 0;
}

/** The state of the running image's entry (a number of State), UNDEFINED for the factory image. */
export function runningState(folder, running) {
  if (running < 0) return State.UNDEFINED;
  const entries = readOtadata(folder);
  const i = entryOfSlot(entries, running);
  return i < 0 ? State.UNDEFINED : entries[i].state;
}

let temporary;

/** The device folder: NATS_XS_DEVICE_DIR, else a fresh temporary folder for this process (not
 *  persistent: gone at exit). */
export function deviceDir(env = process.env) {
  const dir = env.NATS_XS_DEVICE_DIR;
  if (dir !== undefined && dir !== "") return dir;
  if (temporary === undefined) {
    temporary = mkdtempSync(join(tmpdir(), "nats-xs-device-"));
    process.on("exit", () => rmSync(temporary, { recursive: true, force: true }));
  }
  return temporary;
}
