// Where the client's XS slots and chunk bytes go: each part of a connection measured on its own, on
// the XS engine under the ESP32 budget with the library preloaded. Driven by bench/memory.mjs.
//
//   npm run xs -- bench/xs/anatomy.mjs --preload nats-xs server=nats://127.0.0.1:4222
//
// Prints `A {"part":name,"slots":n,"chunkBytes":n,"count":n}` per part: the live figures (after a
// forced collection) that holding `count` of the part adds, divided by `count`. Containers that
// hold the parts are allocated before each baseline.
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { exit } from "xs:host";
import { connect, NatsConnection } from "nats-xs";

const N = 50;
const keep = new Array(N).fill(null);
const keep2 = new Array(N).fill(null);
const prefix = config.prefix ?? "xsanat";
const subjects = [];
for (let k = 0; k < N; k++) subjects.push(`${prefix}.s.${k}`);
const noop = () => {};

function clear() {
  keep.fill(null);
  keep2.fill(null);
}

/** Measures what `make(i)` (called `count` times, results kept) adds. */
async function part(name, count, make) {
  clear();
  await tick();
  const before = memory();
  for (let i = 0; i < count; i++) keep[i] = await make(i);
  const after = memory();
  trace(
    `A ${JSON.stringify({ part: name, slots: (after.slots - before.slots) / count, chunkBytes: (after.chunkBytes - before.chunkBytes) / count, count })}\n`,
  );
  clear();
}

function tick() {
  return new Promise((resolve) => Timer.set(resolve, 0));
}

async function run() {
  const opts = { servers: config.server, name: "xs-anatomy", noRandomize: true };

  // JavaScript building blocks, to read the figures below
  await part("object with 0 properties", N, () => ({}));
  await part("object with 4 properties", N, (i) => ({ a: i, b: i, c: i, d: i }));
  await part("closure (arrow capturing 1 variable)", N, (i) => () => i);
  await part("pending Promise with its resolve function kept", N, () => {
    let r;
    const p = new Promise((resolve) => (r = resolve));
    return [p, r];
  });
  await part("Uint8Array(0)", N, () => new Uint8Array(0));
  await part("Uint8Array(64)", N, () => new Uint8Array(64));
  const buffer = new Uint8Array(64);
  await part("subarray view", N, (i) => buffer.subarray(0, i));
  const map = new Map();
  const value = {};
  await part("Map entry (number -> kept object)", N, (i) => {
    map.set(i, value);
    return null;
  });
  map.clear();

  // the connection, constructed (buffers, parser, outbound queue, options, timers) but not dialed
  await part("NatsConnection constructed, not connected", 1, () => new NatsConnection(opts));
  // connected: adds the socket, the server's INFO, the ping timer
  let nc = null;
  await part("connect(): connected NatsConnection", 1, async () => {
    nc = await connect(opts);
    return nc;
  });
  await part("a copy of the INFO object the client keeps", 1, () => JSON.parse(JSON.stringify(nc.info)));
  await part("a copy of the resolved options", 1, () => JSON.parse(JSON.stringify(nc.options)));
  await part("subscription (shared callback)", 10, (i) => nc.subscribe(subjects[i], { callback: noop }));
  await nc.flush();
  await part("subscription closed promise, once read", 10, (i) => [nc.subscribe(subjects[i], { callback: noop }).closed]);
  // received messages kept past their callback (views of the read buffer: never do this on a
  // device; it shows what one delivery allocates)
  {
    let n = 0;
    let got = null;
    const all = new Promise((resolve) => (got = resolve));
    const sub = nc.subscribe(`${prefix}.msgs`, {
      callback: (err, msg) => {
        keep2[n++] = msg;
        if (n === N) got();
      },
    });
    keep[0] = sub;
    // a frame split across reads allocates the receive buffer once: let that happen before the baseline
    const warm = nc.subscribe(`${prefix}.warm`, { callback: noop });
    nc.publish(`${prefix}.warm`, new Uint8Array(2000));
    await nc.flush();
    warm.unsubscribe();
    await nc.flush();
    await tick();
    const before = memory();
    for (let i = 0; i < N; i++) nc.publish(`${prefix}.msgs`, "0123456789");
    await all;
    const after = memory();
    trace(`A ${JSON.stringify({ part: "received Msg (subject, view, object)", slots: (after.slots - before.slots) / N, chunkBytes: (after.chunkBytes - before.chunkBytes) / N, count: N })}\n`);
    sub.unsubscribe();
    clear();
  }
  await nc.close();
}

run().then(
  () => trace("DONE\n"),
  (e) => {
    trace(`FAIL ${e?.name}: ${e?.message}\n`);
    exit(1);
  },
);
