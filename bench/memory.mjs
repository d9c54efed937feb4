#!/usr/bin/env node
// `npm run bench:memory`: XS heap figures of the nats-xs client, on the real XS engine (tools/xs/)
// under the ESP32 default creation budget with the library preloaded, as a device runs it. Prints a
// table and writes bench/memory.json; bench/MEMORY.md explains the method and the figures.
//
// Keys of bench/memory.json that other tools read, each { slots, chunkBytes }:
//   afterImport       live heap once the library is imported (absolute)
//   afterConnect      live heap once connected (absolute)
//   perSubscription   added by one more subscription (average over 10)
//   steadyAfter10k    live heap after 10,000 messages in and out through 10 subscriptions (absolute)
//   peakChunked1MB    the most the live heap rose above its state right before a 1 MB message
//                     arrived through a { chunks: true } subscription (default receive buffer)
// and, for reading them: goals, steady (10k/20k/30k), chunked (every variant), bufferOptions, kvobj
// (objects.download10MB / upload10MB: rise above the state before; kv: live heap per stage),
// anatomy (slots and chunk bytes per part), budget, host.
//
// Environment: NATS_XS_HOST=<binary> uses another build of the XS host.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect, headers } from "@nats-io/transport-node";
import { startServer } from "../tools/nats-server.mjs";
import { ensureBuilt } from "../tools/xs/build.mjs";
import { hostArguments } from "../tools/xs/run.mjs";
import { measureLinks } from "./links.mjs";
import { measureKvObj } from "./kvobj-memory.mjs";
import { lineReader, moddableSdk, runModdableWorkload, runVariants, runXsWorkload, workloadTable } from "./lib/workload.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..");
const OUT = path.join(HERE, "memory.json");
const RUN_TIMEOUT_MS = 120_000;
const ONE_MB = 1024 * 1024;
const DEFAULTS = { readBufferBytes: 1024, receiveBufferBytes: 4096, outboundBufferBytes: 2048 };
/** Goals of issue 3. */
const GOAL_SLOTS = 600;
const GOAL_CHUNK_BYTES = 8 * 1024;
const GOAL_PEAK_BYTES = DEFAULTS.receiveBufferBytes + 4 * 1024;

const log = (s) => process.stdout.write(s);

/**
 * Runs an XS module with the library preloaded and the default budget. Lines starting with `M ` or
 * `A ` carry JSON; `onLine` sees every line (for READY). Rejects when the module does not end with
 * DONE and status 0, with what it printed.
 */
function runXs(binary, module, args, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, hostArguments([path.join(HERE, "xs", module), "--preload", "nats-xs", ...args], ROOT), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = [];
    let stderr = "";
    lineReader(child, lines, onLine);
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && lines.includes("DONE")) {
        resolve(lines);
        return;
      }
      const how = signal === "SIGSEGV" ? "the XS host crashed (SIGSEGV)" : signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new Error(`${module} ${args.join(" ")}: ${how}\n${stderr.trim()}\n${lines.slice(-6).join("\n")}`));
    });
  });
}

/** Checkpoints of a run, by name. */
function checkpoints(lines) {
  const out = {};
  for (const line of lines) {
    if (!line.startsWith("M ")) continue;
    const m = JSON.parse(line.slice(2));
    out[m.at] = m;
  }
  return out;
}

const fig = (m) => ({ slots: m.slots, chunkBytes: m.chunkBytes });
const diff = (a, b) => ({ slots: a.slots - b.slots, chunkBytes: a.chunkBytes - b.chunkBytes });

/**
 * Issue 14's workload (bench/lib/workload.mjs): every variant on the XS host, and on Moddable's
 * Linux runtime when MODDABLE names a built SDK. A nats.js responder in this process answers the
 * requests. Prints the tables; returns what memory.json keeps under `workload`.
 */
