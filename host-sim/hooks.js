// Module resolution hooks: device specifier -> host-sim implementation file.
// Runs on Node's loader thread; keep it free of state.
const MODULES = Object.freeze({
  "embedded:io/socket/tcp": "./tcp.js",
  "embedded:io/socket/tcp/tls": "./tls.js",
  "embedded:io/socket/udp": "./udp.js",
  "embedded:network/dns/resolver/udp": "./resolver.js",
  timer: "./timer.js",
  "text/encoder": "./text-encoder.js",
  "text/decoder": "./text-decoder.js",
  "mc/config": "./config.js",
  crypt: "./crypt.js",
  "embedded:sensor/Humidity-Temperature/SHT3x": "./sensor.js",
  "embedded:provider/builtin": "./provider.js",
  "embedded:storage/files": "./files.js",
  ota: "./ota.js",
  "ota/boot": "./ota-boot.js",
});

// An image that a device runner boots from an OTA slot (host-sim/otadata.js) lives outside this
// package: its "nats-xs" imports resolve to this package, the library a board has in flash.
const SELF = /^nats-xs(\/|$)/;
const PACKAGE = new URL("../package.json", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const file = MODULES[specifier];
  if (file !== undefined) {
    return { url: new URL(file, import.meta.url).href, shortCircuit: true, format: "module" };
  }
  if (SELF.test(specifier)) {
    try {
      return await nextResolve(specifier, context);
    } catch {
      return nextResolve(specifier, { ...context, parentURL: PACKAGE });
    }
  }
  return nextResolve(specifier, context);
}

// Device code must not use Node or browser globals (host-sim/globals.js): a module that would fail
// on XS for want of one is refused here, at load, with the device module to use instead. Device code
// is every file module outside node_modules and outside the host-side folders; nats-xs's own dist/
// was checked when it was built. NATS_XS_SIM_GLOBALS=allow turns the check off.
const HOST_SIDE = /\/(node_modules|host-sim|tools|test|tests|bench|scripts)\//;
const OWN_DIST = new URL("../dist/", import.meta.url).href;

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (
    !url.startsWith("file:") ||
    url.startsWith(OWN_DIST) ||
    HOST_SIDE.test(url) ||
    result.format !== "module" ||
    process.env.NATS_XS_SIM_GLOBALS === "allow"
  )
    return result;
  const { deviceGlobalViolations } = await import("./globals.js");
  const source = typeof result.source === "string" ? result.source : new TextDecoder().decode(result.source);
  const found = deviceGlobalViolations(source);
  if (found.length === 0) return result;
  const file = decodeURIComponent(new URL(url).pathname);
  const lines = found.map((v) => `  ${v.name} (line ${v.line}): use ${v.instead}`).join("\n");
  throw new Error(
    `${file} uses ${found.length === 1 ? "a global" : "globals"} that a device does not have, so it would fail on XS:\n${lines}\n` +
      `(nats-xs host simulator; NATS_XS_SIM_GLOBALS=allow skips this check)`,
  );
}
