// Parser throughput: pre-built MSG frames fed to nats-xs's Parser in a loop, timed with Date.now().
// Runs unchanged on the XS engine (`npm run xs -- bench/xs-parser.mjs --preload nats-xs`) and on
// Node (`node --import ./host-sim/register.js bench/xs-parser.mjs`). The stream is fed in slices of
// 1024 bytes, the client's default read size, so frames split across reads are part of the figure.
// Prints one JSON line: [{ size, msgs, mbps }] per payload size.
import { Delivery, Parser } from "nats-xs";
import TextDecoder from "text/decoder";
import { frames } from "./xs/frames.mjs";

const SIZES = [16, 128, 1024];
const STREAM_BYTES = 16 * 1024; // fits the ESP32 chunk budget next to the parser's scratch
const SLICE = 1024;
const MS = 1000; // per payload size

class Counter {
  msgs = 0;
  bytes = 0;
  onInfo() {}
  onPing() {}
  onPong() {}
  onOk() {}
  onErr() {}
  onMsgHead() {
    return Delivery.Whole;
  }
  // null: the parser decodes every subject, as it must for wildcard subscriptions
  literalSubject() {
    return null;
  }
  onMsg(_hdr, data) {
    this.msgs++;
    this.bytes += data.length;
  }
  onChunk() {}
  onProtocolError(message) {
    throw new Error(message);
  }
}

const rows = [];
for (const size of SIZES) {
  const stream = frames(size, STREAM_BYTES);
  const sink = new Counter();
  const parser = new Parser(sink, new TextDecoder(), 4096);
  const feed = () => {
    for (let p = 0; p < stream.length; p += SLICE) parser.parse(stream, p, Math.min(stream.length, p + SLICE));
  };
  for (let i = 0; i < 20; i++) feed(); // warm-up
  sink.msgs = 0;
  sink.bytes = 0;
  let passes = 0;
  const t0 = Date.now();
  let elapsed = 0;
  do {
    feed();
    passes++;
    elapsed = Date.now() - t0;
  } while (elapsed < MS);
  const seconds = elapsed / 1000;
  rows.push({ size, msgs: Math.round(sink.msgs / seconds), mbps: (passes * stream.length) / seconds / 1e6, payloadMbps: sink.bytes / seconds / 1e6 });
}
trace(`${JSON.stringify(rows)}\n`);
