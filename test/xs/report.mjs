// How the XS test modules talk to their vitest side: one line per report on stdout, `FAIL <why>`
// and exit status 1 on anything wrong, and a watchdog that exits 9 when the module hangs.
import Timer from "timer";
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
