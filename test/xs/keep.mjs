// msg.data kept after the callback, and the debug trace, on the XS engine under the ESP32 budget,
// driven by test/xs-keep.test.ts (issue 13, points 2 and 8):
//
//   server=<nats> prefix=P : with debug on, publishes 100 messages of different lengths to itself
//                            and keeps each msg.data of a default subscription; every kept payload
//                            must still read as sent once all arrived. A zeroCopy subscription's
//                            message read after its callback must throw InvalidArgumentError.
//
// Lines: the trace (nats-xs ...), `kept N intact`, `late read refused`, `memory {...}`, `done`.
import config from "mc/config";
import Timer from "timer";
import TextDecoder from "text/decoder";
import { memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect, InvalidArgumentError } from "nats-xs";

const dog = watchdog(config.timeout ?? 20000);
const N = 100;

function until(test, ms, what) {
  return new Promise((resolve, reject) => {
    let waited = 0;
    const t = Timer.repeat(() => {
      if (test()) {
        Timer.clear(t);
        resolve();
      } else if ((waited += 10) >= ms) {
        Timer.clear(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
  });
}

const body = (i) => `message ${i} ${"x".repeat(i % 40)}`;

try {
  const nc = await connect({ servers: config.server, debug: true, reconnect: false });
  const kept = [];
  nc.subscribe(`${config.prefix}.keep`, { callback: (_err, msg) => kept.push(msg.data) });
  let late = null;
  nc.subscribe(`${config.prefix}.view`, { zeroCopy: true, callback: (_err, msg) => (late = msg) });
  await nc.flush();
  for (let i = 0; i < N; i++) nc.publish(`${config.prefix}.keep`, body(i));
  nc.publish(`${config.prefix}.view`, "view");
  await nc.flush();
  await until(() => kept.length === N && late !== null, 10000, "the messages");
  const decoder = new TextDecoder();
  let intact = 0;
  for (let i = 0; i < N; i++) if (decoder.decode(kept[i]) === body(i)) intact++;
  say(`kept ${intact} intact`);
  try {
    late.string();
    say("late read allowed");
  } catch (e) {
    say(e instanceof InvalidArgumentError ? "late read refused" : `late read threw ${e}`);
  }
  await nc.close();
  say(`memory ${JSON.stringify(memory())}`);
  Timer.clear(dog);
  say("done");
} catch (e) {
  fail(e.message);
}