async function workload(binary, server, peer) {
  peer.subscribe("*.echo", { callback: (_err, msg) => msg?.respond(msg.data) });
  await peer.flush();
  log("workload (issue 14) on the XS host: connect, 10 subscriptions, 1,000 messages, 10 requests, close\n");
  const xs = await runVariants((client, api, preloaded, prefix) => runXsWorkload(binary, server.url, client, api, preloaded, prefix), log);
  const out = { xsHost: xs };
  const sdk = moddableSdk();
  if (sdk.missing !== undefined) {
    out.moddable = { skipped: sdk.missing };
    log(`workload on Moddable's runtime: skipped (${sdk.missing})\n`);
  } else {
    log(`workload on Moddable's Linux runtime (${sdk.root}${sdk.version ? `, SDK ${sdk.version}` : ""}; the first build compiles the runtime, minutes)\n`);
    out.moddable = { sdk: sdk.version, results: await runVariants((client, api, preloaded, prefix) => runModdableWorkload(sdk, server.url, client, api, preloaded, prefix), log) };
  }
  log(`\nXS host, chunk bytes / slots above the baseline:\n\n${workloadTable(xs)}`);
  if (out.moddable.results !== undefined) log(`\nModdable runtime, chunk bytes / slots above the baseline:\n\n${workloadTable(out.moddable.results)}`);
  out.method = [
    "bench/xs/workload.mjs: connect, 10 subscriptions (a shared callback, or one for-await loop each), 1,000 messages of 16 bytes published by the client to its own subscriptions (flushed every 100), 10 sequential requests to a nats.js responder, close.",
    "Each point is read right after a forced collection (xs:memory on the XS host, Debug.gc() and the instrumentation module on Moddable), minus the reading once the library is imported (afterImport, also recorded). Budget: 78,848 chunk bytes, 4,928 slots, 512 stack slots.",
    "preloaded: the library is preloaded as a manifest preloads it (--preload on the XS host, the manifest's preload on Moddable); run time: in the image but not preloaded, imported when the app starts, its objects made in the app's heap (--flash on the XS host: code and names stay outside the heap, as xsl links them; on Moddable a manifest module that preload does not list).",
    "collections: garbage collections while the 1,000 messages went out and came back (and while the 10 requests ran).",
    "floor: bench/xs/floor.js, the protocol spoken straight over the socket with nothing else, callbacks only.",
  ];
  return out;
}

