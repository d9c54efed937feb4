// A build without the TLS and WebSocket layers, in the host simulator: registered after
// host-sim/register.js, these hooks make `nats-xs/tls` and `nats-xs/ws` unresolvable, as on a
// device whose manifest does not include manifests/nats-xs-tls or manifests/nats-xs-ws.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "nats-xs/tls" || specifier === "nats-xs/ws") {
    const e = new Error("Cannot find module " + specifier + " (not in this build)");
    e.code = "ERR_MODULE_NOT_FOUND";
    throw e;
  }
  return next(specifier, context);
}`),
);
