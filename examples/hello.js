// The core API in one app: publish, subscribe, iterate, headers, request/reply, drain.
//   node --import ./host-sim/register.js examples/hello.js nats=nats://127.0.0.1:4222
import config from "mc/config";
import { connect, headers, NoRespondersError, TimeoutError } from "nats-xs";

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const nc = await connect({ servers, name: "sensor-7" });

// publish: a Uint8Array or a string (UTF-8); false means a batch already waits for the socket,
// so a fast publisher should let the event loop turn before publishing more
nc.publish("sensors.7.reading", JSON.stringify({ celsius: 21.5 }));

// subscribe with a callback
const kept = [];
nc.subscribe("sensors.7.cmd.>", {
  callback(err, msg) {
    if (err) return trace(`subscription error: ${err.message}\n`);
    trace(`${msg.subject}: ${msg.string()}\n`);
    kept.push(msg.data);             // yours to keep, as in nats.js
    msg.respond("ok");               // answer a request
  },
});

// a device that reads each message at once can take the bytes as views instead of copies
nc.subscribe("sensors.7.fast", {
  zeroCopy: true,
  callback(err, msg) {
    if (err) return;
    const last = msg.copy();         // a message to keep: copy it inside the callback
  },
});

// or iterate (messages are copied into a bounded queue; as in nats.js, a subscription with a
// callback refuses to be iterated); this app sends itself three
const sub = nc.subscribe("fleet.broadcast", { max: 3 });
for (const word of ["one", "two", "three"]) nc.publish("fleet.broadcast", word);
for await (const m of sub) trace(`broadcast: ${m.string()}\n`);

// headers, as in nats.js
const h = headers();
h.set("Unit", "celsius");
nc.publish("sensors.7.reading", "21.5", { headers: h });

// request/reply through one muxed inbox subscription: the command subscription above answers
const led = await nc.request("sensors.7.cmd.led", "on", { timeout: 2000 });
trace(`led: ${led.string()}\n`);
try {
  const reply = await nc.request("config.get", "sensor-7", { timeout: 2000 });
  trace(`config: ${reply.string()}\n`);
} catch (e) {
  if (e instanceof NoRespondersError) trace("no config service is running\n");
  else if (e instanceof TimeoutError) trace("the config service did not answer\n");
}

await nc.flush();        // the server has processed everything sent so far
await nc.drain();        // unsubscribe, deliver what is in flight, flush, close
trace(`hello: done, kept ${kept.length} command(s)\n`);
