// The Moddable `timer` module on Node timers, with the SDK 8.x semantics of modules/base/timer:
// - a timer has an initial and a repeat interval; an interval of 0 fires on the next turn;
// - callbacks get the timer instance and run with `this` = globalThis;
// - when the repeat interval is 0 as the callback returns, the timer is cleared for good
//   (Timer.schedule on it then throws, Timer.clear ignores it);
// - Timer.schedule(timer) with no interval unschedules it but keeps it allocated.

/**
 * @typedef {object} TimerRecord
 * @property {(id: object) => void} callback
 * @property {number} repeat repeat interval in ms; 0 = one shot; -1 = unscheduled
 * @property {NodeJS.Timeout | NodeJS.Immediate | undefined} handle
 * @property {boolean} immediate whether `handle` came from setImmediate
 * @property {number} generation bumped on every (re)schedule so a stale fire is ignored
 */

/** Timer instances: opaque objects with no methods, as on the device. */
class TimerInstance {}
Object.freeze(TimerInstance.prototype);

/** @type {WeakMap<object, TimerRecord>} live timers only */
const live = new WeakMap();

/**
 * An interval as the device takes it: Moddable's timer reads it with xsmcToInteger into a C int
 * (modules/base/timer/modTimer.c), which is ECMAScript's ToInt32: NaN and infinities become 0, and
 * 2^31 ms or more wrap modulo 2^32 (2^31 becomes negative, 2^32 + 5 becomes 5). A zero or negative
 * interval is due at once (the next turn). Node's own setTimeout would instead turn anything above
 * 2^31 - 1 into 1 ms.
 * @param {unknown} value
 */
function toInterval(value) {
  const n = Number(value) | 0;
  return n > 0 ? n : 0;
}

/** @param {TimerRecord} record */
function cancel(record) {
  if (record.handle === undefined) return;
  if (record.immediate) clearImmediate(/** @type {NodeJS.Immediate} */ (record.handle));
  else clearTimeout(/** @type {NodeJS.Timeout} */ (record.handle));
  record.handle = undefined;
}

/**
 * @param {object} id
 * @param {TimerRecord} record
 * @param {number} interval
 */
function arm(id, record, interval) {
  cancel(record);
  const generation = ++record.generation;
  const fire = () => {
    if (record.generation !== generation) return;
    record.handle = undefined;
    run(id, record);
  };
  record.immediate = interval === 0;
  record.handle = interval === 0 ? setImmediate(fire) : setTimeout(fire, interval);
}

/**
 * @param {object} id
 * @param {TimerRecord} record
 */
function run(id, record) {
  const before = record.generation;
  try {
    record.callback.call(globalThis, id);
  } finally {
    // Bookkeeping happens even when the callback throws; the exception still propagates.
    if (live.get(id) === record) {
      if (record.repeat === 0) {
        live.delete(id);
        cancel(record);
      } else if (record.generation === before && record.repeat > 0) {
        arm(id, record, record.repeat);
      }
    }
  }
}

/**
 * @param {(id: object) => void} callback
 * @param {number} interval
 * @param {number} repeat
 */
function create(callback, interval, repeat) {
  if (typeof callback !== "function") throw new TypeError("Timer: callback must be a function");
  const id = new TimerInstance();
  /** @type {TimerRecord} */
  const record = { callback, repeat, handle: undefined, immediate: false, generation: 0 };
  live.set(id, record);
  arm(id, record, interval);
  return id;
}

/** @param {unknown} id */
function recordOf(id) {
  const record = typeof id === "object" && id !== null ? live.get(id) : undefined;
  if (record === undefined) throw new SyntaxError("C: xsGetHostData: invalid host data (timer cleared)");
  return record;
}

const Timer = Object.freeze({
  /**
   * One shot after `interval` ms (next turn when absent or 0); with a non-zero `repeat`, then
   * every `repeat` ms.
   * @param {(id: object) => void} callback
   * @param {number} [interval]
   * @param {number} [repeat]
   * @returns {object}
   */
  set(callback, interval, repeat) {
    return create(callback, toInterval(interval), toInterval(repeat));
  },

  /**
   * Every `interval` ms, the first after `interval`.
   * @param {(id: object) => void} callback
   * @param {number} interval
   * @returns {object}
   */
  repeat(callback, interval) {
    // As on the device, an interval of 0 makes both intervals 0: it fires once, next turn.
    const ms = toInterval(interval);
    return create(callback, ms, ms);
  },

  /**
   * Reschedules a live timer: first fire after `interval`, then every `repeat` (0 = once). With no
   * interval, unschedules it: it stays allocated and fires only once rescheduled.
   * @param {object} id
   * @param {number} [interval]
   * @param {number} [repeat]
   */
  schedule(id, interval, repeat) {
    const record = recordOf(id);
    if (arguments.length < 2) {
      cancel(record);
      record.generation++;
      record.repeat = -1;
      return;
    }
    record.repeat = toInterval(repeat);
    arm(id, record, toInterval(interval));
  },

  /**
   * Cancels a timer. Anything that is not a live timer (undefined, null, a fired one-shot) is
   * ignored.
   * @param {object | undefined | null} id
   */
  clear(id) {
    if (typeof id !== "object" || id === null) return;
    const record = live.get(id);
    if (record === undefined) return;
    live.delete(id);
    record.generation++;
    cancel(record);
  },

  /**
   * Blocks the whole thread for `ms` milliseconds, as the device's busy delay does.
   * @param {number} ms
   */
  delay(ms) {
    const wait = toInterval(ms);
    if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  },
});

export default Timer;
