// Power-loss cycles for the persistent JetStream outbox (issue 15, point 5). A device script
// (test/devices/outbox-device.mjs) runs in the host simulator with a device folder that outlives it,
// publishing numbered readings through nats-xs/outbox-file; each cycle it is killed with SIGKILL at
// a random moment while, at random, the nats-server is stopped and restarted (or killed and
// restarted, with killServer) around it. Then one last boot sends what its file holds, and the
// stream is read with nats.js: every reading the device reported accepted must be there exactly
// once, with no gaps and no duplicates.
//
//   node tools/outbox-reboot.mjs [--cycles 100] [--seed n] [--kill-server]   (npm run reboot)
//
// runCycles() is what test/outbox-reboot.test.ts runs with a CI-sized count.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { random } from "./fuzz/frames.mjs";
import { startServer } from "./nats-server.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEVICE = join(ROOT, "test", "devices", "outbox-device.mjs");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts one boot of the device; lines go to `onLine`. */
function bootDevice(dir, words, onLine) {
  const child = spawn(process.execPath, ["--import", "./host-sim/register.js", DEVICE, ...words], {
    cwd: ROOT,
    env: { ...process.env, NATS_XS_DEVICE_DIR: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let partial = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    partial += chunk;
    let end;
    while ((end = partial.indexOf("\n")) >= 0) {
      onLine(partial.slice(0, end));
      partial = partial.slice(end + 1);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited };
}

/**
 * Runs `cycles` power losses and checks the stream. Returns the figures; throws with the reason
 * when a reading is lost, duplicated or out of place.
 * @param {{ cycles: number, seed?: number, killServer?: boolean, log?: (line: string) => void }} o
 */
export async function runCycles(o) {
  const seed = o.seed ?? (Date.now() & 0x7fffffff);
  const rand = random(seed);
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "nats-xs-reboot-"));
  const server = await startServer({ jetstream: true });
  const subject = `readings.${process.pid}`;
  const stream = `READINGS_${process.pid}`;
  /** Highest reading number reported accepted, per boot. */
  const accepted = new Map();
  const boots = [];
  let serverRestarts = 0;
  try {
    {
      const nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [subject], storage: "file", duplicate_window: 120_000_000_000 });
      await nc.close();
    }
    const onLine = (line) => {
      const m = /^accepted (\d+) (\d+)$/.exec(line);
      if (m !== null) accepted.set(Number(m[1]), Number(m[2]));
      else boots.push(line);
    };
    for (let boot = 1; boot <= o.cycles; boot++) {
      const words = [`nats=${server.url}`, `subject=${subject}`, `boot=${boot}`, `interval=${2 + Math.floor(rand() * 10)}`];
      const device = bootDevice(dir, words, onLine);
      const life = 400 + Math.floor(rand() * 1200);
      let outage = Promise.resolve();
      if (rand() < 0.4) {
        // the server goes away during this boot and comes back (maybe after the device died)
        const at = Math.floor(rand() * life);
        const down = 100 + Math.floor(rand() * 800);
        const kill = o.killServer === true && rand() < 0.5;
        outage = (async () => {
          await sleep(at);
          await (kill ? server.kill() : server.stop({ keepStore: true }));
          await sleep(down);
          await server.restart();
          serverRestarts++;
        })();
      }
      await sleep(life);
      device.child.kill("SIGKILL");
      const r = await device.exited;
      if (r.signal !== "SIGKILL") throw new Error(`boot ${boot} ended by itself (${r.code}): ${r.stderr}`);
      await outage;
      log(`cycle ${boot}: accepted ${accepted.has(boot) ? accepted.get(boot) + 1 : 0} readings, ${boots[boots.length - 1] ?? ""}`);
    }
    // the last boot: no new readings, only what the file holds
    const last = bootDevice(dir, [`nats=${server.url}`, `subject=${subject}`, `boot=${o.cycles + 1}`, "publish=false"], onLine);
    const timer = setTimeout(() => last.child.kill("SIGKILL"), 60_000);
    const end = await last.exited;
    clearTimeout(timer);
    if (end.code !== 0 || !boots.some((l) => l.startsWith("drained"))) throw new Error(`the last boot did not drain the outbox (${end.code} ${end.signal}): ${end.stderr}\n${boots.slice(-3).join("\n")}`);

    // read the whole stream with nats.js
    const nc = await connect({ servers: server.url });
    const js = jetstream(nc);
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    const total = info.state.messages;
    const seen = new Map();
    const c = await js.consumers.get(stream);
    const iter = await c.fetch({ max_messages: total, expires: 10_000 });
    let got = 0;
    for await (const m of iter) {
      const { boot, n } = m.json();
      if (!seen.has(boot)) seen.set(boot, new Set());
      const set = seen.get(boot);
      if (set.has(n)) throw new Error(`reading ${boot}/${n} is in the stream twice`);
      set.add(n);
      if (++got === total) break;
    }
    await nc.close();
    if (got !== total) throw new Error(`read ${got} of the stream's ${total} messages`);
    let reported = 0;
    for (const [boot, highest] of accepted) {
      const set = seen.get(boot) ?? new Set();
      for (let n = 0; n <= highest; n++) if (!set.has(n)) throw new Error(`reading ${boot}/${n} was accepted but is not in the stream (seed ${seed})`);
      reported += highest + 1;
    }
    for (const [boot, set] of seen) {
      for (let n = 0; n < set.size; n++) if (!set.has(n)) throw new Error(`boot ${boot} has a gap at reading ${n} (seed ${seed})`);
    }
    const restoredBoots = boots.filter((l) => /restored=[1-9]/.test(l)).length;
    const corrupt = boots.filter((l) => /corrupt=[1-9]/.test(l)).length;
    return { seed, cycles: o.cycles, reported, stored: total, serverRestarts, restoredBoots, corrupt };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const result = await runCycles({
    cycles: arg("--cycles", 100),
    seed: arg("--seed", undefined),
    killServer: argv.includes("--kill-server"),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}
