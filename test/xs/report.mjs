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
