// A 10 MB NATSBridge link payload through the XS engine, both ways, under the ESP32 creation budget
// with nats-xs and nats-xs/bridge preloaded (as manifests/nats-xs-bridge preloads them on a
// device), and the peak live heap of each transfer. Driven by test/xs-bridge.test.ts, which runs
// nats-server and the link file server, sends the envelope and checks the upload.
//
//   npm run xs -- test/xs/bridge-10mb.mjs --preload nats-xs --preload nats-xs/bridge \
//     server=nats://127.0.0.1:4222 files=http://127.0.0.1:8080 prefix=b size=10485760 every=4
//
// (a) download: a smartsubscribe()d envelope whose payload travels by link is fetched into a sink
//     that only counts and checksums (Adler-32) the bytes; size and checksum are reported.
// (b) upload: smartsend() of a `size`-byte payload from a PayloadSource that computes each piece
//     (byte p = (p * 13 + (p >>> 11)) & 255) goes to the file server by link; the envelope goes to
//     <prefix>.out, where the test reads it and fetches the file.
//
// Peak heap, measured as bench/xs/memory.mjs measures peakChunked1MB: XS's high-water marks cannot
// be reset and connect() alone raises them above what a transfer allocates, so instead a forced
// collection (memory() of xs:memory) runs inside the sink's write / the source's read at each of
// the first 8 pieces and then every `every` pieces (and once when the download's sink is opened);
// the highest live slots and chunk bytes seen, minus the live figures right before the transfer,
// is its rise. `every=0`: no forced collection at all (XS collects when its heap is full, as on a
// device); only XS's own marks are reported then. Those marks (slotsPeak, chunkBytesPeak: live and
// garbage, since the machine started) are reported before and after each transfer in any case.
// Everything this module needs (callbacks, sink, source, options, payload list) is allocated
// before the baseline, so the rise is the library's own.
//
// Lines on stdout (the test waits for the one marked <-):
//   budget {...}                          the creation budget
//   ready <prefix>.in                  <- subscribed and confirmed: the test sends the envelope now
//   download {...}                        figures of the download (JSON)
//   upload {...}                          figures of the upload (JSON)
//   memory {"download":{...},"upload":{...}}   both on one line
//   done
// Anything wrong prints `FAIL <why>` and exits 1; a watchdog exits 9 after `timeout` ms.
import config from "mc/config";
import Timer from "timer";
import { budget, memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { smartsend, smartsubscribe } from "nats-xs/bridge";

const prefix = config.prefix ?? "xsbridge";
const SIZE = config.size ?? 10 * 1024 * 1024;
/** A forced collection every this many pieces after the first 8 (0: none at all). */
const EVERY = config.every ?? 4;
const TIMEOUT = config.timeout ?? 50000;

const dog = watchdog(TIMEOUT);

/** Resolves on a later turn of the event loop. */
function tick() {
  return new Promise((resolve) => Timer.set(resolve, 0));
}

// ---- live-heap sampling ----------------------------------------------------------------------

let samples = 0;
let maxSlots = 0;
let maxChunkBytes = 0;
let minSlots = 0;
let minChunkBytes = 0;
let maxSlotsAt = 0;
let maxChunkBytesAt = 0;
/** The piece (1-based) being handled when a sample is taken (0: the sink's opening). */
let piece = 0;
let sinkOpenSlots = -1;
let sinkOpenChunkBytes = -1;

function resetSampling() {
  samples = 0;
  maxSlots = 0;
  maxChunkBytes = 0;
  minSlots = 1e9;
  minChunkBytes = 1e9;
  maxSlotsAt = 0;
  maxChunkBytesAt = 0;
  piece = 0;
}

function due(n) {
  return EVERY > 0 && (n <= 8 || n % EVERY === 0);
}

/** A forced collection in the middle of a transfer: what is live at this point. */
function sample() {
  const m = memory();
  samples++;
  if (m.slots > maxSlots) {
    maxSlots = m.slots;
    maxSlotsAt = piece;
  }
  if (m.chunkBytes > maxChunkBytes) {
    maxChunkBytes = m.chunkBytes;
    maxChunkBytesAt = piece;
  }
  if (m.slots < minSlots) minSlots = m.slots;
  if (m.chunkBytes < minChunkBytes) minChunkBytes = m.chunkBytes;
  return m;
}

function heap(m) {
  return { slots: m.slots, chunkBytes: m.chunkBytes, slotsPeak: m.slotsPeak, chunkBytesPeak: m.chunkBytesPeak };
}

/** The figures of a transfer; `rise` (the peak live heap above `before`) is null without samples. */
function figures(before, after, extra) {
  const sampled = samples > 0;
  return Object.assign(extra, {
    samples,
    before: heap(before),
    rise: sampled ? { slots: Math.max(0, maxSlots - before.slots), chunkBytes: Math.max(0, maxChunkBytes - before.chunkBytes) } : null,
    maxLive: sampled ? { slots: maxSlots, chunkBytes: maxChunkBytes, slotsAtPiece: maxSlotsAt, chunkBytesAtPiece: maxChunkBytesAt } : null,
    minLive: sampled ? { slots: minSlots, chunkBytes: minChunkBytes } : null,
    after: heap(after),
  });
}

// ---- (a) download into a sink that only counts and checksums ----------------------------------

// Adler-32 of the stream; the modulo is taken once per piece (pieces are a few KB at most, so the
// sums stay exact integers in between)
let adlerA = 1;
let adlerB = 0;
let got = 0;
let pieces = 0;
let maxPiece = 0;
let ended = 0;
let downloadError = null;
let declared = -1;
let transport = "";
let finishDownload = null;
const downloaded = new Promise((resolve) => (finishDownload = resolve));

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
    pieces++;
    if (due(pieces)) {
      piece = pieces;
      sample();
    }
  },
  end() {
    ended++;
  },
  abort(e) {
    downloadError = e;
  },
};
const receiveOptions = {
  max_size: 16 * 1024 * 1024,
  sink: () => {
    // the envelope is read, the download not begun
    if (EVERY > 0) {
      const m = sample();
      sinkOpenSlots = m.slots;
      sinkOpenChunkBytes = m.chunkBytes;
    }
    return sinkObject;
  },
  callback: (err, env) => {
    if (err !== null) downloadError = err;
    else {
      declared = env.payloads[0].size;
      transport = env.payloads[0].transport;
    }
    finishDownload();
  },
};

