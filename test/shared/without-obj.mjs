// A build without the Object Store, in the host simulator: registered after host-sim/register.js,
// these hooks make `nats-xs/obj` unresolvable, as on a device whose manifest does not include
// manifests/nats-xs-obj.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "nats-xs/obj") {
    const e = new Error("Cannot find module " + specifier + " (not in this build)");
    e.code = "ERR_MODULE_NOT_FOUND";
    throw e;
  }
  return next(specifier, context);
}`),
);
