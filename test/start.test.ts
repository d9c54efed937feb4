// `npm start`'s demo (tools/start.mjs --exit) runs to its end: a real nats-server, the sensor in
// the host simulator's device runner, and a nats.js backend that finds it, changes its settings,
// sends a command and updates it over the air; every step prints what it saw.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "./xs-harness.ts";

it("npm start shows the device found, configured, commanded and back on the new firmware", async () => {
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "tools", "start.mjs"), "--exit", "id=start-test"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/^\[backend\] found service sensor 1\.0\.0 .*device start-test\): endpoints sensors\.start-test\.cmd\.ping, .*cmd\.update$/m);
  expect(r.out).toMatch(/^\[backend\] presence key devices-alive\/start-test: \{"version":"1\.0\.0"/m);
  expect(r.out).toMatch(/^\[backend\] settings revision 1 applied: \{"interval":500,"high":22/m);
  expect(r.out).toMatch(/^\[backend\] settings revision 2 refused: "interval must be a whole number/m);
  expect(r.out).toMatch(/^\[backend\] ping: firmware 1\.0\.0/m);
  expect(r.out).toMatch(/^nats-xs-sim: boot ota_[01] pending-verify /m);
  expect(r.out).toMatch(/^\[backend\] the device came back on firmware 1\.1\.0 \(partition ota_[01], valid\)/m);
  expect(r.out).toMatch(/^\[backend\] demo done$/m);
  expect(r.out).toMatch(/^\[start\] stopped$/m);
}, 100_000);
