// "mc/config": the key=value words after the module path on the command line, as strings.
// Frozen, like the config object mcconfig builds.
const config = Object.freeze(globalThis.__xsHost.config);
export default config;
