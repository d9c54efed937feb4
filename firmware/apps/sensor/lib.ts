/**
 * The sensor app's code below main.ts, built to a module of its own (dist/apps/sensor-app.js, `nats-xs/sensor-app`) so that
 * a manifest can preload it into flash with the library; main.ts only wires it at boot.
 */
export { SensorApp, bootToken } from "./app.js";
export type { AppOptions, ConfigState, StatusJson } from "./app.js";
export { commandPrefix, serveCommands } from "./commands.js";
export { checkSettings, defaultSettings, parseSettings, LOG_LEVELS, MAX_SETTINGS_BYTES } from "./settings.js";
export type { Checked, Settings } from "./settings.js";
export { alertOf, readingJson } from "./reading.js";
