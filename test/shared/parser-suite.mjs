// The parser suite: fixtures fed whole, byte by byte and split at every point, plus a fuzz run
// with a fixed seed. Plain ES module with no imports, so that it runs unchanged on Node (vitest)
// and on the XS engine (test/xs/parser.mjs): the caller hands in the built Parser and a decoder.

const CAPACITY = 96;

function bytes(s) {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function text(b) {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

// sids 1-9 are delivered whole, 10-19 in chunks, 20 and up discarded
function deliveryFor(Delivery, sid) {
  return sid < 10 ? Delivery.Whole : sid < 20 ? Delivery.Chunks : Delivery.Discard;
}

/** A sink that records what the parser reports, copying bytes at callback time. */
function recorder(Delivery) {
  const events = [];
  let head = null;
  let chunks = null;
  let nextOffset = 0;
  return {
    events,
    onInfo(buf, s, e) { events.push(`INFO ${text(buf.subarray(s, e))}`); },
    onPing() { events.push("PING"); },
    onPong() { events.push("PONG"); },
    onOk() { events.push("+OK"); },
    onErr(buf, s, e) { events.push(`-ERR ${text(buf.subarray(s, e))}`); },
    onMsgHead(subject, sid, reply, hdrLen, total) {
      head = { subject, sid, reply, hdrLen, total };
      chunks = "";
      nextOffset = 0;
      const d = deliveryFor(Delivery, sid);
      if (d === Delivery.Discard) events.push(`SKIP ${subject} ${sid} ${total}`);
      return d;
    },
    onMsg(hdr, data) {
      events.push(`MSG ${head.subject} ${head.sid} ${head.reply || "-"} [${hdr === null ? "" : text(hdr)}] [${text(data)}]`);
    },
    onChunk(hdr, offset, data, last, size) {
      if (offset !== nextOffset) events.push(`BAD OFFSET ${offset} != ${nextOffset}`);
      if (size !== head.total - head.hdrLen) events.push(`BAD SIZE ${size} != ${head.total - head.hdrLen}`);
      nextOffset += data.length;
      chunks += text(data);
      if (last) events.push(`MSG ${head.subject} ${head.sid} ${head.reply || "-"} [${hdr === null ? "" : text(hdr)}] [${chunks}]`);
    },
    onProtocolError(message) { events.push("PROTOCOL ERROR"); this.lastError = message; },
  };
}

function hmsg(subject, sid, reply, hdr, payload) {
  const total = hdr.length + payload.length;
  return `HMSG ${subject} ${sid}${reply ? " " + reply : ""} ${hdr.length} ${total}\r\n${hdr}${payload}\r\n`;
}

const HDR = "NATS/1.0\r\nA: B\r\nc:d\r\nA: second value\r\n\r\n";
const BINARY = (() => {
  let s = "";
  for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
  return s;
})();
const LONG = "x".repeat(300);

/** [name, stream, expected events] */
export const FIXTURES = [
  ["INFO", `INFO {"server_id":"S","max_payload":1048576} \r\n`, [`INFO {"server_id":"S","max_payload":1048576} `]],
  ["PING PONG +OK", "PING\r\nPONG\r\n+OK\r\n", ["PING", "PONG", "+OK"]],
  ["op names in lower case", "ping\r\nmsg foo 1 2\r\nhi\r\n", ["PING", "MSG foo 1 - [] [hi]"]],
  ["-ERR", "-ERR 'Unknown Protocol Operation'\r\n", ["-ERR 'Unknown Protocol Operation'"]],
  ["MSG", "MSG foo.bar 1 5\r\nhello\r\n", ["MSG foo.bar 1 - [] [hello]"]],
  ["MSG with reply", "MSG foo.bar 2 _INBOX.x.y 5\r\nhello\r\n", ["MSG foo.bar 2 _INBOX.x.y [] [hello]"]],
  ["tabs and repeated spaces", "MSG\tfoo\t 3 \t5\r\nhello\r\n", ["MSG foo 3 - [] [hello]"]],
  ["empty payload", "MSG foo 1 0\r\n\r\nPING\r\n", ["MSG foo 1 - [] []", "PING"]],
  ["payload holding CRLF and a fake frame", "MSG foo 1 13\r\n\r\nMSG x 1 2\r\n\r\n", ["MSG foo 1 - [] [\r\nMSG x 1 2\r\n]"]],
  ["all byte values", `MSG bin 13 256\r\n${BINARY}\r\n`, [`MSG bin 13 - [] [${BINARY}]`]],
  ["whole delivery asked for a message beyond the scratch", `MSG bin 4 256\r\n${BINARY}\r\n`, ["PROTOCOL ERROR"]],
  ["HMSG with repeated keys and a bare colon", hmsg("h.s", 5, "", HDR, "body"), [`MSG h.s 5 - [${HDR}] [body]`]],
  ["HMSG status 503 with no payload", hmsg("_INBOX.a.1", 6, "", "NATS/1.0 503\r\n\r\n", ""), ["MSG _INBOX.a.1 6 - [NATS/1.0 503\r\n\r\n] []"]],
  ["HMSG with reply", hmsg("h", 7, "r.1", "NATS/1.0\r\nK: V\r\n\r\n", "x"), ["MSG h 7 r.1 [NATS/1.0\r\nK: V\r\n\r\n] [x]"]],
  ["chunked MSG larger than the scratch", `MSG big 10 300\r\n${LONG}\r\n`, [`MSG big 10 - [] [${LONG}]`]],
  ["chunked HMSG", hmsg("big", 11, "r", HDR, LONG), [`MSG big 11 r [${HDR}] [${LONG}]`]],
  ["chunked empty payload", "MSG e 12 0\r\n\r\n", ["MSG e 12 - [] []"]],
  ["discarded message", `MSG gone 20 300\r\n${LONG}\r\nPONG\r\n`, ["SKIP gone 20 300", "PONG"]],
  ["frames back to back", "MSG a 1 1\r\nA\r\nMSG b 1 1\r\nB\r\nPING\r\n", ["MSG a 1 - [] [A]", "MSG b 1 - [] [B]", "PING"]],
  ["stray blank lines between frames", "\r\nPING\r\n\r\n", ["PING"]],
  ["bare LF line ends", "PING\nMSG a 1 1\nA\n", ["PING", "MSG a 1 - [] [A]"]],
  ["unknown operation", "XYZ\r\n", ["PROTOCOL ERROR"]],
  ["MSG without size", "MSG foo 1\r\nPING\r\n", ["PROTOCOL ERROR"]],
  ["MSG with a bad number", "MSG foo 1 x5\r\n", ["PROTOCOL ERROR"]],
  ["payload longer than announced", "MSG a 1 2\r\nabc\r\n", ["PROTOCOL ERROR"]],
  ["control line beyond the scratch", `MSG ${"s".repeat(CAPACITY + 10)} 1 1\r\nA\r\n`, ["PROTOCOL ERROR"]],
];

/** Feeds `stream` to a new parser in the given pieces; after each piece the buffer is overwritten,
 *  as a socket read buffer is, so that anything kept past a callback shows up as garbage. */
function run(Parser, Delivery, decoder, stream, cuts) {
  const sink = recorder(Delivery);
  const parser = new Parser(sink, decoder, CAPACITY);
  let prev = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut <= prev && cut !== stream.length) continue;
    const piece = new Uint8Array(cut - prev + 8);
    piece.set(stream.subarray(prev, cut), 4);
    parser.parse(piece, 4, 4 + cut - prev);
    piece.fill(0xee);
    prev = cut;
    if (sink.events[sink.events.length - 1] === "PROTOCOL ERROR") break;
  }
  return sink.events;
}

