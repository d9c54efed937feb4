// A simulated SHT3x humidity and temperature sensor behind the specifier of Moddable's ECMA-419
// driver, "embedded:sensor/Humidity-Temperature/SHT3x", for the host simulator, the XS host and a
// `lin` build of the sensor app (manifests/sensor maps it there): the app's code is the same as
// with the SDK's driver on a board. Device-neutral on purpose (no Node API): the XS host embeds
// this very file.
//
//   import Humidity from "embedded:sensor/Humidity-Temperature/SHT3x";
//   import device from "embedded:provider/builtin";
//   const sensor = new Humidity({ sensor: device.I2C.default });
//   sensor.sample();   // { thermometer: { temperature }, hygrometer: { humidity } }
//
// Values are deterministic for a seed and bounded to the SHT3x's ranges (-45..130 °C, 0..100 %RH):
// a slow sine with a little noise from a 32-bit xorshift. The seed is the `seed` option, else the
// `sensor_seed` setting of mc/config, else 1. Every sample costs the result object only.
import config from "mc/config";

const TEMPERATURE_MIN = -45;
const TEMPERATURE_MAX = 130;

function seedOf(options) {
  const seed = options.seed ?? config.sensor_seed ?? 1;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) throw new TypeError("simulated SHT3x: seed must be a whole number");
  // xorshift never leaves 0, so 0 becomes 1
  return (seed >>> 0) || 1;
}

function clamp(v, min, max) {
  return v < min ? min : v > max ? max : v;
}

export default class SHT3x {
  #state;
  #count = 0;
  #closed = false;

  /** `sensor` is the bus, as the SDK's driver takes it (`device.I2C.default`); it is not used. */
  constructor(options) {
    if (options === null || typeof options !== "object" || options.sensor === null || typeof options.sensor !== "object")
      throw new TypeError("SHT3x: options.sensor (the I2C bus, device.I2C.default) is required");
    this.#state = seedOf(options);
  }

  configure(options) {}

  close() {
    this.#closed = true;
  }

  sample() {
    if (this.#closed) throw new Error("SHT3x: closed");
    const n = ++this.#count;
    const temperature = clamp(21 + 3 * Math.sin(n / 30) + this.#noise() * 0.2, TEMPERATURE_MIN, TEMPERATURE_MAX);
    const humidity = clamp(45 + 10 * Math.sin(n / 50) + this.#noise(), 0, 100);
    return { hygrometer: { humidity }, thermometer: { temperature } };
  }

  // -1..1 from a 32-bit xorshift
  #noise() {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 2147483648 - 1;
  }
}
Object.freeze(SHT3x.prototype);
