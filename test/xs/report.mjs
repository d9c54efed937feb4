// How the XS test modules talk to their vitest side: one line per report on stdout, `FAIL <why>`
// and exit status 1 on anything wrong, and a watchdog that exits 9 when the module hangs.
import Timer from "timer";
import { memory } from "xs:memory";
import { exit } from "xs:host";

export function say(line) {
  trace(`${line}\n`);
}

export function fail(why) {
  say(`FAIL ${why}`);
  exit(1);
}

/** Exits 9 unless cleared (Timer.clear) within `ms`. */
export function watchdog(ms) {
  return Timer.set(() => {
    say(`FAIL watchdog: not done within ${ms} ms`);
    exit(9);
  }, ms);
}

/** Waits for `test()` to hold, checking every `step` ms (default 10), at most `ms`. */
export function until(test, ms, what, step = 10) {
  return new Promise((resolve, reject) => {
    let waited = 0;
    const t = Timer.repeat(() => {
      if (test()) {
        Timer.clear(t);
        resolve();
      } else if ((waited += step) >= ms) {
        Timer.clear(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, step);
  });
}

/** Resolves after `ms` milliseconds. */
export function pause(ms) {
  return new Promise((resolve) => Timer.set(resolve, ms));
}

/** Peak live heap over a transfer: sampled (after a collection) at the first 8 pieces, then every `every`. */
export class Probe {
  base = null;
  max = null;
  pieces = 0;
  every;
  constructor(every = 8) {
    this.every = every;
  }
  begin() {
    this.base = memory();
    this.max = { slots: this.base.slots, chunkBytes: this.base.chunkBytes };
    this.pieces = 0;
  }
  piece() {
    this.pieces++;
    if (this.pieces <= 8 || this.pieces % this.every === 0) {
      const m = memory();
      if (m.slots > this.max.slots) this.max.slots = m.slots;
      if (m.chunkBytes > this.max.chunkBytes) this.max.chunkBytes = m.chunkBytes;
    }
  }
  rise() {
    return { slots: this.max.slots - this.base.slots, chunkBytes: this.max.chunkBytes - this.base.chunkBytes };
  }
}
