// The bridge receiver fuzz on Node: the built dist/ code through the host simulator. Run by
// tools/fuzz/bridge.fuzz.mjs as `node --expose-gc --import ./host-sim/register.js
// tools/fuzz/bridge-node.mjs <count> <seed>`; prints one line `result {...}`.
import { NatsError, MsgChunk } from "nats-xs";
import { EnvelopeReceiver } from "nats-xs/bridge";
import { runFuzz } from "./bridge-gen.mjs";

const count = Number(process.argv[2]);
const seed = Number(process.argv[3]) >>> 0;
const gc = globalThis.gc ?? (() => {});

const r = await runFuzz(
  { EnvelopeReceiver, MsgChunk, NatsError },
  {
    tick: () => new Promise((resolve) => setImmediate(resolve)),
    now: () => Date.now(),
    // heap used after a full collection, in bytes (a: heap, b: external + array buffers)
    sample: () => {
      gc();
      const m = process.memoryUsage();
      return { a: m.heapUsed, b: m.external + m.arrayBuffers };
    },
  },
  count,
  seed,
);
console.log(`result ${JSON.stringify(r)}`);