function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs every fixture whole, byte by byte, at every split point, and all of them as one stream
 *  split at every point. Returns { passed, failed, failures }. */
export function runFixtures(Parser, Delivery, decoder) {
  let passed = 0;
  const failures = [];
  const check = (name, got, want) => {
    if (same(got, want)) passed++;
    else failures.push(`${name}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
  };
  for (const [name, s, want] of FIXTURES) {
    const stream = bytes(s);
    check(`${name} (whole)`, run(Parser, Delivery, decoder, stream, []), want);
    const each = [];
    for (let i = 1; i < stream.length; i++) each.push(i);
    check(`${name} (byte by byte)`, run(Parser, Delivery, decoder, stream, each), want);
    for (let i = 1; i < stream.length; i++) check(`${name} (split at ${i})`, run(Parser, Delivery, decoder, stream, [i]), want);
  }
  // every valid fixture in one stream, cut in two at every point and in three around each frame end
  const valid = FIXTURES.filter((f) => f[2].indexOf("PROTOCOL ERROR") < 0);
  const all = bytes(valid.map((f) => f[1]).join(""));
  const wantAll = valid.flatMap((f) => f[2]);
  for (let i = 1; i < all.length; i++) check(`stream (split at ${i})`, run(Parser, Delivery, decoder, all, [i]), wantAll);
  return { passed, failed: failures.length, failures: failures.slice(0, 10) };
}

/** Deterministic PRNG (mulberry32), so that a failing fuzz run can be repeated. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random valid streams of frames, cut at random points; the parser must report exactly the
 *  frames generated, in order. Returns { passed, failed, failures }. */
export function runFuzz(Parser, Delivery, decoder, seed = 20261122, rounds = 300) {
  const rnd = random(seed);
  const pick = (n) => Math.floor(rnd() * n);
  const token = () => {
    const chars = "abcdefghijklmnopqrstuvwxyz0123456789_-";
    let s = "";
    const n = 1 + pick(8);
    for (let i = 0; i < n; i++) s += chars[pick(chars.length)];
    return s;
  };
  const payload = (max) => {
    let s = "";
    const n = pick(max + 1);
    for (let i = 0; i < n; i++) s += String.fromCharCode(pick(256));
    return s;
  };
  let passed = 0;
  const failures = [];
  for (let r = 0; r < rounds; r++) {
    let stream = "";
    const want = [];
    const frames = 1 + pick(12);
    for (let f = 0; f < frames; f++) {
      const kind = pick(6);
      const subject = `${token()}.${token()}`;
      const reply = pick(2) ? `_INBOX.${token()}` : "";
      if (kind === 0) {
        stream += pick(2) ? "PING\r\n" : "PONG\r\n";
        want.push(stream.endsWith("PING\r\n") ? "PING" : "PONG");
      } else if (kind === 1) {
        stream += "+OK\r\n";
        want.push("+OK");
      } else {
        const sid = [1, 2, 10, 11, 20][pick(5)];
        const body = payload(sid < 10 ? CAPACITY - 40 : 400);
        const hdr = kind >= 4 ? `NATS/1.0\r\n${token()}: ${token()}\r\n\r\n` : "";
        if (hdr === "") stream += `MSG ${subject} ${sid}${reply ? " " + reply : ""} ${body.length}\r\n${body}\r\n`;
        else stream += hmsg(subject, sid, reply, hdr, body);
        if (sid >= 20) want.push(`SKIP ${subject} ${sid} ${hdr.length + body.length}`);
        else want.push(`MSG ${subject} ${sid} ${reply || "-"} [${hdr}] [${body}]`);
      }
    }
    const b = bytes(stream);
    const cuts = [];
    const n = pick(8);
    for (let i = 0; i < n; i++) cuts.push(1 + pick(b.length - 1));
    cuts.sort((x, y) => x - y);
    const got = run(Parser, Delivery, decoder, b, cuts);
    if (same(got, want)) passed++;
    else if (failures.length < 5) failures.push(`round ${r} cuts ${cuts}: got ${JSON.stringify(got).slice(0, 300)} want ${JSON.stringify(want).slice(0, 300)}`);
    else failures.push("");
  }
  return { passed, failed: failures.length, failures: failures.filter((f) => f !== "") };
}
