// The bridge receiver fuzz on the XS engine, under the ESP32 budget with nats-xs and nats-xs/bridge
// preloaded. Run by tools/fuzz/bridge.fuzz.mjs (npm run xs -- tools/fuzz/bridge-xs.mjs --preload
// nats-xs --preload nats-xs/bridge count=N seed=S); prints `result {...}`. A stack overflow or memory
// full ends the host with status 4 or 3, which the runner counts as a crash.
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { NatsError, MsgChunk } from "nats-xs";
import { EnvelopeReceiver } from "nats-xs/bridge";
import { runFuzz } from "./bridge-gen.mjs";

const count = config.count;
const seed = config.seed >>> 0;
let clock = 0;

runFuzz(
  { EnvelopeReceiver, MsgChunk, NatsError },
  {
    tick: () => new Promise((resolve) => Timer.set(resolve, 0)),
    now: () => Date.now(),
    // live slots and chunk bytes after a collection
    sample: () => {
      const m = memory();
      return { a: m.slots, b: m.chunkBytes };
    },
    trace: config.verbose ? (line) => trace(`${line}\n`) : undefined,
    progress: (i) => {
      if (config.verbose || i - clock >= 1000) {
        clock = i;
        trace(`progress ${i}\n`);
      }
    },
  },
  count,
  seed,
).then(
  (r) => trace(`result ${JSON.stringify(r)}\n`),
  (e) => trace(`FAIL ${e?.name}: ${e?.message}\n`),
);
