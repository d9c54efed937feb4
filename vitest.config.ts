import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Device code (dist/) is loaded by Node itself, not by vite, so that the device specifiers are
    // resolved by the host simulator's hooks exactly as `node --import ./host-sim/register.js` does.
    execArgv: ["--import", "./host-sim/register.js"],
    server: { deps: { external: [/\/dist\//] } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
