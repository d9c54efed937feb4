// Module resolution hooks: device specifier -> host-sim implementation file.
// Runs on Node's loader thread; keep it free of state.
const MODULES = Object.freeze({
  "embedded:io/socket/tcp": "./tcp.js",
  "embedded:io/socket/udp": "./udp.js",
  "embedded:network/dns/resolver/udp": "./resolver.js",
  timer: "./timer.js",
  "text/encoder": "./text-encoder.js",
  "text/decoder": "./text-decoder.js",
  "mc/config": "./config.js",
  crypt: "./crypt.js",
});

export async function resolve(specifier, context, nextResolve) {
  const file = MODULES[specifier];
  if (file !== undefined) {
    return { url: new URL(file, import.meta.url).href, shortCircuit: true, format: "module" };
  }
  return nextResolve(specifier, context);
}