async function main() {
  const binary = process.env.NATS_XS_HOST ?? ensureBuilt({ quiet: true });
  if (!existsSync(path.join(ROOT, "dist", "nats-xs.js"))) throw new Error("dist/nats-xs.js is missing: run `npm run build` first");
  const server = await startServer({ jetstream: false });
  const peer = await connect({ servers: server.url, name: "bench-memory-peer" });
  const common = [`server=${server.url}`];
  try {
    log(`XS host ${binary}\nnats-server ${server.url}\n`);
    const workloadFigures = await workload(binary, server, peer);
    if (process.argv.includes("--workload")) {
      // only the workload: the rest of memory.json stays as the last full run left it
      const previous = existsSync(OUT) ? JSON.parse(readFileSync(OUT, "utf8")) : {};
      writeFileSync(OUT, `${JSON.stringify({ ...previous, workload: workloadFigures }, null, 2)}\n`);
      log(`\nwrote ${path.relative(ROOT, OUT)} (workload only)\n`);
      return;
    }

    // connect, subscriptions, traffic
    log("main: import, connect, 10 + 10 subscriptions, 3 x 10,000 messages\n");
    const mainLines = await runXs(binary, "memory.mjs", [...common, "scenario=main"]);
    const main = checkpoints(mainLines);
    const budget = JSON.parse(mainLines.find((l) => l.startsWith("B ")).slice(2));

    // the 1 MB message: sampled (a collection at every chunk) and natural, without and with a header
    const chunked = {};
    for (const variant of ["sampled", "natural", "sampledHeader", "naturalHeader"]) {
      const sample = variant.startsWith("sampled");
      const withHeader = variant.endsWith("Header");
      log(`chunked: 1 MB through a { chunks: true } subscription, ${sample ? "collecting at every chunk" : "natural collections"}${withHeader ? ", with a header" : ""}\n`);
      const big = new Uint8Array(ONE_MB - (withHeader ? 64 : 0));
      let sum = 0;
      for (let i = 0; i < big.length; i++) {
        big[i] = (i * 7 + 3) & 255;
        sum = (sum + big[i]) % 65521;
      }
      const lines = await runXs(binary, "memory.mjs", [...common, "scenario=chunked", `sample=${sample}`], (line) => {
        if (!line.startsWith("READY ")) return;
        const h = headers();
        h.set("Bench", "memory");
        peer.publish(line.slice(6), big, withHeader ? { headers: h } : undefined);
        peer.flush().catch(() => {});
      });
      const c = checkpoints(lines);
      const before = c.beforeTransfer;
      const after = c.afterTransfer;
      if (after.bytes !== big.length || after.sum !== sum || after.offsetErrors !== 0)
        throw new Error(`chunked ${variant}: received ${after.bytes} bytes (sum ${after.sum}), sent ${big.length} (sum ${sum})`);
      chunked[variant] = {
        payloadBytes: big.length,
        pieces: after.pieces,
        beforeTransfer: fig(before),
        afterTransfer: fig(after),
        liveRise: sample
          ? { slots: Math.max(0, after.maxLiveSlots - before.slots), chunkBytes: Math.max(0, after.maxLiveChunkBytes - before.chunkBytes) }
          : undefined,
        highWater: {
          before: { slots: before.slotsPeak, chunkBytes: before.chunkBytesPeak },
          after: { slots: after.slotsPeak, chunkBytes: after.chunkBytesPeak },
          raisedBy: { slots: after.slotsPeak - before.slotsPeak, chunkBytes: after.chunkBytesPeak - before.chunkBytesPeak },
        },
      };
    }

    // what each buffer option costs
    const options = {};
    const variants = [
      ["defaults", []],
      ["readBufferBytes=4096", ["readbuf=4096"]],
      ["outboundBufferBytes=8192", ["outbuf=8192"]],
      ["outboundBufferBytes=512", ["outbuf=512"]],
      ["receiveBufferBytes=8192", ["recvbuf=8192"]],
      ["receiveBufferBytes=1024", ["recvbuf=1024"]],
    ];
    for (const [name, args] of variants) {
      log(`options: ${name}\n`);
      const c = checkpoints(await runXs(binary, "memory.mjs", [...common, "scenario=options", ...args]));
      options[name] = {
        afterConnect: diff(c.afterConnect, c.afterImport),
        afterSplitMessage: diff(c.afterSplitMessage, c.afterImport),
        splitMessageDelivered: c.afterSplitMessage.got === 1,
      };
    }

    log("anatomy: slots and chunk bytes per part\n");
    const anatomy = {};
    for (const line of await runXs(binary, "anatomy.mjs", common)) {
      if (!line.startsWith("A ")) continue;
      const a = JSON.parse(line.slice(2));
      anatomy[a.part] = { slots: round(a.slots), chunkBytes: round(a.chunkBytes) };
    }

    // the figures
    const afterImport = fig(main.afterImport);
    const afterConnect = fig(main.afterConnect);
    const perSubscription = {
      slots: round((main.after20Subs.slots - main.after10Subs.slots) / 10),
      chunkBytes: round((main.after20Subs.chunkBytes - main.after10Subs.chunkBytes) / 10),
    };
    const steadyAfter10k = fig(main.after10k);
    const peakChunked1MB = chunked.sampled.liveRise;
    const clientState = diff(main.after10Subs, main.afterImport);
    const growth = diff(main.after20k, main.after10k);
    const growth30 = diff(main.after30k, main.after10k);
    const defaults = options.defaults;
    const bufferOptions = {
      readBufferBytes: {
        default: DEFAULTS.readBufferBytes,
        allocated: "when a socket opens; freed when it closes",
        "4096 instead": diff(options["readBufferBytes=4096"].afterConnect, defaults.afterConnect),
      },
      outboundBufferBytes: {
        default: DEFAULTS.outboundBufferBytes,
        allocated: "256 bytes on the first frame, doubling while a turn queues more, up to its size; freed at the end of the turn once written",
        "8192 instead": diff(options["outboundBufferBytes=8192"].afterConnect, defaults.afterConnect),
        "512 instead": diff(options["outboundBufferBytes=512"].afterConnect, defaults.afterConnect),
      },
      receiveBufferBytes: {
        default: DEFAULTS.receiveBufferBytes,
        allocated: "on the first frame split across reads (a message of 2000 bytes here), then kept",
        "4096 (default), first split frame": diff(defaults.afterSplitMessage, defaults.afterConnect),
        "8192, first split frame": diff(options["receiveBufferBytes=8192"].afterSplitMessage, options["receiveBufferBytes=8192"].afterConnect),
        "1024, first split frame": diff(options["receiveBufferBytes=1024"].afterSplitMessage, options["receiveBufferBytes=1024"].afterConnect),
        "1024 delivers the 2000-byte message": options["receiveBufferBytes=1024"].splitMessageDelivered,
      },
    };
    const goals = {
      clientStateAfterConnectAnd10Subs: {
        goal: `<= ${GOAL_SLOTS} slots and <= ${GOAL_CHUNK_BYTES} chunk bytes above afterImport`,
        measured: clientState,
        held: clientState.slots <= GOAL_SLOTS && clientState.chunkBytes <= GOAL_CHUNK_BYTES,
      },
      steadyState: {
        goal: "no growth from 10,000 to 20,000 and 30,000 messages",
        measured: { "20k - 10k": growth, "30k - 10k": growth30 },
        held: growth.slots <= 0 && growth.chunkBytes <= 0 && growth30.slots <= 0 && growth30.chunkBytes <= 0,
      },
      peakChunked1MB: {
        goal: `<= ${GOAL_PEAK_BYTES} chunk bytes (receive buffer + 4 KB) above the state before the transfer`,
        measured: {
          noHeader: chunked.sampled.liveRise,
          withHeader: chunked.sampledHeader.liveRise,
          // natural collections: the chunk high-water mark did not move during the transfer, so live
          // plus uncollected chunk bytes stayed below the mark connect() had set: this far above
          // the state before the transfer, at most
          naturalUpperBound: {
            noHeader: chunked.natural.highWater.after.chunkBytes - chunked.natural.beforeTransfer.chunkBytes,
            withHeader: chunked.naturalHeader.highWater.after.chunkBytes - chunked.naturalHeader.beforeTransfer.chunkBytes,
          },
        },
        held: chunked.sampled.liveRise.chunkBytes <= GOAL_PEAK_BYTES && chunked.sampledHeader.liveRise.chunkBytes <= GOAL_PEAK_BYTES,
      },
    };

    // secure links: the heap of a connection over each transport (Secure links in the README)
    log("links: connect over nats://, tls://, ws:// and wss://, each in a run of its own\n");
    const links = await measureLinks(binary);

    // KV and Object Store: 10 MB objects both ways and a watch of 1,000 updates (README, KV and Object Store)
    log("kvobj: 10 MB objects both ways with @nats-io/obj, then a KV watch of 1,000 updates from @nats-io/kv\n");
    const kvobj = await measureKvObj(binary);

    const result = {
      afterImport,
      afterConnect,
      perSubscription,
      steadyAfter10k,
      peakChunked1MB,
      goals,
      checkpoints: Object.fromEntries(Object.entries(main).map(([k, v]) => [k, fig(v)])),
      steady: { after10k: fig(main.after10k), after20k: fig(main.after20k), after30k: fig(main.after30k), received: main.after30k.received, bad: main.after30k.bad },
      chunked,
      bufferOptions,
      anatomy,
      links,
      kvobj,
      workload: workloadFigures,
      budget,
      host: {
        engine: "XS from @agoric/xsnap's sources, tools/xs host, library preloaded (--preload nats-xs)",
        arch: `${os.arch()} (64-bit: 32-byte slots, 16-byte chunk headers; an ESP32 has 16-byte slots and 8-byte chunk headers)`,
        slotBytes: 32,
        node: process.version,
        nats: "nats-server on 127.0.0.1, no JetStream",
      },
      method: [
        "Each figure is XS currentHeapCount (slots) and currentChunksSize (chunk bytes) right after a forced compacting collection (xs:memory memory()), so garbage is never counted.",
        "afterImport is taken one event-loop turn after the module's top level ran, once the records of module loading are garbage; all the driving module keeps (subjects, payload, callbacks) is allocated before it.",
        "perSubscription = (20 subscriptions - 10 subscriptions) / 10; steady state: 10,000 messages per round (16-byte payloads, published by the client to its own 10 subscriptions, flushed every 250), figures after rounds 1, 2 and 3.",
        "peakChunked1MB: XS keeps only high-water marks since the machine started (no reset), and connect() alone raises them above anything a chunk delivery allocates, so a delta of chunkBytesPeak/slotsPeak around the transfer reads 0 and proves nothing. Instead a collection runs inside every chunk callback (1025 of them) and the largest live slots and chunk bytes seen, minus the live figures right before the transfer, is the peak. The natural run (no collections) is also recorded: its high-water marks before and after.",
      ],
    };
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    printTable(result);
    log(`\nwrote ${path.relative(ROOT, OUT)}\n`);
  } finally {
    await peer.close().catch(() => {});
    await server.stop();
  }
}

