// Fuzz of the core (nats-xs): generated server frames (valid, mutated, malformed; tools/fuzz/
// frames.mjs) into the parser, and through a hostile loopback server into a whole connection, on
// Node (the built dist/ in the host simulator) and on the XS engine under the ESP32 budget.
//
//   node --expose-gc --import ./host-sim/register.js tools/fuzz/core.fuzz.mjs [--full] [seed=N]
//   (or: npm run fuzz, which runs every suite at full size)
//
// Full size: 10^6 frames into the parser and 10^6 into a connection on Node, 10^5 of each on XS.
// CI size (no --full): 20,000 / 10,000 on Node, 5,000 / 3,000 on XS. Passes when nothing threw,
// nothing hung (each part has a deadline), the heap stayed bounded (Node: < 64 MB above the start
// after collections; XS: the ESP32 budget, where exhaustion exits 3) and every check held.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import TextDecoder from "text/decoder";
import { connect, Delivery, Parser } from "nats-xs";
import { status } from "nats-xs/status";
import { fuzzParser } from "./frames.mjs";
import { fuzzServer } from "./fuzz-server.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const full = process.argv.includes("--full");
const seedArg = process.argv.find((a) => a.startsWith("seed="));
const seed = seedArg ? Number(seedArg.slice(5)) : 20261130;
const size = full
  ? { parser: 1_000_000, connection: 1_000_000, xsParser: 100_000, xsConnection: 100_000 }
  : { parser: 20_000, connection: 10_000, xsParser: 5_000, xsConnection: 3_000 };
const HEAP_BOUND = 64 * 1024 * 1024;

let failed = false;
function report(line) {
  process.stdout.write(`${line}\n`);
}
function fail(why) {
  failed = true;
  report(`FAIL ${why}`);
}
process.on("uncaughtException", (e) => {
  fail(`uncaught exception: ${e?.stack ?? e}`);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  fail(`unhandled rejection: ${e?.stack ?? e}`);
  process.exit(1);
});

function heapNow() {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;

function deadline(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`hang: ${what} not done within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

// ---- parser on Node ---------------------------------------------------------------------------
{
  const base = heapNow();
  let peak = 0;
  const counts = fuzzParser(Parser, Delivery, new TextDecoder(), seed, size.parser, () => (peak = Math.max(peak, heapNow() - base)));
  peak = Math.max(peak, heapNow() - base);
  report(
    `node parser: ${counts.frames} frames (valid ${counts.valid}, mutated ${counts.mutated}, malformed ${counts.malformed}); ` +
      `${counts.messages} messages, ${counts.chunks} chunks, ${counts.protocolErrors} protocol errors, ${counts.resyncs} resyncs; heap +${mb(peak)}; seed ${seed}`,
  );
  for (const f of counts.failures) fail(`node parser: ${f}`);
  if (peak > HEAP_BOUND) fail(`node parser: heap grew ${mb(peak)}`);
}

// ---- a connection on Node ---------------------------------------------------------------------
{
  const { server, counts, ended } = await fuzzServer(seed + 1, size.connection);
  const base = heapNow();
  let peak = 0;
  const nc = await connect({ servers: server.url, reconnectTimeWait: 0, reconnectJitter: 0, maxReconnectAttempts: -1, receiveTimeout: 200, timeout: 2000 });
  const seen = { msgs: 0, chunks: 0, errors: 0, status: {} };
  let end = false;
  nc.subscribe("fz.>", {
    callback: (err, m) => {
      if (err !== null) seen.errors++;
      else if (m.subject === "fz.sync") m.respond();
    else if (m.subject === "fz.end") end = true;
      else {
        seen.msgs++;
        m.headers; // decode them: hostile bytes too
      }
    },
  });
  nc.subscribe("fz.>"); // an iterator never read: its queue must stay bounded
  nc.subscribe("fz.>", { chunks: true, callback: () => seen.chunks++ });
  nc.subscribe("fz.>", {
    callback: () => {
      throw new Error("a callback that throws");
    },
  });
  void (async () => {
    for await (const s of status(nc)) seen.status[s.type] = (seen.status[s.type] ?? 0) + 1;
  })();
  const sampler = setInterval(() => (peak = Math.max(peak, heapNow() - base)), 500);
  try {
    await deadline(
      (async () => {
        await ended;
        while (!end) await new Promise((r) => setTimeout(r, 10));
      })(),
      full ? 15 * 60_000 : 60_000,
      "the connection fuzz",
    );
  } catch (e) {
    fail(`node connection: ${e.message} (fed ${counts.frames} frames)`);
  }
  clearInterval(sampler);
  peak = Math.max(peak, heapNow() - base);
  if (nc.isClosed()) fail("node connection: the connection closed itself");
  const stats = nc.stats();
  await nc.close();
  await server.close();
  report(
    `node connection: ${counts.frames} frames (valid ${counts.valid}, mutated ${counts.mutated}, malformed ${counts.malformed}) over ${counts.connections} connections ` +
      `(${counts.batchesSurvived} batches survived, ${counts.batchesCut} cut); delivered ${seen.msgs} messages, ${seen.chunks} chunks, ${seen.errors} errors to subscriptions; ` +
      `stats in ${stats.inMsgs} dropped ${stats.dropped} reconnects ${stats.reconnects}; status ${JSON.stringify(seen.status)}; heap +${mb(peak)}; seed ${seed + 1}`,
  );
  if (!end) fail("node connection: the end marker never arrived");
  if (peak > HEAP_BOUND) fail(`node connection: heap grew ${mb(peak)}`);
}

// ---- the same on XS, under the ESP32 budget ---------------------------------------------------
{
  const { ensureBuilt } = await import("../xs/build.mjs");
  const { hostArguments } = await import("../xs/run.mjs");
  const binary = process.env.NATS_XS_HOST ?? ensureBuilt({ quiet: true });
  const { server, counts, ended } = await fuzzServer(seed + 3, size.xsConnection);
  const args = hostArguments([join(ROOT, "tools", "fuzz", "xs-core.mjs"), "--preload", "nats-xs", `seed=${seed + 2}`, `parser=${size.xsParser}`, `server=${server.url}`], ROOT);
  const result = await new Promise((resolve) => {
    const child = spawn(binary, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const t = setTimeout(() => child.kill("SIGKILL"), full ? 15 * 60_000 : 90_000);
    child.on("close", (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out, err });
    });
  });
  await server.close();
  void ended;
  for (const line of result.out.trim().split("\n")) if (line !== "") report(`xs ${line}`);
  report(
    `xs connection fed: ${counts.frames} frames (valid ${counts.valid}, mutated ${counts.mutated}, malformed ${counts.malformed}) over ${counts.connections} connections ` +
      `(${counts.batchesSurvived} batches survived, ${counts.batchesCut} cut); seed ${seed + 3}`,
  );
  if (result.code !== 0) fail(`xs: exit ${result.code ?? result.signal} (1 exception, 3 memory full, 4 stack overflow, 9 hang) ${result.err.trim()}`);
  if (!counts.ended) fail("xs connection: the end marker was never sent");
}

report(failed ? "core fuzz: FAILED" : `core fuzz: passed (${full ? "full" : "CI"} size, seed ${seed})`);
process.exit(failed ? 1 : 0);
