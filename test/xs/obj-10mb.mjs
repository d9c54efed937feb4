// A 10 MB object through the JetStream Object Store on the XS engine, both ways, under the ESP32
// creation budget with nats-xs, nats-xs/jetstream and nats-xs/obj preloaded (as
// manifests/nats-xs-obj preloads them), and the rise of the live heap during each transfer.
// Driven by test/xs-obj.test.ts, which puts "down" with @nats-io/obj (128 KB chunks) before the
// run and reads "up" back with it after.
//
//   npm run xs -- test/xs/obj-10mb.mjs --preload nats-xs --preload nats-xs/jetstream --preload nats-xs/obj \
//     server=nats://127.0.0.1:4222 bucket=XSOBJ size=10485760 every=8
//
// Measured as test/xs/bridge-10mb.mjs measures: a forced collection (memory()) inside the sink's
// write / the source's read at each of the first 8 pieces and then every `every` pieces; the highest
// live slots and chunk bytes seen, minus the live figures right before the transfer, is its rise.
// Everything this module needs (sink, source) is allocated before the baseline.
//
// Lines on stdout:
//   download {...}   the get of "down": bytes, rise (the digest was checked by get())
//   upload {...}     the put of "up" from a PayloadSource computing byte p = (p * 13 + (p >>> 11)) & 255
//   done
import config from "mc/config";
import Timer from "timer";
import { memory } from "xs:memory";
import { Probe, fail, pause, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { Objm } from "nats-xs/obj";

const SIZE = config.size ?? 10485760;
const EVERY = config.every ?? 8;
const dog = watchdog(config.timeout ?? 55000);

async function main() {
  const nc = await connect({ servers: config.server, name: "xs-obj" });
  const os = await new Objm(nc).open(config.bucket ?? "XSOBJ");
  const probe = new Probe(EVERY);
  const sink = {
    bytes: 0,
    write(view) {
      this.bytes += view.length;
      probe.piece();
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
  // one small get first, so that one-time allocations of a first transfer are not counted
  await os.getBlob("warm");
  // let the warm-up's consumer delete finish, so that the baseline holds nothing of it
  await pause(300);

  probe.begin();
  const info = await os.get("down", sink);
  say(`download ${JSON.stringify({ bytes: sink.bytes, size: info.size, chunks: info.chunks, pieces: probe.pieces, rise: probe.rise(), peak: memory().slotsPeak })}`);

  await pause(300);
  probe.begin();
  const up = await os.put({ name: "up" }, source);
  say(`upload ${JSON.stringify({ size: up.size, chunks: up.chunks, digest: up.digest, pieces: probe.pieces, rise: probe.rise(), peak: memory().slotsPeak })}`);
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e.name}: ${e.message}`));
