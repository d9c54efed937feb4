// `npm start`: a local nats-server on a free loopback port, one simulated sensor running the built
// firmware (dist/apps/sensor.js) in the host simulator, and a backend on the official nats.js
// client that prints the sensor's readings and pings it every few seconds. Ctrl-C stops all three.
//   npm start                      one sensor, id sensor-1
//   npm start -- id=greenhouse-4   another id (any mc/config key=value is passed to the device)
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { startServer } from "./nats-server.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const words = process.argv.slice(2).filter((w) => w.includes("="));
const id = (words.find((w) => w.startsWith("id=")) ?? "id=sensor-1").slice(3);

const server = await startServer();
console.log(`[start] nats-server ${server.url}`);

const device = spawn(process.execPath, ["--import", "./host-sim/register.js", "dist/apps/sensor.js", `nats=${server.url}`, `id=${id}`, ...words.filter((w) => !w.startsWith("id="))], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
console.log(`[start] device ${id} started (pid ${device.pid}); Ctrl-C to stop`);

const backend = await connect({ servers: server.url, name: "npm-start-backend" });
backend.subscribe(`sensors.${id}.reading`, {
  callback: (err, msg) => {
    if (!err) console.log(`[backend] got ${msg.subject}: ${msg.string()}`);
  },
});
const pinger = setInterval(async () => {
  try {
    const r = await backend.request(`sensors.${id}.cmd.ping`, "", { timeout: 1000 });
    console.log(`[backend] ping answered: ${r.string()}`);
  } catch (e) {
    console.log(`[backend] ping failed: ${e.message}`);
  }
}, 5000);

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  clearInterval(pinger);
  console.log("\n[start] stopping");
  if (device.exitCode === null) {
    device.kill("SIGINT");
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        device.kill("SIGKILL");
        resolve();
      }, 3000);
      device.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  await backend.close().catch(() => {});
  await server.stop();
  console.log("[start] stopped");
  process.exit(code);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
device.on("exit", (code, signal) => {
  if (!stopping) {
    console.log(`[start] device exited (${signal ?? code})`);
    stop(code ?? 1);
  }
});
