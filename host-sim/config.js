// mc/config on Node. On the device the app's settings come from the manifest's "config" block and
// `key=value` words on the mcconfig command line; here they come from the environment (MC_<KEY>)
// and `key=value` words after the script on the node command line, which win:
//   MC_ID=sensor-7 node --import ./host-sim/register.js dist/apps/sensor.js nats=nats://127.0.0.1:4222

const ENV_PREFIX = "MC_";
const WORD = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * A setting's value as mcconfig would give it: booleans and plain integers typed, the rest strings.
 * @param {string} text
 * @returns {string | number | boolean}
 */
export function parseValue(text) {
  if (text === "true") return true;
  if (text === "false") return false;
  if (INTEGER.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

/**
 * Builds the config object from environment variables MC_<KEY> (key lowercased) overridden by
 * `key=value` words in argv after the script (argv[2] on).
 * @param {{ env?: Record<string, string | undefined>, argv?: readonly string[] }} [from]
 * @returns {Readonly<Record<string, string | number | boolean>>}
 */
export function parseConfig(from = {}) {
  const env = from.env ?? {};
  const argv = from.argv ?? [];
  /** @type {Record<string, string | number | boolean>} */
  const config = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(ENV_PREFIX) || name.length === ENV_PREFIX.length) continue;
    config[name.slice(ENV_PREFIX.length).toLowerCase()] = parseValue(value);
  }
  for (const word of argv.slice(2)) {
    const match = WORD.exec(word);
    if (match !== null) config[match[1]] = parseValue(match[2]);
  }
  return Object.freeze(config);
}

/** The running app's settings, frozen. */
const config = parseConfig({ env: process.env, argv: process.argv });
export default config;