// ---- (b) upload from a source that computes each piece ----------------------------------------

let reads = 0;
let maxRead = 0;
let sourced = 0;
const source = {
  size: SIZE,
  read(offset, into) {
    const n = into.length;
    for (let i = 0; i < n; i++) {
      const p = offset + i;
      into[i] = (p * 13 + (p >>> 11)) & 255;
    }
    sourced += n;
    if (n > maxRead) maxRead = n;
    reads++;
    if (due(reads)) {
      piece = reads;
      sample();
    }
    return n;
  },
};
const outPayloads = [{ dataname: "xs-up.bin", type: "binary", data: source }];
const sendOptions = { fileserver_url: config.files, msg_purpose: "xs-10mb" };
const inSubject = `${prefix}.in`;
const outSubject = `${prefix}.out`;

async function main() {
  say(`budget ${JSON.stringify(budget())}`);
  const nc = await connect({ servers: config.server, name: "xs-bridge-10mb", noRandomize: true });
  smartsubscribe(nc, inSubject, receiveOptions);
  await nc.flush();
  await tick();

  // (a)
  resetSampling();
  const before1 = memory();
  say(`ready ${inSubject}`);
  await downloaded;
  const after1 = memory();
  if (downloadError !== null) fail(`download: ${downloadError.name}: ${downloadError.message}`);
  const download = figures(before1, after1, {
    bytes: got,
    declared,
    transport,
    adler32: ((adlerB << 16) | adlerA) >>> 0,
    pieces,
    maxPiece,
    ended,
    sinkOpen: sinkOpenSlots < 0 ? null : { slots: sinkOpenSlots - before1.slots, chunkBytes: sinkOpenChunkBytes - before1.chunkBytes },
  });
  say(`download ${JSON.stringify(download)}`);

  // (b)
  await tick();
  resetSampling();
  const before2 = memory();
  const sent = await smartsend(nc, outSubject, outPayloads, sendOptions);
  const after2 = memory();
  const upload = figures(before2, after2, {
    bytes: sourced,
    size: sent.payloads[0].size,
    transport: sent.payloads[0].transport,
    url: sent.payloads[0].url,
    reads,
    maxRead,
  });
  say(`upload ${JSON.stringify(upload)}`);
  say(`memory ${JSON.stringify({ download, upload })}`);
  await nc.close();
  Timer.clear(dog);
  say("done");
}

main().catch((e) => fail(`${e?.name}: ${e?.message}`));
