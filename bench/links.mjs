// The secure-link part of `npm run bench:memory`: XS heap of a connection over each transport
// (nats://, tls://, ws://, wss://), each in a run of its own on the XS engine under the ESP32 budget
// with nats-xs, nats-xs/tls and nats-xs/ws preloaded, against real servers with certificates made
// at run time. The XS module is test/xs/tls.mjs (its `only=` runs one link).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeCerts, tlsBlock } from "../tools/certs.mjs";
import { freePort, startServer } from "../tools/nats-server.mjs";
import { hostArguments } from "../tools/xs/run.mjs";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const LINKS = ["nats", "tls", "ws", "wss"];

/** @param {string} binary @param {string[]} args @returns {Promise<string[]>} */
function run(binary, args) {
  return new Promise((resolve, reject) => {
    const preload = ["nats-xs", "nats-xs/tls", "nats-xs/ws"].flatMap((p) => ["--preload", p]);
    const child = spawn(binary, hostArguments([path.join(ROOT, "test", "xs", "tls.mjs"), ...preload, ...args], ROOT), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = out.split("\n");
      if (code === 0 && lines.includes("done")) resolve(lines);
      else reject(new Error(`test/xs/tls.mjs ${args[0]}: exit ${code}\n${err.trim()}\n${lines.slice(-6).join("\n")}`));
    });
  });
}

/**
 * Heap above the state before connecting, after connecting and one publish (live, after a
 * collection), and the high-water marks of the run, per transport.
 * @param {string} binary the XS host
 */
export async function measureLinks(binary) {
  const certs = makeCerts();
  const servers = [];
  try {
    const tls = await startServer({ jetstream: false, config: tlsBlock(certs.server) });
    servers.push(tls);
    const wsPort = await freePort();
    const ws = await startServer({ jetstream: false, config: `websocket {\n  port: ${wsPort}\n  host: "127.0.0.1"\n  no_tls: true\n}\n` });
    servers.push(ws);
    const wssPort = await freePort();
    const wss = await startServer({
      jetstream: false,
      config: `websocket {\n  port: ${wssPort}\n  host: "127.0.0.1"\n  tls { cert_file: "${certs.server.certFile}"\n key_file: "${certs.server.keyFile}" }\n}\n`,
    });
    servers.push(wss);
    const args = [
      `natsServer=nats://127.0.0.1:${ws.port}`,
      `tlsServer=tls://127.0.0.1:${tls.port}`,
      "mtlsServer=unused",
      `wsServer=ws://127.0.0.1:${wsPort}`,
      `wssServer=wss://127.0.0.1:${wssPort}`,
      `ca=${certs.ca}`,
      "subject=bench.links",
    ];
    const links = {};
    for (const link of LINKS) {
      const lines = await run(binary, [`only=${link}`, ...args]);
      const line = lines.find((l) => l.startsWith(`${link} `));
      links[link] = JSON.parse(line.slice(link.length + 1));
    }
    return links;
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    certs.remove();
  }
}
