// NATSBridge links over HTTPS on the XS engine under the ESP32 creation budget, with nats-xs,
// nats-xs/tls and nats-xs/bridge preloaded as their manifests preload them (the HTTP client still
// reaches the TLS layer through import(), as on a board). Driven by test/xs-bridge-https.test.ts,
// which runs nats-server and the file server in its HTTPS mode (a test CA), sends the envelopes and
// checks the upload.
//
//   npm run xs -- test/xs/bridge-https.mjs --preload nats-xs --preload nats-xs/tls --preload nats-xs/bridge \
//     server=nats://... files=https://... ca=PEM prefix=p size=N [refuse=0]
//
// With files=http://... and refuse=0 it makes the same transfers over plain HTTP: the test compares
// the two to state what TLS adds to a link transfer.
//
// (a) download: the envelope on <prefix>.in announces a link on the HTTPS file server; it is read
//     into a sink that only counts and checksums (Adler-32) the bytes, with the CA in `tls`.
// (b) upload: smartsend() of `size` bytes from a PayloadSource (byte p = (p * 13 + (p >>> 11)) & 255)
//     by link to the HTTPS file server; the envelope goes to <prefix>.out.
// (c) the envelope on <prefix>.bad names a file server of another CA: a LinkError caused by a
//     TlsError; the connection goes on (a flush after it).
// The live heap is sampled with a forced collection in the sink's write and the source's read
// (pieces 1 to 8, then every 4th), as test/xs/bridge-10mb.mjs does; `rise` is the highest live
// heap seen minus the live heap right before the transfer.
//
// Lines: budget {...}; ready <prefix>.in (<- the test sends both envelopes now); download {...};
// upload {...}; refused <name> <cause name> <cause code> <message>; done. `FAIL <why>` exits 1.
import config from "mc/config";
import Timer from "timer";
import { budget, memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe } from "nats-xs/bridge";

const prefix = config.prefix ?? "xshttps";
const SIZE = Number(config.size ?? 1024 * 1024);
const dog = watchdog(Number(config.timeout ?? 50000));
const tls = config.ca === undefined ? undefined : { ca: config.ca };
/** refuse=0: no envelope on <prefix>.bad (the same transfers over http://, for comparison). */
const REFUSE = config.refuse !== 0 && config.refuse !== "0";

let maxSlots = 0;
let maxChunkBytes = 0;
function resetSampling() {
  maxSlots = 0;
  maxChunkBytes = 0;
}
function due(n) {
  return n <= 8 || n % 4 === 0;
}
function sample() {
  const m = memory();
  if (m.slots > maxSlots) maxSlots = m.slots;
  if (m.chunkBytes > maxChunkBytes) maxChunkBytes = m.chunkBytes;
}
function figures(before, extra) {
  const after = memory();
  return Object.assign(extra, {
    before: { slots: before.slots, chunkBytes: before.chunkBytes },
    rise: { slots: Math.max(0, maxSlots - before.slots), chunkBytes: Math.max(0, maxChunkBytes - before.chunkBytes) },
    after: { slots: after.slots, chunkBytes: after.chunkBytes, slotsPeak: after.slotsPeak, chunkBytesPeak: after.chunkBytesPeak },
  });
}

// ---- (a) download ------------------------------------------------------------------------------
let adlerA = 1;
let adlerB = 0;
let got = 0;
let pieces = 0;
let maxPiece = 0;
let finishDownload = null;
const downloaded = new Promise((resolve) => (finishDownload = resolve));
let downloadError = null;
const sinkObject = {
  write(view) {
    let a = adlerA;
    let b = adlerB;
    for (let i = 0; i < view.length; i++) {
      a += view[i];
      b += a;
    }
    adlerA = a % 65521;
    adlerB = b % 65521;
    got += view.length;
    if (view.length > maxPiece) maxPiece = view.length;
    if (due(++pieces)) sample();
  },
};
const receiveOptions = {
  max_size: 16 * 1024 * 1024,
  fileserver_url: config.files,
  tls,
  sink: () => sinkObject,
  callback: (err) => {
    if (err !== null) downloadError = err;
    finishDownload();
  },
};

// ---- (c) a file server of another CA -----------------------------------------------------------
let finishBad = null;
const refused = new Promise((resolve) => (finishBad = resolve));
const badOptions = { link_hosts: ["127.0.0.1"], tls, base_delay: 10, callback: (err) => finishBad(err) };

// ---- (b) upload --------------------------------------------------------------------------------
let reads = 0;
let maxRead = 0;
const source = {
  size: SIZE,
  read(offset, into) {
    const n = into.length;
    for (let i = 0; i < n; i++) {
      const p = offset + i;
      into[i] = (p * 13 + (p >>> 11)) & 255;
    }
    if (n > maxRead) maxRead = n;
    if (due(++reads)) sample();
    return n;
  },
};
const outPayloads = [{ dataname: "xs-up.bin", type: "binary", data: source }];
const sendOptions = { fileserver_url: config.files, tls, msg_purpose: "xs-https" };

async function main() {
  say(`budget ${JSON.stringify(budget())}`);
  const nc = await connect({ servers: config.server, name: "xs-bridge-https", noRandomize: true });
  smartsubscribe(nc, `${prefix}.in`, receiveOptions);
  if (REFUSE) smartsubscribe(nc, `${prefix}.bad`, badOptions);
  await nc.flush();
  await new Promise((resolve) => Timer.set(resolve, 0));

  resetSampling();
  const before1 = memory();
  say(`ready ${prefix}.in`);
  await downloaded;
  if (downloadError !== null) fail(`download: ${downloadError.name}: ${downloadError.message}`);
  say(`download ${JSON.stringify(figures(before1, { bytes: got, pieces, maxPiece, adler32: ((adlerB << 16) | adlerA) >>> 0 }))}`);

  resetSampling();
  const before2 = memory();
  const env = await smartsend(nc, `${prefix}.out`, outPayloads, sendOptions);
  say(`upload ${JSON.stringify(figures(before2, { transport: env.payloads[0].transport, url: env.payloads[0].url, reads, maxRead }))}`);

  if (REFUSE) {
    const err = await refused;
    if (err === null) fail("a file server of another CA was accepted");
    say(`refused ${err.name} ${err.cause?.name} ${err.cause?.code} ${err.message}`);
  }
  await nc.flush();
  await nc.close();
  say("done");
}

main().then(
  () => Timer.clear(dog),
  (e) => fail(`${e?.name}: ${e?.message}`),
);
