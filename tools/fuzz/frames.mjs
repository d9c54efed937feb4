// Generated NATS server frames for the fuzz suites: valid, mutated and malformed, from a seeded
// generator so that a seed names a run exactly. Plain ES module with no imports and no host APIs,
// so that it runs unchanged on Node and on the XS engine.

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bytes of an ASCII (Latin-1) string. */
export function ascii(s) {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Frame kinds, as counted in reports. */
export const KINDS = Object.freeze(["valid", "mutated", "malformed"]);

const TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789_-";

/**
 * A generator of frames. `next()` returns { kind, bytes } with kind 0 valid, 1 mutated,
 * 2 malformed, in the proportions `mix` gives (default 70/20/10 percent). `port` is what INFO
 * frames announce in connect_urls (so that a connection under fuzz only ever learns its own server).
 */
export function frames(seed, options = {}) {
  const rnd = random(seed);
  const pick = (n) => Math.floor(rnd() * n);
  const mix = options.mix ?? [70, 20, 10];
  const sids = options.sids ?? 6;
  const port = options.port ?? 4222;
  const token = () => {
    let s = "";
    const n = 1 + pick(6);
    for (let i = 0; i < n; i++) s += TOKEN[pick(TOKEN.length)];
    return s;
  };
  // bytes are made straight into typed arrays: on XS under the ESP32 budget the generator itself
  // must not need more than the device has (no long strings, no arrays of numbers)
  const payload = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = pick(256);
    return b;
  };
  const size = () => {
    const r = pick(100);
    return r < 60 ? pick(32) : r < 90 ? pick(600) : r < 98 ? 3000 + pick(3000) : 6000 + pick(6000);
  };
  /** head + payload + tail as one array. */
  const frame = (head, body, tail) => {
    const h = ascii(head);
    const out = new Uint8Array(h.length + body.length + tail.length);
    out.set(h, 0);
    out.set(body, h.length);
    out.set(ascii(tail), h.length + body.length);
    return out;
  };
  const EMPTY = new Uint8Array(0);
  const sep = () => (pick(10) === 0 ? "\t" : " ");
  const op = (name) => (pick(8) === 0 ? name.toLowerCase() : name);

  function valid() {
    const k = pick(20);
    if (k < 9) {
      const n = size();
      const reply = pick(3) === 0 ? `${sep()}_INBOX.${token()}` : "";
      return frame(`${op("MSG")}${sep()}fz.${token()}${sep()}${1 + pick(sids)}${reply}${sep()}${n}\r\n`, payload(n), "\r\n");
    }
    if (k < 13) {
      const status = pick(4) === 0 ? ` ${[503, 404, 408, 100][pick(4)]}` : "";
      let h = `NATS/1.0${status}\r\n`;
      const keys = pick(4);
      for (let i = 0; i < keys; i++) h += `${token()}:${pick(2) ? " " : ""}${token()}\r\n`;
      h += "\r\n";
      const n = size();
      return frame(`${op("HMSG")}${sep()}fz.${token()}${sep()}${1 + pick(sids)}${sep()}${h.length}${sep()}${h.length + n}\r\n${h}`, payload(n), "\r\n");
    }
    if (k < 15) return frame(`${op("PING")}\r\n`, EMPTY, "");
    if (k < 16) return frame(`${op("PONG")}\r\n`, EMPTY, "");
    if (k < 17) return frame(`${op("+OK")}\r\n`, EMPTY, "");
    if (k < 18) return frame(`-ERR 'Invalid Subject'\r\n`, EMPTY, "");
    if (k < 19) return frame(`-ERR 'Permissions Violation for Publish to "fz.${token()}"'\r\n`, EMPTY, "");
    return frame(`INFO {"server_id":"FZ","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576,"connect_urls":["127.0.0.1:${port}"]${pick(4) === 0 ? ',"ldm":true' : ""}} \r\n`, EMPTY, "");
  }

  /** `b` with `insert` put at `at` in place of `remove` bytes. */
  const splice = (b, at, remove, insert) => {
    const out = new Uint8Array(b.length - remove + insert.length);
    out.set(b.subarray(0, at), 0);
    out.set(insert, at);
    out.set(b.subarray(at + remove), at + insert.length);
    return out;
  };
  const ONE = new Uint8Array(1);

  function mutate(b) {
    const times = 1 + pick(3);
    for (let t = 0; t < times && b.length > 0; t++) {
      const at = pick(b.length);
      const m = pick(7);
      if (m === 0) b[at] ^= 1 << pick(8);
      else if (m === 1) b = splice(b, at, 1, EMPTY);
      else if (m === 2) {
        ONE[0] = pick(256);
        b = splice(b, at, 0, ONE);
      } else if (m === 3) b = b.slice(0, at);
      else if (m === 4) b = splice(b, at, 0, b.slice(at, at + 1 + pick(16)));
      else if (m === 5) b[at] = [13, 10, 32, 9, 48 + pick(10)][pick(5)];
      else b = splice(b, at, 0, ascii(String(pick(1e9))));
    }
    return b;
  }

  function malformed() {
    const k = pick(14);
    if (k === 0) return payload(1 + pick(64));
    if (k === 1) return ascii(`MSG fz.a 1 ${pick(2) ? "99999999999999" : "1" + "0".repeat(14)}\r\n`);
    if (k === 2) return ascii(`MSG fz.a 1 -5\r\n`);
    if (k === 3) return ascii(`MSG ${"a".repeat(1000 + pick(6000))} 1 0\r\n\r\n`);
    if (k === 4) return ascii(`INFO ${"[".repeat(200 + pick(3000))}\r\n`);
    if (k === 5) return ascii(`INFO {"a":${"[".repeat(100)}${"]".repeat(100)}} \r\n`);
    if (k === 6) return ascii(`INFO null\r\n`);
    if (k === 7) return ascii(`INFO {"connect_urls":[${'"x",'.repeat(300)}"y"],"max_payload":1e400} \r\n`);
    if (k === 8) return ascii(`HMSG fz.a 1 5 3\r\nabc\r\n`);
    if (k === 9) return ascii(`MSG\r\n`);
    if (k === 10) return ascii(`MSG fz.a 1 2 3 4 5 6 7\r\n`);
    if (k === 11) return ascii(`MSG fz.a 1 3\r\nabcdef\r\n`);
    if (k === 12) return ascii(`${"P".repeat(1 + pick(5000))}\r\n`);
    return frame("-ERR '", payload(pick(200)), "'\r\n");
  }

  const total = mix[0] + mix[1] + mix[2];
  return {
    next() {
      const r = pick(total);
      if (r < mix[0]) return { kind: 0, bytes: valid() };
      if (r < mix[0] + mix[1]) return { kind: 1, bytes: mutate(valid()) };
      return { kind: 2, bytes: malformed() };
    },
    /** A number in [0, n) from the same sequence (to cut streams at random points). */
    pick,
  };
}

