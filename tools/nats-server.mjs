#!/usr/bin/env node
// The one nats-server launcher for tests, tools and `npm start`: finds (or, as root, installs) the
// binary, starts servers on free loopback ports with JetStream in a fresh temporary store, waits for
// them to be ready, and makes sure none outlives this process.
//
// As a program:  node tools/nats-server.mjs [--port N] [--no-jetstream] [--config FILE]
// prints the URL and runs until Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HOST = "127.0.0.1";
const INSTALL = "apt-get install -y nats-server";
const SYSTEM_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_KEEP = 64 * 1024;

/** @type {string | undefined} */
let binary;

/** Servers started by this process and not yet known to have exited: killed when it exits. */
/** @type {Set<import("node:child_process").ChildProcess>} */
const running = new Set();
/** Temporary folders to remove when this process exits. */
/** @type {Set<string>} */
const tempDirs = new Set();

/** Kills every server still running and removes the temporary folders, synchronously. */
function cleanUp() {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * A terminating signal would skip the "exit" event (test runners stop their workers with SIGTERM):
 * clean up, then die of the signal as if no one had listened. When the program handles the signal
 * itself, it is left to do so (and "exit" cleans up after it).
 * @param {NodeJS.Signals} signal
 */
function onSignal(signal) {
  if (process.listenerCount(signal) > 1) return;
  cleanUp();
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

let guarded = false;
function guard() {
  if (guarded) return;
  guarded = true;
  process.on("exit", cleanUp);
  for (const signal of /** @type {NodeJS.Signals[]} */ (["SIGTERM", "SIGINT", "SIGHUP"])) process.on(signal, onSignal);
}

/** @returns {string | undefined} */
function lookup() {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).concat(SYSTEM_DIRS);
  for (const dir of dirs) {
    const file = path.join(dir, "nats-server");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The path of the nats-server binary. Searched on PATH and in the system sbin/bin folders; when
 * missing and running as root, installed with apt-get; otherwise an Error that names the command.
 * @returns {string}
 */
export function findNatsServer() {
  if (binary !== undefined) return binary;
  let found = lookup();
  if (found === undefined && typeof process.getuid === "function" && process.getuid() === 0) {
    const install = () => spawnSync("apt-get", INSTALL.split(" ").slice(1), { stdio: "inherit" }).status === 0;
    if (!install()) {
      spawnSync("apt-get", ["update"], { stdio: "inherit" });
      install();
    }
    found = lookup();
  }
  if (found === undefined) {
    throw new Error(
      `nats-server was not found on PATH nor in ${SYSTEM_DIRS.join(", ")}. Install it with: sudo ${INSTALL}`,
    );
  }
  binary = found;
  return found;
}

/**
 * A port that was free on the loopback interface a moment ago.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Connects once and resolves with the INFO line when the server sends one.
 * @param {number} port
 * @returns {Promise<string>}
 */
function readInfo(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let text = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("no INFO within 2 s")));
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const end = text.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        if (text.startsWith("INFO ")) resolve(text.slice(0, end));
        else reject(new Error(`unexpected greeting: ${text.slice(0, 200)}`));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("closed before INFO")));
  });
}

/**
 * @typedef {object} ServerOptions
 * @property {number} [port] default: a free loopback port
 * @property {boolean} [jetstream] default true, with a fresh temporary store folder
 * @property {string} [config] configuration file text, passed with -c
 * @property {string[]} [args] more command-line arguments
 * @property {string} [name] server_name
 * @property {boolean} [keepStore] leave the temporary folder behind, on stop() and at exit
 */

/**
 * @typedef {object} ServerHandle
 * @property {string} url "nats://127.0.0.1:PORT"
 * @property {string} host
 * @property {number} port
 * @property {number | undefined} pid of the current process (changes on restart)
 * @property {boolean} running
 * @property {string | undefined} storeDir the JetStream store folder, when JetStream is on
 * @property {string} dir the temporary folder holding the store and the config file
 * @property {string} stderr what the server logged lately (the last 64 KB)
 * @property {Promise<void>} exited settles when the current process exits
 * @property {(options?: { keepStore?: boolean }) => Promise<void>} stop SIGTERM (SIGKILL after 5 s,
 *   or at once in lame duck mode), wait, remove the temporary folder
 * @property {() => Promise<void>} kill SIGKILL and wait; the store stays for restart()
 * @property {() => Promise<void>} restart start again on the same port, store and config
 * @property {(name: NodeJS.Signals) => void} signal e.g. "SIGUSR2" for lame duck mode
 */

/**
 * Starts a nats-server bound to 127.0.0.1 and resolves once it answers with INFO.
 * @param {ServerOptions} [options]
 * @returns {Promise<ServerHandle>}
 */
