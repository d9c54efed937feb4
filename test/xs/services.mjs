// nats-xs/services on the XS engine, under the ESP32 creation budget with nats-xs and
// nats-xs/services preloaded (as manifests/nats-xs-services preloads them), against a real
// nats-server. Driven by test/xs-services.test.ts, whose nats.js backend (@nats-io/services)
// discovers the service, calls its endpoints and reads its stats.
//
//   npm run xs -- test/xs/services.mjs --preload nats-xs --preload nats-xs/services server=nats://127.0.0.1:4222
//
// Lines on stdout, in order (the test acts on the one marked <-):
//   memory {...}               heap per stage, after a forced collection: connected, service (the
//                              service and its discovery subscriptions, no endpoint), endpoints-1
//                              (one endpoint), endpoints-<1+N> (N more, same shape), endpoints-all,
//                              served (after the backend's requests), stopped
//   ready <id>              <- the backend discovers the service and calls its endpoints, then
//                              requests "xs.done"
//   stats <json>               the device's own STATS answer once the backend is done
//   stopped null               stop() resolved
//   done
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { ServiceError, Svcm } from "nats-xs/services";
import { status } from "nats-xs/status";

const EXTRA = config.endpoints ?? 10;
const dog = watchdog(config.timeout ?? 50000);

function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

async function main() {
  const nc = await connect({ servers: config.server, name: "xs-svc" });
  // an error the connection reports (a reply that could not be sent, say) fails the run
  (async () => {
    for await (const s of status(nc)) if (s.type === "error") fail(`status error ${s.error.name}: ${s.error.message}`);
  })();
  stage("connected");
  const svc = await new Svcm(nc).add({ name: "xsdevice", version: "1.0.0", description: "a device on XS", metadata: { board: "esp32" } });
  await nc.flush();
  stage("service");

  let readings = 0;
  svc.addEndpoint("ping", { handler: (err, msg) => msg.respond("pong"), metadata: { kind: "liveness" } });
  stage("endpoints-1");
  // the same shape again EXTRA times: what one more endpoint costs
  const cmd = svc.addGroup("xs.cmd");
  for (let i = 0; i < EXTRA; i++) cmd.addEndpoint(`c${i}`, (err, msg) => msg.respond(`c${i}`));
  await nc.flush();
  stage(`endpoints-${1 + EXTRA}`);

  const xs = svc.addGroup("xs");
  xs.addEndpoint("config", (err, msg) => {
    const cfg = msg.json(); // bounded: a payload nested too deep throws JsonLimitError, answered 500
    if (typeof cfg.interval !== "number") throw new ServiceError(400, "interval must be a number");
    readings = cfg.interval;
    msg.respond(`interval ${readings}`);
  });
  xs.addEndpoint("reboot", (err, msg) => msg.respondError(409, "busy updating"));
  let finished = false;
  xs.addEndpoint("done", (err, msg) => {
    msg.respond("bye");
    finished = true;
  });
  await nc.flush();
  stage("endpoints-all");
  say(`ready ${svc.id}`);

  await until(() => finished, 40000, "the backend to finish");
  stage("served");
  say(`stats ${JSON.stringify(await svc.stats())}`);
  say(`stopped ${await svc.stop()}`);
  stage("stopped");
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e.name}: ${e.message}`));
