// Builds firmware/ into ES modules under dist/: one module per public entry, device specifiers left
// external so that Moddable (manifest "modules") and the host simulator (host-sim/register.js) each
// bind them to their own implementation. Entries import each other by package name ("nats-xs"),
// which the manifests and package.json "exports" both resolve.
import typescript from "@rollup/plugin-typescript";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import commonjs from "@rollup/plugin-commonjs";
import { deviceGlobalViolations } from "./host-sim/globals.js";

const DEVICE = /^(embedded:|timer$|text\/|mc\/|crypt$|ota$|ota\/)/;
const SELF = /^nats-xs(\/|$)/;

export default {
  input: {
    "nats-xs": "firmware/index.ts",
    "nats-xs-bridge": "firmware/bridge/index.ts",
    "nats-xs-auth": "firmware/auth/index.ts",
    "nats-xs-bridge-arrow": "firmware/bridge/arrow-reader.ts",
    "nats-xs-tls": "firmware/tls/index.ts",
    "nats-xs-ws": "firmware/ws/index.ts",
    "nats-xs-jetstream": "firmware/jetstream/index.ts",
    "nats-xs-kv": "firmware/kv/index.ts",
    "nats-xs-obj": "firmware/obj/index.ts",
    "nats-xs-services": "firmware/services/index.ts",
    "nats-xs-status": "firmware/status/index.ts",
    "nats-xs-stream": "firmware/stream/index.ts",
    "nats-xs-outbox-file": "firmware/outbox-file/index.ts",
    "apps/sensor": "firmware/apps/sensor/main.ts",
    "apps/sensor-app": "firmware/apps/sensor/lib.ts",
  },
  external: (id) => DEVICE.test(id) || SELF.test(id),
  output: {
    dir: "dist",
    format: "es",
    entryFileNames: "[name].js",
    sourcemap: false,
  },
  // type errors fail the build: nothing that does not type-check is flashed
  plugins: [
    typescript({ tsconfig: "./tsconfig.json", outputToFilesystem: true, noEmitOnError: true }),
    // npm libraries a module bundles (tweetnacl in nats-xs/auth) become part of that module's file;
    // tweetnacl's optional require("crypto") (a Node random source, unused for signing) stays out
    nodeResolve({ browser: false, preferBuiltins: false }),
    {
      // tweetnacl looks for Node's random source at load; a device has none and signing needs none
      name: "tweetnacl-without-node-random",
      transform(code, id) {
        if (!/\/node_modules\/tweetnacl\/nacl-fast\.js$/.test(id)) return null;
        const probe = "typeof require !== 'undefined'";
        if (!code.includes(probe)) this.error("tweetnacl changed: its Node random-source probe is gone");
        return { code: code.replace(probe, "false"), map: null };
      },
    },
    commonjs({ ignore: ["crypto"] }),
    {
      // a device has no setTimeout, Buffer, process, console...: the build refuses firmware that
      // uses one (the host simulator applies the same check to apps it loads)
      name: "device-globals",
      renderChunk(code, chunk) {
        const found = deviceGlobalViolations(code);
        if (found.length > 0)
          this.error(`${chunk.fileName} uses globals a device does not have: ${found.map((v) => `${v.name} (use ${v.instead})`).join("; ")}`);
        return null;
      },
    },
  ],
};