export async function startServer(options = {}) {
  const file = findNatsServer();
  guard();
  const port = options.port ?? (await freePort());
  const jetstream = options.jetstream ?? true;
  const dir = await mkdtemp(path.join(os.tmpdir(), "nats-xs-server-"));
  const configFile = path.join(dir, "server.conf");

  const args = ["-a", HOST, "-p", String(port)];
  if (options.name !== undefined) args.push("-n", options.name);
  const storeDir = jetstream ? path.join(dir, "store") : undefined;
  if (storeDir !== undefined) args.push("-js", "-sd", storeDir);
  if (options.config !== undefined) args.push("-c", configFile);
  if (options.args !== undefined) args.push(...options.args);

  // When the configuration sends the log to a file, readiness can only be seen on the port.
  const logsElsewhere =
    /\blog_file\b/.test(options.config ?? "") || args.some((a) => a === "-l" || a === "--log" || a === "--syslog");

  /** @type {import("node:child_process").ChildProcess | undefined} */
  let child;
  /** @type {Promise<void>} */
  let exited = Promise.resolve();
  let stderr = "";
  /** In lame duck mode the server ignores SIGTERM until its grace period ends. */
  let lameDuck = false;

  async function launch() {
    stderr = "";
    lameDuck = false;
    // A restart after stop() without keepStore finds the folder gone: lay it out again.
    if (!options.keepStore) tempDirs.add(dir);
    await mkdir(dir, { recursive: true });
    if (options.config !== undefined) await writeFile(configFile, options.config);
    const proc = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    running.add(proc);
    exited = new Promise((resolve) => {
      proc.once("exit", () => {
        running.delete(proc);
        resolve();
      });
      proc.once("error", (error) => {
        stderr += `\nspawn failed: ${error.message}`;
        running.delete(proc);
        resolve();
      });
    });
    /** @type {NodeJS.ReadableStream} */ (proc.stderr).on("data", (chunk) => {
      stderr += chunk.toString();
      if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let gone = false;
    exited.then(() => (gone = true));
    for (;;) {
      if (gone) {
        throw new Error(`nats-server exited before it was ready (code ${proc.exitCode}):\n${stderr}`);
      }
      // Ready means: our process logged that it is, and the INFO on the port is its own (another
      // process may hold the port, and then this one is about to exit).
      const id = /\[INF\]\s+ID:\s+(\S+)/.exec(stderr)?.[1];
      if (logsElsewhere || stderr.includes("Server is ready")) {
        try {
          const line = await readInfo(port);
          const serverId = JSON.parse(line.slice(5)).server_id;
          if (id === undefined || serverId === id) return;
        } catch {
          // not listening yet
        }
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        await exited;
        throw new Error(`nats-server was not ready on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * @param {NodeJS.Signals} signal
   */
  async function end(signal) {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const proc = child;
    proc.kill(lameDuck ? "SIGKILL" : signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  try {
    await launch();
  } catch (error) {
    tempDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `nats://${HOST}:${port}`,
    host: HOST,
    port,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    storeDir,
    dir,
    get stderr() {
      return stderr;
    },
    get exited() {
      return exited;
    },
    async stop(stopOptions = {}) {
      await end("SIGTERM");
      if (!(stopOptions.keepStore ?? options.keepStore ?? false)) {
        tempDirs.delete(dir);
        await rm(dir, { recursive: true, force: true });
      }
    },
    async kill() {
      await end("SIGKILL");
    },
    async restart() {
      await end("SIGTERM");
      await launch();
    },
    signal(name) {
      if (child?.pid === undefined) throw new Error("nats-server is not running");
      process.kill(child.pid, name);
      if (name === "SIGUSR2") lameDuck = true;
    },
  };
}

/** @param {string[]} argv */
async function main(argv) {
  /** @type {ServerOptions} */
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--port" || arg === "-p") options.port = Number(argv[++i]);
    else if (arg === "--no-jetstream") options.jetstream = false;
    else if (arg === "--config" || arg === "-c") options.config = readFileSync(argv[++i], "utf8");
    else if (arg === "--name" || arg === "-n") options.name = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write("usage: node tools/nats-server.mjs [--port N] [--no-jetstream] [--config FILE] [--name NAME]\n");
      return;
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    throw new Error("--port needs a port number");
  }
  const server = await startServer(options);
  process.stdout.write(`${server.url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`${error}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await server.exited;
  if (!stopping) {
    process.stderr.write(`nats-server exited on its own:\n${server.stderr}\n`);
    await server.stop();
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
    process.exit(1);
  });
}
