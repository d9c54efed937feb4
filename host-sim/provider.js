// "embedded:provider/builtin" for the host simulator, the XS host and a `lin` build: the board's
// buses as Moddable's provider names them (`device.I2C.default` and so on). There is no I2C bus on
// a host: opening one says so, and the simulated sensor (host-sim/sensor.js) never opens it.
// Device-neutral on purpose (no Node API): the XS host embeds this very file.

class I2C {
  constructor(options) {
    throw new Error("no I2C bus on this host: the simulated sensor (embedded:sensor/...) does not need one");
  }
}
Object.freeze(I2C.prototype);

const device = Object.freeze({
  I2C: Object.freeze({ default: Object.freeze({ io: I2C, data: 21, clock: 22 }) }),
  io: Object.freeze({ I2C }),
  simulated: true,
});

export default device;
