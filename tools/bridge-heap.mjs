#!/usr/bin/env node
// Measures what the NATSBridge streaming paths allocate per chunk, on the built dist/ code:
//   node --import ./host-sim/register.js --max-semi-space-size=256 tools/bridge-heap.mjs
// With a young generation that large, no scavenge runs during a measured loop, so the growth of
// heapUsed over N chunks divided by N is what each chunk allocates (GC noise aside). Inputs (the
// envelope bytes, the views handed in) are made before each loop and are not counted.
//   receive: EnvelopeScanner.push() of 1024-byte chunks of a direct payload's base64, into a sink
//   send:    the envelope writer's pieces (768 payload bytes -> 1024 base64 characters each)
// The HTTP link path reads 1024-byte pieces into a fixed buffer and hands the sink a view of it;
// its per-read cost is the view (same order as `receive` below) plus the host simulator's own
// socket buffers, which a board does not have, so it is not measured here.
import { EnvelopeScanner, smartsend } from "nats-xs/bridge";

const CHUNK = 1024;

function heap() {
  return process.memoryUsage().heapUsed;
}

function envelopeBytes(payloadBytes) {
  const data = Buffer.alloc(payloadBytes, 7).toString("base64");
  return new TextEncoder().encode(JSON.stringify({ correlation_id: "c", msg_id: "m", payloads: [{ id: "p", dataname: "x", type: "binary", transport: "direct", encoding: "base64", size: payloadBytes, data }] }));
}

function measureReceive(chunks) {
  const bytes = envelopeBytes(Math.floor((chunks * CHUNK * 3) / 4));
  const views = [];
  for (let i = 0; i < bytes.length; i += CHUNK) views.push(bytes.subarray(i, i + CHUNK));
  let seen = 0;
  const sink = { write: (b) => { seen += b.length; } };
  const scanner = new EnvelopeScanner({ maxSize: 1 << 30, maxFieldBytes: 2048, sink: () => sink });
  // warm up (JIT, first allocations of the scanner's buffers)
  scanner.begin();
  for (const v of views) scanner.push(v);
  scanner.end();
  scanner.begin();
  const before = heap();
  for (const v of views) scanner.push(v);
  const after = heap();
  scanner.end();
  return { chunks: views.length, perChunk: (after - before) / views.length, decoded: seen };
}

async function measureSend(pieces) {
  const data = new Uint8Array(pieces * 768);
  let written = 0;
  let count = 0;
  const nc = {
    info: { max_payload: 1 << 30 },
    options: { name: "heap", inboxPrefix: "_INBOX", maxPendingBytes: 32768, outboundBufferBytes: 2048 },
    getServer: () => "127.0.0.1:4222",
    publish() {},
    // the connection's side of nats-xs/stream's publishStream
    streaming: null,
    openStream() {},
    streamWrite(_w, b) {
      written += b.length;
      count++;
      return 0;
    },
    streamEnd() {},
    streamAbort() {},
  };
  await smartsend(nc, "heap.x", [{ dataname: "x", type: "binary", data }]);
  count = 0;
  const before = heap();
  await smartsend(nc, "heap.x", [{ dataname: "x", type: "binary", data }]);
  const after = heap();
  return { pieces: count, perPiece: (after - before) / count, written };
}

const rx = measureReceive(20000);
const tx = await measureSend(20000);
const result = {
  receive_bytes_per_1024_byte_chunk: Math.round(rx.perChunk),
  receive_chunks: rx.chunks,
  send_bytes_per_piece: Math.round(tx.perPiece),
  send_pieces: tx.pieces,
};
console.log(JSON.stringify(result, null, 2));
