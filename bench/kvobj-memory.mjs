// The KV and Object Store part of `npm run bench:memory` (issue 11, item 5): on the XS engine under
// the ESP32 budget, each in a run of its own against a real nats-server with JetStream and
// @nats-io/kv / @nats-io/obj as the peer:
//   - objects: a 10 MB object written by nats.js in 128 KB chunks read into a sink, and a 10 MB
//     object put from a PayloadSource (nats-xs, nats-xs/jetstream, nats-xs/obj preloaded): the rise
//     of the live heap above the state right before each transfer (test/xs/obj-10mb.mjs);
//   - kv: the live heap at each stage of test/xs/kv.mjs (nats-xs, nats-xs/jetstream, nats-xs/kv
//     preloaded), a watch of 1,000 updates from nats.js among them.
// test/xs-obj.test.ts and test/xs-kv.test.ts assert the bounds; this records the figures.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { startServer } from "../tools/nats-server.mjs";
import { hostArguments } from "../tools/xs/run.mjs";
import { lineReader } from "./lib/workload.mjs";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const SIZE = 10 * 1024 * 1024;
const UPDATES = 1000;

/** Runs one XS module; resolves with its output lines. */
function run(binary, module, preload, args, onLine, timeoutMs) {
  return new Promise((resolve, reject) => {
    const flags = preload.flatMap((p) => ["--preload", p]);
    const child = spawn(binary, hostArguments([path.join(ROOT, "test", "xs", module), ...flags, ...args], ROOT), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    const lines = [];
    lineReader(child, lines, onLine);
    child.stderr.setEncoding("utf8").on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0 && lines[lines.length - 1] === "done") resolve(lines);
      else reject(new Error(`test/xs/${module}: exit ${code}\n${err.trim()}\n${lines.slice(-6).join("\n")}`));
    });
  });
}

function field(lines, prefix) {
  const line = lines.find((l) => l.startsWith(`${prefix} `));
  if (line === undefined) throw new Error(`no "${prefix}" line`);
  return JSON.parse(line.slice(prefix.length + 1));
}

async function objects(binary) {
  const server = await startServer({ jetstream: true });
  try {
    const peer = await connect({ servers: server.url });
    const pos = await new Objm(peer).create("XSOBJ");
    const down = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) down[i] = (i * 7 + (i >>> 9)) & 255;
    await pos.putBlob({ name: "down", options: { max_chunk_size: 128 * 1024 } }, down);
    await pos.putBlob({ name: "warm" }, new Uint8Array(100));
    const lines = await run(binary, "obj-10mb.mjs", ["nats-xs", "nats-xs/jetstream", "nats-xs/obj"], [`server=${server.url}`, `size=${SIZE}`, "every=8", "timeout=110000"], undefined, 115_000);
    await peer.close();
    const dl = field(lines, "download");
    const ul = field(lines, "upload");
    return {
      download10MB: { slots: dl.rise.slots, chunkBytes: dl.rise.chunkBytes, bytes: dl.bytes, chunks: dl.chunks, pieces: dl.pieces, slotsPeak: dl.peak },
      upload10MB: { slots: ul.rise.slots, chunkBytes: ul.rise.chunkBytes, bytes: ul.size, chunks: ul.chunks, pieces: ul.pieces, slotsPeak: ul.peak },
    };
  } finally {
    await server.stop();
  }
}

async function kv(binary) {
  const server = await startServer({ jetstream: true });
  try {
    const peer = await connect({ servers: server.url });
    let work = Promise.resolve();
    const onLine = (line) => {
      if (line === "peer") {
        work = (async () => {
          const b = await new Kvm(peer).open("XSKV");
          await b.get("device.state");
          await b.put("peer.cfg", "blue");
        })();
      } else if (line === "watch") {
        work = (async () => {
          const b = await new Kvm(peer).open("XSKV");
          const body = new Uint8Array(16);
          for (let i = 0; i < UPDATES; i++) await b.put(`feed.${i % 10}`, body);
        })();
      } else if (line === "restart") {
        work = (async () => {
          await server.restart();
          const p2 = await connect({ servers: server.url });
          await (await new Kvm(p2).open("XSKV")).put("after", "yes");
          await p2.close();
        })();
      }
    };
    const lines = await run(binary, "kv.mjs", ["nats-xs", "nats-xs/jetstream", "nats-xs/kv"], [`server=${server.url}`, `updates=${UPDATES}`, "timeout=55000"], onLine, 58_000);
    await work;
    await peer.close();
    if (!lines.includes(`watched ${UPDATES} bad=0 dropped=0`)) throw new Error("test/xs/kv.mjs: the watch did not see every update");
    const stages = {};
    for (const l of lines.filter((x) => x.startsWith("memory "))) {
      const s = JSON.parse(l.slice(7));
      stages[s.stage] = { slots: s.slots, chunkBytes: s.chunkBytes, slotsPeak: s.slotsPeak };
    }
    return stages;
  } finally {
    await server.stop();
  }
}

/**
 * The Object Store transfers' rise above the state before each, and the KV stages' live heap.
 * @param {string} binary the XS host
 */
export async function measureKvObj(binary) {
  return { objects: await objects(binary), kv: await kv(binary) };
}
