#!/usr/bin/env node
// nats-xs-sim: runs a device app in the host simulator, the way a board runs it.
//   npx nats-xs-sim main.js nats=nats://127.0.0.1:4222 id=s-1
//   npx nats-xs-sim --device-dir ./dev main.js nats=...      (state kept in ./dev across runs)
// The same as `node --import nats-xs/host-sim main.js ...`: the device modules (timer, sockets,
// mc/config from the key=value words and MC_<KEY> variables) are host-sim's, and code that reaches
// for a Node global is refused at load (host-sim/globals.js). main.js is the factory image: the
// runner (host-sim/device-runner.js) boots the image an update activated instead, restarts the
// device when it asks for a reboot (exit status 100) and rolls back an image that dies before it
// marks itself valid. Without --device-dir the device's state lives in a temporary folder for
// the run.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runDevice } from "./device-runner.js";

const USAGE = "usage: nats-xs-sim [--device-dir <dir>] <app.js> [key=value ...]   (key=value words become mc/config)\n";
const args = process.argv.slice(2);
let deviceDir;
while (args.length > 0 && args[0].startsWith("--") && args[0] !== "--help") {
  const option = args.shift();
  if (option === "--device-dir" && args.length > 0) deviceDir = args.shift();
  else if (option.startsWith("--device-dir=")) deviceDir = option.slice("--device-dir=".length);
  else {
    process.stderr.write(`nats-xs-sim: unknown option ${option}\n${USAGE}`);
    process.exit(2);
  }
}
if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
  process.stderr.write(USAGE);
  process.exit(args.length === 0 ? 2 : 0);
}
const register = fileURLToPath(new URL("./register.js", import.meta.url));
const [factory, ...words] = args;
const { code, signal } = await runDevice({
  deviceDir,
  factory,
  spawnImage: (file, env) => spawn(process.execPath, ["--import", register, file, ...words], { stdio: "inherit", env }),
});
if (signal !== null) process.kill(process.pid, signal);
else process.exit(code ?? 1);
