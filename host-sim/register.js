// Makes Node resolve the device module specifiers of firmware/ to the host-sim implementations:
//   node --import ./host-sim/register.js some-device-script.mjs
// Also installs the `trace` global that Moddable provides to every module.
import { register } from "node:module";
import { format } from "node:util";

register("./hooks.js", import.meta.url);

if (typeof globalThis.trace !== "function") {
  Object.defineProperty(globalThis, "trace", {
    configurable: true,
    writable: true,
    // Moddable's trace() prints its arguments as they are, with no separator and no newline added.
    value: function trace(...values) {
      process.stdout.write(values.map((v) => (typeof v === "string" ? v : format("%s", v))).join(""));
    },
  });
}