/**
 * Feeds `count` generated frames into a fresh Parser per protocol error, cutting the stream at
 * random points, and checks what no input may break: parse() never throws, never hands out a view
 * longer than announced, and never grows its scratch past its capacity. Returns counts.
 */
export function fuzzParser(Parser, Delivery, decoder, seed, count, onProgress) {
  const gen = frames(seed);
  const counts = { frames: 0, valid: 0, mutated: 0, malformed: 0, messages: 0, chunks: 0, protocolErrors: 0, failures: [] };
  const capacity = 4096;
  let delivery = Delivery.Whole;
  let head = 0;
  const fail = (why) => {
    if (counts.failures.length < 10) counts.failures.push(why);
  };
  const sink = {
    onInfo() {},
    onPing() {},
    onPong() {},
    onOk() {},
    onErr() {},
    onMsgHead(subject, sid, reply, hdrLen, total) {
      head = total - hdrLen;
      // sids 1-2 whole, 3-4 in chunks, others discarded; too large for whole: discarded
      delivery = sid <= 2 ? (total <= capacity ? Delivery.Whole : Delivery.Discard) : sid <= 4 ? (hdrLen <= capacity ? Delivery.Chunks : Delivery.Discard) : Delivery.Discard;
      return delivery;
    },
    onMsg(hdr, data) {
      counts.messages++;
      if (data.length !== head) fail(`a whole message of ${data.length} bytes announced ${head}`);
    },
    onChunk(hdr, offset, bytes, last) {
      counts.chunks++;
      if (offset + bytes.length > head) fail(`a chunk past the announced size (${offset}+${bytes.length} > ${head})`);
    },
    onProtocolError() {
      counts.protocolErrors++;
    },
  };
  const parser = new Parser(sink, decoder, capacity);
  counts.resyncs = 0;
  for (let i = 0; i < count; i++) {
    const f = gen.next();
    counts.frames++;
    counts[KINDS[f.kind]]++;
    const b = f.bytes;
    const wasIdle = parser.idle;
    let at = 0;
    while (at < b.length) {
      const n = 1 + gen.pick(b.length - at);
      try {
        parser.parse(b, at, at + n);
      } catch (e) {
        fail(`parse threw ${e}`);
        parser.reset();
      }
      at += n;
    }
    if (parser.scratchBytes > capacity) fail(`scratch grew to ${parser.scratchBytes}`);
    if (!parser.idle) {
      // a valid frame read from a frame boundary must end on one
      if (f.kind === 0 && wasIdle) fail(`a valid frame left the parser inside a frame: ${JSON.stringify(String.fromCharCode(...b.subarray(0, 40)))}`);
      // otherwise the stream is out of step (a huge announced size, a cut frame): a connection
      // would be dropped here (protocol error or receiveTimeout); start the next frame afresh
      parser.reset();
      counts.resyncs++;
    }
    if (onProgress !== undefined && (i + 1) % 100000 === 0) onProgress(counts);
  }
  return counts;
}
