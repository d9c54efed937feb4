// An updated build of the sensor app for over-the-air updates on the host simulator: the built
// dist/apps/sensor.js (the factory image) with another firmware version in it, as a new release of
// the same app would be. `npm start` and the app's tests put it into an Object Store bucket and
// ask the device to update from it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const FACTORY_IMAGE = join(ROOT, "dist", "apps", "sensor.js");
const VERSION = /const APP_VERSION = "([^"]*)";/;

/** The factory image's version. */
export function factoryVersion() {
  const m = VERSION.exec(readFileSync(FACTORY_IMAGE, "utf8"));
  if (m === null) throw new Error(`${FACTORY_IMAGE} has no APP_VERSION: run npm run build`);
  return m[1];
}

/** The bytes of the sensor app built as firmware `version`. */
export function sensorImage(version) {
  const source = readFileSync(FACTORY_IMAGE, "utf8");
  if (!VERSION.test(source)) throw new Error(`${FACTORY_IMAGE} has no APP_VERSION: run npm run build`);
  return new TextEncoder().encode(source.replace(VERSION, `const APP_VERSION = ${JSON.stringify(version)};`));
}
