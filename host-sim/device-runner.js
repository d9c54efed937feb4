// The device runner's boot loop, shared by nats-xs-sim (host-sim/sim.js: the image runs on Node)
// and the XS runner (tools/xs/run.mjs --device-dir: the image runs on the XS engine):
//
//   1. the bootloader (host-sim/otadata.js selectBoot) picks the image: the OTA slot that otadata
//      selects, else the factory image; a slot found still pending verification is aborted and
//      the previous image boots instead (ESP-IDF's rollback), said on stderr;
//   2. the image runs as a child process with NATS_XS_DEVICE_DIR (the device's state folder) and
//      NATS_XS_OTA_RUNNING (the label of the partition it runs from) in its environment;
//   3. exit status 100 (ota/boot restart()) is a reboot: back to 1. So is any other end of an image
//      that was pending verification (a crash, a kill): a board's panic reset, after which the
//      bootloader rolls it back. Any other end of the device ends the runner with the same status.
//
// Lines on stderr, each starting "nats-xs-sim: ":
//   boot factory <file>                  the factory image starts
//   boot <label> <state> <file>          an OTA image starts (ota_0 or ota_1; pending-verify or valid)
//   rolled back <label>: <why>           the bootloader refused an image
//   reboot                               the image asked for a restart
//   <label> ended (<how>) before it was marked valid: reboot
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { otaFolder, RESTART_STATUS, runningState, selectBoot, State } from "./otadata.js";

/**
 * Runs a device until it ends for good; resolves with { code, signal } of its last process.
 * @param {{ deviceDir?: string, factory: string, spawnImage: (file: string, env: NodeJS.ProcessEnv) => import("node:child_process").ChildProcess, say?: (line: string) => void }} options
 */
export async function runDevice({ deviceDir, factory, spawnImage, say = (line) => process.stderr.write(`nats-xs-sim: ${line}\n`) }) {
  let dir = deviceDir;
  let temporary = false;
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), "nats-xs-device-"));
    temporary = true;
  }
  let current = null;
  let stopping = null;
  const forward = (signal) => {
    stopping = signal;
    current?.kill(signal);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  try {
    for (;;) {
      const boot = selectBoot(dir);
      for (const r of boot.rolledBack) say(`rolled back ${r.label}: ${r.why}`);
      const file = boot.file ?? factory;
      say(boot.slot < 0 ? `boot factory ${file}` : `boot ${boot.label} ${boot.state} ${file}`);
      current = spawnImage(file, { ...process.env, NATS_XS_DEVICE_DIR: dir, NATS_XS_OTA_RUNNING: boot.label });
      const { code, signal } = await new Promise((resolve, reject) => {
        current.on("error", reject);
        current.on("exit", (c, s) => resolve({ code: c, signal: s }));
      });
      current = null;
      if (stopping !== null) return { code, signal: stopping };
      if (code === RESTART_STATUS) {
        say("reboot");
        continue;
      }
      if (boot.slot >= 0 && runningState(otaFolder(dir), boot.slot) === State.PENDING_VERIFY) {
        say(`${boot.label} ended (${signal ?? `status ${code}`}) before it was marked valid: reboot`);
        continue;
      }
      return { code, signal };
    }
  } finally {
    for (const s of signals) process.removeListener(s, forward);
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}
