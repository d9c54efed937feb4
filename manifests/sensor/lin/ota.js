// `ota` for a `lin` build of the sensor app: Moddable's Linux runtime has no update partition, so
// an update command is answered "failed" with this reason and the running program stays. Updates
// are exercised on the host simulator and the XS host (simulated partitions) and on an ESP32.
export default class OTA {
	constructor() {
		throw new Error("no update partition on lin: over-the-air updates need an ESP32 (or the host simulator)");
	}
	write(bytes) {}
	cancel() {}
	complete() {}
}
Object.freeze(OTA.prototype);
