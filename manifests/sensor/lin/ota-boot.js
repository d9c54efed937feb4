// `ota/boot` for a `lin` build of the sensor app: the program runs as a factory image with no
// rollback state (ESP-IDF's "undefined"); there is nothing to mark and no partition to restart
// into, so restart() ends the program (run it again to "reboot").
export function running() {
	return "factory";
}
export function state() {
	return "undefined";
}
export function next() {
	return { label: "", bytes: 0 };
}
export function lastInvalid() {
	return undefined;
}
export function markValid() {}
export function rollback() {
	throw new Error("no previous image on lin");
}
export function restart() {
	throw new Error("no restart on lin: run the program again");
}
