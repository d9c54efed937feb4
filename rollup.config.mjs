// Builds firmware/ into ES modules under dist/: one module per public entry, device specifiers left
// external so that Moddable (manifest "modules") and the host simulator (host-sim/register.js) each
// bind them to their own implementation. Entries import each other by package name ("nats-xs"),
// which the manifests and package.json "exports" both resolve.
import typescript from "@rollup/plugin-typescript";

const DEVICE = /^(embedded:|timer$|text\/|mc\/|crypt$)/;
const SELF = /^nats-xs(\/|$)/;

export default {
  input: {
    "nats-xs": "firmware/index.ts",
    "nats-xs-bridge": "firmware/bridge/index.ts",
    "nats-xs-jetstream": "firmware/jetstream/index.ts",
    "nats-xs-kv": "firmware/kv/index.ts",
    "nats-xs-obj": "firmware/obj/index.ts",
    "apps/sensor": "firmware/apps/sensor/main.ts",
  },
  external: (id) => DEVICE.test(id) || SELF.test(id),
  output: {
    dir: "dist",
    format: "es",
    entryFileNames: "[name].js",
    sourcemap: false,
  },
  // type errors fail the build: nothing that does not type-check is flashed
  plugins: [typescript({ tsconfig: "./tsconfig.json", outputToFilesystem: true, noEmitOnError: true })],
};
