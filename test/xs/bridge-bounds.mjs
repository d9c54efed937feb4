// Hostile NATSBridge envelopes into smartsubscribe() on the XS engine, under the ESP32 budget with
// nats-xs and nats-xs/bridge preloaded. Driven by test/bridge-bounds.test.ts, which sends the
// envelopes of test/shared/hostile-envelopes.mjs with nats.js once this module says `ready`.
//
//   npm run xs -- test/xs/bridge-bounds.mjs --preload nats-xs --preload nats-xs/bridge \
//     server=nats://127.0.0.1:4222 subject=s n=10 [unbounded=true]
//
// Lines: `ready`, then one per envelope: `env <correlation_id> <payloads> <bytes of payload 0>`
// followed by `live <correlation_id> {slots, chunkBytes}` (the live heap while the envelope is held,
// above the state at `ready`), or `err <name> <option>`; then `memory {...}` (live heap after a
// collection, and XS's peaks, which count garbage) and `done`. `unbounded=true` lifts every bound of the receiver (to show what the bounds prevent: the
// run is then expected to end in a stack overflow or memory full).
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { smartsubscribe } from "nats-xs/bridge";

const N = config.n;
const dog = watchdog(config.timeout ?? 20000);
const lift = config.unbounded === true;
const options = lift ? { max_depth: 1000000, max_payloads: 1000000, max_values: 1000000000, max_held_bytes: 1000000000 } : {};

async function main() {
  let base = null;
  const nc = await connect({ servers: config.server, name: "xs-bounds", noRandomize: true });
  let got = 0;
  smartsubscribe(nc, config.subject, {
    ...options,
    callback: (err, env) => {
      if (err !== null) say(`err ${err.name} ${err.option ?? ""}`);
      else {
        const p = env.payloads[0];
        const size = p === undefined ? -1 : p.data instanceof Uint8Array ? p.data.length : typeof p.data === "string" ? p.data.length : 0;
        say(`env ${env.correlation_id} ${env.payloads.length} ${size}`);
        // the live heap while the envelope is held (a collection first), above the state at `ready`
        const m = memory();
        say(`live ${env.correlation_id} ${JSON.stringify({ slots: m.slots - base.slots, chunkBytes: m.chunkBytes - base.chunkBytes })}`);
      }
      if (++got === N) Timer.set(finish, 0);
    },
  });
  await nc.flush();
  base = memory();
  say("ready");

  async function finish() {
    say(`memory ${JSON.stringify(memory())}`);
    await nc.close();
    Timer.clear(dog);
    say("done");
  }
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
