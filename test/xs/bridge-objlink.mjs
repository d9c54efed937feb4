// NATSBridge Object Store links on the XS engine under the ESP32 creation budget, with nats-xs,
// nats-xs/jetstream, nats-xs/obj and nats-xs/bridge preloaded: an envelope whose payload is a
// nats-os:// link to an object nats.js wrote (128 KB chunks) is received by smartsubscribe and
// streamed into a sink, and the device sends a payload through the bucket with smartsend's
// object_store. Driven by test/xs-bridge-objlink.test.ts, which publishes the envelope when the
// device says "ready" and reads the object the device's envelope names.
//
// Measured as test/xs/obj-10mb.mjs measures: a forced collection inside the sink's write and the
// source's read (the first 8 pieces, then every `every`); the highest live figures seen minus the
// live figures right before the transfer is its rise.
//
// Lines on stdout:
//   warm              subscribed; the peer sends one small link envelope (a first transfer's
//                     one-time allocations are not counted), and the device sends one
//   ready             the baseline is taken; the peer sends the 1 MB link (then, after `received`,
//                     one to a bucket the device does not allow)
//   received {...}    the envelope's link payload: bytes, url, rise
//   refused <name>    the second envelope (a bucket not allowed) earned that error
//   sent {...}        the device's envelope: url, digest, rise
//   done
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { Probe, fail, pause, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe } from "nats-xs/bridge";

const SIZE = config.size ?? 1048576;
const EVERY = config.every ?? 8;
const BUCKET = config.bucket ?? "XSLINKS";
const dog = watchdog(config.timeout ?? 55000);

async function main() {
  const nc = await connect({ servers: config.server, name: "xs-objlink" });
  const probe = new Probe(EVERY);
  const state = { bytes: 0, ended: false, url: "", errors: [], envelopes: 0 };
  const sink = {
    write(view) {
      state.bytes += view.length;
      probe.piece();
    },
    end() {
      state.ended = true;
    },
  };
  const source = {
    size: SIZE,
    read(offset, into) {
      for (let i = 0; i < into.length; i++) {
        const p = offset + i;
        into[i] = (p * 13 + (p >>> 11)) & 255;
      }
      probe.piece();
      return into.length;
    },
  };
  smartsubscribe(nc, "xs.objlink.in", {
    object_store: BUCKET,
    max_size: SIZE * 2,
    require_digest: true,
    sink: () => sink,
    callback: (err, env) => {
      if (err) {
        state.errors.push(err.name);
        say(`error ${err.name}: ${err.message}`);
      }
      else {
        state.envelopes++;
        state.url = env.payloads[0].url;
      }
    },
  });
  await nc.flush();
  probe.begin();
  say("warm");
  await until(() => state.envelopes + state.errors.length >= 1, 20000, "the warm-up envelope");
  if (state.envelopes !== 1 || !state.ended) fail(`the warm-up envelope: ${JSON.stringify(state)}`);
  const small = new Uint8Array(5000);
  await smartsend(nc, "xs.objlink.warm", [{ dataname: "warm.bin", type: "binary", data: small }], { object_store: BUCKET, size_threshold: 4096 });
  state.envelopes = 0;
  state.bytes = 0;
  state.ended = false;
  await pause(300);
  probe.begin();
  say("ready");
  await until(() => state.envelopes + state.errors.length >= 1, 40000, "the 1 MB envelope");
  if (state.envelopes !== 1 || !state.ended) fail(`expected one envelope read whole, got ${JSON.stringify(state)}`);
  say(`received ${JSON.stringify({ bytes: state.bytes, url: state.url, pieces: probe.pieces, rise: probe.rise(), peak: memory().slotsPeak })}`);
  await until(() => state.errors.length >= 1, 20000, "the envelope linking a bucket not allowed");
  say(`refused ${state.errors.join(",")}`);

  await pause(300);
  probe.begin();
  const env = await smartsend(nc, "xs.objlink.out", [{ dataname: "frame.bin", type: "binary", data: source }], { object_store: BUCKET, size_threshold: 4096 });
  const p = env.payloads[0];
  say(`sent ${JSON.stringify({ url: p.url, digest: p.metadata.digest, pieces: probe.pieces, rise: probe.rise(), peak: memory().slotsPeak })}`);
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e.name}: ${e.message}`));
