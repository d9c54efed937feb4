// TLS, mutual TLS, ws and wss on the XS engine under the ESP32 budget, with nats-xs, nats-xs/tls and
// nats-xs/ws preloaded as their manifests preload them (the connection still reaches the layers
// through import(), as on a board). Driven by test/xs-tls.test.ts, which runs the servers (TLS,
// TLS with verify, websocket with and without TLS) and the nats.js peers that hear the device.
//
//   npm run xs -- test/xs/tls.mjs --preload nats-xs --preload nats-xs/tls --preload nats-xs/ws \
//     natsServer=nats://... tlsServer=tls://... mtlsServer=tls://... wsServer=ws://... wssServer=wss://... ca=PEM \
//     cert=PEM key=PEM otherCa=PEM subject=...
//
// Lines: `<case> {memory}` per link (heap above the state before, after connecting and publishing,
// before close), `refused <code>` (a CA that did not sign the server), `done`; `FAIL <why>` and exit
// 1 otherwise.
import config from "mc/config";
import { memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect, TlsError } from "nats-xs";

const dog = watchdog(Number(config.timeout ?? 25000));
const before = memory();
say(`memory ${JSON.stringify(Object.assign({ stage: "before" }, before))}`);

// only=<case> runs that link alone (bench:memory: the peak of one transport's handshake)
const only = config.only;

async function link(what, servers, tls) {
  if (only !== undefined && only !== what) return;
  const nc = await connect({ servers, tls, reconnect: false });
  nc.publish(config.subject, `${what} from xs`);
  await nc.flush();
  const m = memory();
  say(`${what} ${JSON.stringify({ slots: m.slots - before.slots, chunkBytes: m.chunkBytes - before.chunkBytes, slotsPeak: m.slotsPeak, chunkBytesPeak: m.chunkBytesPeak })}`);
  await nc.close();
}

try {
  // plain TCP first: the baseline the secure links are compared with
  await link("nats", config.natsServer, undefined);
  await link("tls", config.tlsServer, { ca: config.ca });
  await link("mtls", config.mtlsServer, { ca: config.ca, cert: config.cert, key: config.key });
  await link("ws", config.wsServer, undefined);
  await link("wss", config.wssServer, { ca: config.ca });
  if (only !== undefined) {
    say("done");
    throw null;
  }
  try {
    await connect({ servers: config.tlsServer, tls: { ca: config.otherCa }, reconnect: false });
    fail("a server signed by another CA was accepted");
  } catch (e) {
    if (!(e instanceof TlsError)) fail(`expected TlsError, got ${e?.name}: ${e?.message}`);
    say(`refused ${e.code} ${e.message}`);
  }
  say("done");
} catch (e) {
  if (e !== null) fail(`${e?.name}: ${e?.message}`);
}
import("timer").then(({ default: Timer }) => Timer.clear(dog));
