#!/usr/bin/env node
// nats-xs-sim: runs a device app in the host simulator, the way a board runs it.
//   npx nats-xs-sim main.js nats=nats://127.0.0.1:4222 id=s-1
// The same as `node --import nats-xs/host-sim main.js ...`: the device modules (timer, sockets,
// mc/config from the key=value words and MC_<KEY> variables) are host-sim's, and code that reaches
// for a Node global is refused at load (host-sim/globals.js).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
  process.stderr.write("usage: nats-xs-sim <app.js> [key=value ...]   (key=value words become mc/config)\n");
  process.exit(args.length === 0 ? 2 : 0);
}
const register = fileURLToPath(new URL("./register.js", import.meta.url));
const child = spawn(process.execPath, ["--import", register, ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal !== null) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
