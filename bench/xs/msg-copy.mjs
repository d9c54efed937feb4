// What the safe default of msg.data costs per message (issue 13, point 2): MSG frames fed to the
// Parser as in bench/xs-parser.mjs, and each message built as the connection builds it for a
// callback, once as views of the receive memory (`zeroCopy: true`) and once with its bytes copied
// (the default). Runs on the XS engine (`npm run xs -- bench/xs/msg-copy.mjs --preload nats-xs`)
// and on Node (`node --import ./host-sim/register.js bench/xs/msg-copy.mjs`). Prints one JSON
// line: per payload size, messages per second both ways and the extra microseconds per message.
import { Delivery, Msg, Parser } from "nats-xs";
import TextDecoder from "text/decoder";
import { frames } from "./frames.mjs";

const SIZES = [16, 128, 1024];
const STREAM_BYTES = 16 * 1024;
const SLICE = 1024;
const MS = 1000;

class Sink {
  msgs = 0;
  bytes = 0;
  copy = false;
  decoder = new TextDecoder();
  subject = "";
  onInfo() {}
  onPing() {}
  onPong() {}
  onOk() {}
  onErr() {}
  onMsgHead(subject) {
    this.subject = subject;
    return Delivery.Whole;
  }
  literalSubject() {
    return null;
  }
  onMsg(hdr, data) {
    const msg = this.copy
      ? new Msg(this, this.subject, 1, "", hdr === null ? null : hdr.slice(), data.slice())
      : new Msg(this, this.subject, 1, "", hdr, data);
    this.msgs++;
    this.bytes += msg.data.length;
  }
  onChunk() {}
  onProtocolError(message) {
    throw new Error(message);
  }
  publish() {}
}

function rate(stream, copy) {
  const sink = new Sink();
  sink.copy = copy;
  const parser = new Parser(sink, sink.decoder, 4096);
  const feed = () => {
    for (let p = 0; p < stream.length; p += SLICE) parser.parse(stream, p, Math.min(stream.length, p + SLICE));
  };
  for (let i = 0; i < 20; i++) feed();
  sink.msgs = 0;
  const t0 = Date.now();
  let elapsed = 0;
  do {
    feed();
    elapsed = Date.now() - t0;
  } while (elapsed < MS);
  return sink.msgs / (elapsed / 1000);
}

const rows = [];
for (const size of SIZES) {
  const stream = frames(size, STREAM_BYTES);
  // interleaved, best of three each, so that a busy host does not favour one side
  let view = 0;
  let copied = 0;
  for (let round = 0; round < 3; round++) {
    view = Math.max(view, rate(stream, false));
    copied = Math.max(copied, rate(stream, true));
  }
  rows.push({ size, viewMsgs: Math.round(view), copyMsgs: Math.round(copied), extraMicros: Math.round((1e6 / copied - 1e6 / view) * 100) / 100 });
}
trace(`${JSON.stringify(rows)}\n`);
