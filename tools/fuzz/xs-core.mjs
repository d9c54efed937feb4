// The XS half of tools/fuzz/core.fuzz.mjs, run on the XS engine under the ESP32 budget with
// nats-xs preloaded: `parser=N` generated frames into the parser, then a connection to the hostile
// fuzz server at `server=` until it sends the end marker. Prints one line per part and the heap
// figures; anything wrong prints FAIL and exits 1 (memory full exits 3, a stack overflow 4, a
// hang 9 through the watchdog).
import config from "mc/config";
import Timer from "timer";
import TextDecoder from "text/decoder";
import { memory } from "xs:memory";
import { exit } from "xs:host";
import { connect, Delivery, Parser } from "nats-xs";
import { fuzzParser } from "./frames.mjs";

function say(line) {
  trace(`${line}\n`);
}
const dog = Timer.set(() => {
  say("FAIL watchdog: the fuzz did not finish in time");
  exit(9);
}, Number(config.timeout ?? 600000));

const seed = Number(config.seed ?? 1);
const counts = fuzzParser(Parser, Delivery, new TextDecoder(), seed, Number(config.parser ?? 1000));
say(
  `parser: ${counts.frames} frames (valid ${counts.valid}, mutated ${counts.mutated}, malformed ${counts.malformed}); ${counts.messages} messages, ${counts.chunks} chunks, ${counts.protocolErrors} protocol errors, ${counts.resyncs} resyncs; seed ${seed}`,
);
if (counts.failures.length > 0) {
  say(`FAIL parser: ${counts.failures.join("; ")}`);
  exit(1);
}
say(`parser memory ${JSON.stringify(memory())}`);

const nc = await connect({ servers: config.server, reconnectTimeWait: 0, reconnectJitter: 0, maxReconnectAttempts: -1, receiveTimeout: 200, timeout: 2000 });
let msgs = 0;
let errors = 0;
let chunks = 0;
let done;
const end = new Promise((r) => (done = r));
nc.subscribe("fz.>", {
  callback: (err, m) => {
    if (err !== null) errors++;
    else if (m.subject === "fz.sync") m.respond();
    else if (m.subject === "fz.end") done();
    else {
      msgs++;
      m.headers;
    }
  },
});
nc.subscribe("fz.>");
nc.subscribe("fz.>", { chunks: true, callback: () => chunks++ });
nc.subscribe("fz.>", {
  callback: () => {
    throw new Error("a callback that throws");
  },
});
await end;
const st = nc.stats();
if (nc.isClosed()) {
  say("FAIL connection: closed itself");
  exit(1);
}
say(`connection: delivered ${msgs} messages, ${chunks} chunks, ${errors} errors; stats in ${st.inMsgs} dropped ${st.dropped} reconnects ${st.reconnects}`);
say(`connection memory ${JSON.stringify(memory())}`);
await nc.close();
Timer.clear(dog);
say("done");
