// Hardening cases on the XS engine under the ESP32 budget, driven by test/xs-hardening.test.ts:
//
//   part=info      server=<hostile> : an INFO nested 1,500 deep arrives after connecting; it must be
//                                     refused (JsonLimitError), not overflow the 512-slot stack
//   part=iterator  server=<nats> prefix=P : a subscription read by an iterator gets 64 messages of
//                                     4,000 bytes (published by the test after "ready"); its queue
//                                     must stay within its byte bound, not exhaust the heap
//   part=flood     server=<hostile> : the server floods PINGs and never reads: the connection must
//                                     turn stale and be re-established, not fill memory with PONGs
//   part=timer                       : Timer intervals of 2^31 ms and more, as the device takes them
//   part=json      server=<nats> prefix=P : msg.json() of a peer's payload nested 1,500 deep (3 KB)
//                                     must be refused (JsonLimitError), one nested 32 deep parsed
//
// Lines: the part's result, `memory {...}` after a forced collection, then `done`. Anything wrong
// prints `FAIL <why>` and exits 1 (memory full exits 3, a stack overflow 4).
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect, JsonLimitError, SlowConsumerError, StaleConnectionError } from "nats-xs";
import { status } from "nats-xs/status";

const dog = watchdog(config.timeout ?? 20000);

/** Status events of `nc`, collected as they come. */
function record(nc) {
  const events = [];
  (async () => {
    for await (const s of status(nc)) events.push(s);
  })();
  return events;
}

async function info() {
  const nc = await connect({ servers: config.server, reconnect: false });
  const events = record(nc);
  await until(() => events.some((e) => e.type === "error"), 5000, "the INFO error");
  const e = events.find((x) => x.type === "error").error;
  if (!(e instanceof JsonLimitError)) fail(`expected JsonLimitError, got ${e}`);
  await nc.flush();
  if (nc.isClosed()) fail("the connection closed");
  say(`info refused ${e.limit}`);
  say(`memory ${JSON.stringify(memory())}`);
  await nc.close();
}

async function iterator() {
  const nc = await connect({ servers: config.server });
  const events = record(nc);
  const sub = nc.subscribe(`${config.prefix}.big`);
  await nc.flush();
  say("ready");
  await until(() => sub.getReceived() === 64, 10000, "64 messages");
  const slow = events.filter((x) => x.type === "slowConsumer");
  if (!(sub.lastError instanceof SlowConsumerError)) fail("no SlowConsumerError on the subscription");
  say(`iterator pending=${sub.getPending()} dropped=${sub.dropped} stats=${nc.stats().dropped} reports=${slow.length}`);
  say(`memory ${JSON.stringify(memory())}`);
  const queued = sub.getPending();
  let n = 0;
  for await (const m of sub) {
    if (m.data.length !== 4000) fail(`a message of ${m.data.length} bytes`);
    if (++n === queued) break;
  }
  say(`read ${n}`);
  await nc.close();
}

async function floodPart() {
  const nc = await connect({ servers: config.server, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  const events = record(nc);
  await until(() => events.some((e) => e.type === "staleConnection"), 15000, "a stale connection");
  const e = events.find((x) => x.type === "staleConnection").error;
  if (!(e instanceof StaleConnectionError)) fail(`expected StaleConnectionError, got ${e}`);
  await until(() => events.some((x) => x.type === "reconnecting"), 5000, "reconnecting");
  say(`flood stale ${/PONG/.test(e.message) ? "pong" : e.message}`);
  say(`memory ${JSON.stringify(memory())}`);
  await nc.close();
}

async function timer() {
  const fired = [];
  Timer.set(() => fired.push("2^31"), 2 ** 31);
  Timer.set(() => fired.push("2^32+30"), 2 ** 32 + 30);
  const far = Timer.set(() => fired.push("2^31-1"), 2 ** 31 - 1);
  await until(() => false, 100, "").catch(() => {});
  Timer.clear(far);
  say(`timer ${fired.join(",")}`);
}

async function json() {
  const nc = await connect({ servers: config.server });
  const results = [];
  nc.subscribe(`${config.prefix}.json`, {
    callback(err, msg) {
      if (err !== null || msg === null) return fail(`${err}`);
      try {
        let v = msg.json();
        let depth = 0;
        while (Array.isArray(v)) {
          depth++;
          v = v[0];
        }
        results.push(`depth ${depth}`);
      } catch (e) {
        results.push(e instanceof JsonLimitError ? `refused ${e.limit}` : `threw ${e}`);
      }
    },
  });
  await nc.flush();
  say("ready");
  await until(() => results.length === 2, 10000, "2 messages");
  say(`json ${results.join(", ")}`);
  say(`memory ${JSON.stringify(memory())}`);
  await nc.close();
}

const parts = { info, iterator, flood: floodPart, timer, json };
try {
  await parts[config.part]();
  Timer.clear(dog);
  say("done");
} catch (e) {
  fail(`${e}`);
}