function round(x) {
  return Math.round(x * 10) / 10;
}

function printTable(r) {
  const base = r.afterImport;
  const above = (v) => `${v.slots - base.slots} / ${v.chunkBytes - base.chunkBytes}`;
  const rows = [
    ["afterImport", r.afterImport, "", "library imported (preloaded), nothing else"],
    ["afterConnect", r.afterConnect, above(r.afterConnect), "connected, no subscription"],
    ["perSubscription", r.perSubscription, "", "each further subscription"],
    ["steadyAfter10k", r.steadyAfter10k, above(r.steadyAfter10k), "10 subscriptions, after 10,000 messages in and out"],
    ["peakChunked1MB", r.peakChunked1MB, "", "rise above the state right before a 1 MB chunked message"],
  ];
  log(`\nXS heap, ${r.host.arch}\nbudget: ${r.budget.chunkBytes} chunk bytes, ${r.budget.slots} slots, ${r.budget.stackSlots} stack slots (ESP32 default)\n\n`);
  log(`| figure | slots | chunk bytes | above afterImport (slots / bytes) | state |\n| --- | ---: | ---: | ---: | --- |\n`);
  for (const [name, v, a, note] of rows) log(`| ${name} | ${v.slots} | ${v.chunkBytes} | ${a} | ${note} |\n`);
  const b = r.bufferOptions;
  log(`\nbuffer options (chunk bytes, measured):\n`);
  log(`  readBufferBytes 1024 -> 4096: ${b.readBufferBytes["4096 instead"].chunkBytes} (allocated when the socket opens)\n`);
  log(`  outboundBufferBytes 2048 -> 8192: ${b.outboundBufferBytes["8192 instead"].chunkBytes}, -> 512: ${b.outboundBufferBytes["512 instead"].chunkBytes} (grows only while a turn queues more: nothing held at rest)\n`);
  log(`  receiveBufferBytes 4096: ${b.receiveBufferBytes["4096 (default), first split frame"].chunkBytes}, 8192: ${b.receiveBufferBytes["8192, first split frame"].chunkBytes}, 1024: ${b.receiveBufferBytes["1024, first split frame"].chunkBytes} (allocated at the first frame split across reads)\n`);
  log(`\nper transport, above the state before connecting (live slots / chunk bytes; run peaks):\n`);
  for (const [name, v] of Object.entries(r.links ?? {})) log(`  ${name}: ${v.slots} / ${v.chunkBytes}; peaks ${v.slotsPeak} / ${v.chunkBytesPeak}\n`);
  if (r.kvobj !== undefined) {
    const o = r.kvobj.objects;
    log(`\nObject Store (nats-xs/obj preloaded), rise above the state before (live slots / chunk bytes):\n`);
    log(`  10 MB download (nats.js wrote it in 128 KB chunks): ${o.download10MB.slots} / ${o.download10MB.chunkBytes}; slots peak ${o.download10MB.slotsPeak}\n`);
    log(`  10 MB upload from a PayloadSource: ${o.upload10MB.slots} / ${o.upload10MB.chunkBytes}; slots peak ${o.upload10MB.slotsPeak}\n`);
    log(`KV (nats-xs/kv preloaded), live slots / chunk bytes per stage:\n`);
    for (const [name, v] of Object.entries(r.kvobj.kv)) log(`  ${name}: ${v.slots} / ${v.chunkBytes}\n`);
  }
  log(`\ngoals:\n`);
  for (const [name, g] of Object.entries(r.goals)) log(`  ${g.held ? "held  " : "MISSED"}  ${name}: ${g.goal}\n          measured ${JSON.stringify(g.measured)}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench:memory failed: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
});
