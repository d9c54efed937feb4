// Malformed NATSBridge envelopes for the bridge receiver's fuzz suite, and the driver that feeds
// them, shared by Node (tools/fuzz/bridge-node.mjs) and the XS engine (tools/fuzz/bridge-xs.mjs).
// Plain JS with no Node API. Everything is written into one fixed byte buffer (24 KB), so the
// generator's own memory stays flat inside a device-sized heap; a seed gives the same envelopes on
// both engines.
//
// Each envelope starts from a valid one of six forms (snake_case text, camelCase binary, nested
// dictionary, several payloads of mixed types, a link with its digest, `payload_type` with `data`
// first) and gets one of: byte mutations (flips, inserts of structural, control and non-ASCII
// bytes, deletions, truncation, duplication), deep nesting, huge counts, bad base64, bad URLs, bad
// encodings (invalid UTF-8, NUL, lone surrogates, a BOM), wrong JSON types or absurd numbers.

export const CAPACITY = 24 * 1024;

/** mulberry32: a small seeded PRNG (32-bit state). */
export class Rng {
  constructor(seed) {
    this.s = seed >>> 0;
  }
  next() {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n) {
    return Math.floor(this.next() * n);
  }
  pick(list) {
    return list[this.int(list.length)];
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A byte buffer written front to back; anything past the capacity is cut off. */
export class Out {
  constructor(cap) {
    this.b = new Uint8Array(cap);
    this.n = 0;
  }
  byte(c) {
    if (this.n < this.b.length) this.b[this.n++] = c & 255;
  }
  s(text) {
    for (let i = 0; i < text.length; i++) this.byte(text.charCodeAt(i));
  }
  /** Base64 of `n` bytes from the PRNG; returns the byte count (the payload's size). */
  b64(rng, n) {
    for (let i = 0; i < n; i += 3) {
      const left = n - i;
      const v = (rng.int(256) << 16) | (rng.int(256) << 8) | rng.int(256);
      this.byte(B64.charCodeAt((v >> 18) & 63));
      this.byte(B64.charCodeAt((v >> 12) & 63));
      this.byte(left > 1 ? B64.charCodeAt((v >> 6) & 63) : 61);
      this.byte(left > 2 ? B64.charCodeAt(v & 63) : 61);
    }
    return n;
  }
  /** Base64 of ASCII text. */
  b64text(text) {
    for (let i = 0; i < text.length; i += 3) {
      const a = text.charCodeAt(i);
      const b = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
      const c = i + 2 < text.length ? text.charCodeAt(i + 2) : -1;
      const v = (a << 16) | ((b < 0 ? 0 : b) << 8) | (c < 0 ? 0 : c);
      this.byte(B64.charCodeAt((v >> 18) & 63));
      this.byte(B64.charCodeAt((v >> 12) & 63));
      this.byte(b < 0 ? 61 : B64.charCodeAt((v >> 6) & 63));
      this.byte(c < 0 ? 61 : B64.charCodeAt(v & 63));
    }
  }
}

const HOSTILE_URLS = [
  "http://127.0.0.1:8080/a\r\nX-Injected: 1",
  "http://127.0.0.1:8080/a b",
  "http://user:pw@127.0.0.1/x",
  "http://127.0.0.1@evil.example/x",
  "ftp://127.0.0.1/x",
  "http://127.0.0.1:99999/x",
  "http://[::1]:80/x",
  "http://256.0.0.1/x",
  "http:///x",
  "http://a..b/x",
  "http://127.0.0.1/%zz",
  "http://h\u00e9.example/x",
  "http://127.0.0.1/\u0000",
  "javascript:alert(1)",
  "",
  "http://10.0.0.1/file/a/b/c",
  "http://127.0.0.1:8080/file/a/b/c.bin",
];

const TYPES = ["text", "dictionary", "table", "arrowtable", "jsontable", "image", "audio", "video", "binary", "TEXT", "smell", ""];

function head(o, rng, camel) {
  o.s(camel ? '{"correlationId":"' : '{"correlation_id":"');
  o.s(`c${rng.int(1e6)}`);
  o.s(camel ? '","msgId":"m","timestamp":"2026-11-30T04:00:00.000Z","sendTo":"s","senderName":"f"' : '","msg_id":"m","timestamp":"2026-11-30T04:00:00.000Z","send_to":"s","sender_name":"f"');
  o.s(camel ? ',"replyTo":"","brokerURL":"nats://127.0.0.1:4222"' : ',"reply_to":"","broker_url":"nats://127.0.0.1:4222"');
}

function payload(o, rng, type, n, extra) {
  o.s(`{"id":"p${rng.int(1000)}","dataname":"d${rng.int(1000)}","type":"${type}","transport":"direct","encoding":"base64","size":${n},"metadata":{}${extra},"data":"`);
  o.b64(rng, n);
  o.s('"}');
}

/** One valid envelope of form `form` (0..5). */
function valid(o, rng, form) {
  switch (form) {
    case 0: {
      head(o, rng, false);
      o.s(',"metadata":{"k":[1,2,{"x":null}]},"payloads":[');
      const text = `hello ${rng.int(1e6)}`;
      o.s(`{"id":"p","dataname":"greeting","type":"text","transport":"direct","encoding":"base64","size":${text.length},"data":"`);
      o.b64text(text);
      o.s('"}]}');
      return;
    }
    case 1:
      head(o, rng, true);
      o.s(',"metadata":{},"payloads":[');
      payload(o, rng, "binary", rng.int(600), "");
      o.s("]}");
      return;
    case 2: {
      head(o, rng, false);
      o.s(',"payloads":[');
      const json = `{"a":[1,{"b":[true,false,null]}],"c":"d","n":${rng.int(1000)}}`;
      o.s(`{"id":"p","dataname":"cfg","type":"dictionary","transport":"direct","encoding":"base64","size":${json.length},"data":"`);
      o.b64text(json);
      o.s('"}]}');
      return;
    }
    case 3: {
      head(o, rng, false);
      o.s(',"payloads":[');
      const k = 1 + rng.int(5);
      for (let i = 0; i < k; i++) {
        if (i > 0) o.s(",");
        payload(o, rng, rng.pick(["image", "audio", "video", "binary", "table"]), rng.int(300), "");
      }
      o.s("]}");
      return;
    }
    case 4:
      head(o, rng, false);
      o.s(',"payloads":[{"id":"p","dataname":"f.bin","type":"binary","transport":"link","encoding":"none","size":1000,"metadata":{"digest":"SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="},"data":"http://127.0.0.1:8080/file/a/b/f.bin"}]}');
      return;
    default: {
      o.s('{"payloads":[{"data":"');
      o.b64text("late type");
      o.s('","payload_type":"text","transport":"direct","size":9,"id":"p","dataname":"x"}],"correlation_id":"c"}');
    }
  }
}

/** Writes envelope number `i` of the run seeded `seed` into `o`; returns the kind of malformation. */
export function generate(o, seed, i) {
  const rng = new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  o.n = 0;
  const kind = rng.int(10);
  const form = rng.int(6);
  switch (kind) {
    case 0: // deep nesting, in metadata or a dictionary
      head(o, rng, false);
      if (rng.int(2) === 0) {
        const d = 1 + rng.int(3000);
        o.s(',"metadata":{"a":');
        for (let k = 0; k < d; k++) o.s(rng.int(2) ? "[" : '{"k":');
        o.s("0");
        return "deep";
      }
      {
        const d = 1 + rng.int(1500);
        let json = "";
        for (let k = 0; k < Math.min(d, 6000); k++) json += "[";
        for (let k = 0; k < Math.min(d, 6000); k++) json += "]";
        o.s(`,"payloads":[{"type":"dictionary","size":${json.length},"data":"`);
        o.b64text(json);
        o.s('"}]}');
      }
      return "deep";
    case 1: {
      // huge counts: payloads, metadata members, array elements
      head(o, rng, false);
      const c = 10 + rng.int(900);
      const what = rng.int(3);
      if (what === 0) {
        o.s(',"payloads":[');
        for (let k = 0; k < c; k++) o.s(k ? ',{"type":"binary","data":""}' : '{"type":"binary","data":""}');
        o.s("]}");
      } else if (what === 1) {
        o.s(',"metadata":{');
        for (let k = 0; k < c; k++) o.s(`${k ? "," : ""}"k${k}":${k}`);
        o.s('},"payloads":[]}');
      } else {
        o.s(',"metadata":{"a":[');
        for (let k = 0; k < c * 4; k++) o.s(k ? ",0" : "0");
        o.s(']},"payloads":[]}');
      }
      return "counts";
    }
    case 2: {
      // bad base64: characters outside the alphabet, padding in the middle, stray bits
      head(o, rng, false);
      o.s(',"payloads":[{"id":"p","dataname":"x","type":"binary","transport":"direct","size":9,"data":"');
      const bad = ["AAAA$AAA", "AA==AAAA", "AAB=", "A", "AAAAA===", "-_-_", "AA\\u0000A", "QUJD\\nRA==", "////", "AAAA====", "\u00ff\u00fe"];
      o.s(rng.pick(bad));
      o.s('"}]}');
      return "base64";
    }
    case 3: {
      // bad URLs in link payloads
      head(o, rng, false);
      o.s(',"payloads":[{"id":"p","dataname":"l","type":"binary","transport":"link","size":');
      o.s(String(rng.pick([10, 0, -1, 1e9, 2 ** 53])));
      o.s(',"data":');
      o.s(JSON.stringify(rng.pick(HOSTILE_URLS)));
      o.s("}]}");
      return "url";
    }
    case 4: {
      // bad encodings: invalid UTF-8, NUL, lone surrogates, a BOM, escapes
      if (rng.int(3) === 0) {
        o.byte(0xef);
        o.byte(0xbb);
        o.byte(0xbf);
      }
      head(o, rng, false);
      o.s(',"msg_purpose":"');
      const junk = [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [0xe2, 0x82]];
      for (let k = 0; k < 1 + rng.int(6); k++) for (const b of rng.pick(junk)) o.byte(b);
      o.s(rng.pick(['\\ud800', '\\u0000', '\\uDFFF\\uD800', '\\x41', '\\', '\\u12']));
      o.s('","payloads":[');
      payload(o, rng, rng.pick(TYPES), rng.int(50), "");
      o.s("]}");
      return "encoding";
    }
    case 5: {
      // wrong JSON types and absurd numbers
      head(o, rng, false);
      o.s(
        rng.pick([
          ',"payloads":{}}',
          ',"payloads":"x"}',
          ',"payloads":[1,2]}',
          ',"metadata":[],"payloads":[]}',
          ',"payloads":[{"type":123,"data":""}]}',
          ',"payloads":[{"type":"binary","size":"abc","data":""}]}',
          ',"payloads":[{"type":"binary","size":1e308,"data":""}]}',
          ',"payloads":[{"type":"binary","size":-5,"data":""}]}',
          ',"payloads":[{"type":"binary","size":99999999999999999999999,"data":""}]}',
          ',"payloads":[{"type":"binary","transport":"carrier-pigeon","data":""}]}',
          ',"payloads":[{"type":"binary","data":"","data":""}]}',
          ',"payloads":[],"payloads":[]}',
          ',"correlation_id":{"a":1},"payloads":[]}',
          ',"timestamp":[[[]]],"payloads":[]}',
          ',"payloads":[{"type":"dictionary","size":3,"data":"e30="}]}',
          ',"payloads":[{"type":"binary","size":900000,"data":""}]}',
        ]),
      );
      return "types";
    }
    default: {
      // a valid envelope mutated at the byte level
      valid(o, rng, form);
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits && o.n > 0; e++) mutate(o, rng);
      return "mutated";
    }
  }
}

const INSERTS = [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x5c, 0x2c, 0x3a, 0x00, 0x0a, 0x0d, 0x20, 0x80, 0xff, 0xc0, 0x30, 0x65, 0x2d];

function mutate(o, rng) {
  const b = o.b;
  const at = rng.int(o.n);
  switch (rng.int(6)) {
    case 0: // flip a byte
      b[at] = rng.int(2) ? rng.int(256) : b[at] ^ (1 << rng.int(8));
      return;
    case 1: {
      // insert a few bytes
      const k = 1 + rng.int(4);
      if (o.n + k > b.length) return;
      b.copyWithin(at + k, at, o.n);
      for (let j = 0; j < k; j++) b[at + j] = rng.pick(INSERTS);
      o.n += k;
      return;
    }
    case 2: {
      // delete a range
      const k = 1 + rng.int(Math.min(40, o.n - at));
      b.copyWithin(at, at + k, o.n);
      o.n -= k;
      return;
    }
    case 3: // truncate
      o.n = at;
      return;
    case 4: {
      // duplicate a range, many times
      const k = 1 + rng.int(Math.min(64, o.n - at));
      const times = 1 + rng.int(200);
      for (let t = 0; t < times && o.n + k <= b.length; t++) {
        b.copyWithin(at + k, at, o.n);
        o.n += k;
      }
      return;
    }
    default: // a digit run made huge
      for (let j = at; j < o.n && j < at + 30; j++) if (b[j] >= 48 && b[j] <= 57) b[j] = 57;
  }
}

/**
 * Feeds `count` envelopes into a fresh EnvelopeReceiver (default options: the bounds under test),
 * whole or in random chunks, and checks that every envelope gets exactly one callback, with an
 * envelope or a typed NatsError. `api`: {EnvelopeReceiver, MsgChunk, NatsError}. `env`:
 * {tick(): Promise (one turn of the event loop), sample(): {a, b} heap figures, now(): ms,
 * progress(i)}. Resolves with the counts.
 */
export async function runFuzz(api, env, count, seed) {
  const { EnvelopeReceiver, MsgChunk, NatsError } = api;
  const out = new Out(CAPACITY);
  const r = { seed, envelopes: count, accepted: 0, refused: 0, crashes: 0, hangs: 0, extra: 0, bytes: 0, byKind: {}, byError: {}, samples: 0, heap: null, firstCrash: "" };
  let called = 0;
  const onResult = (err, envelope) => {
    called++;
    if (err === null) {
      if (envelope === null || !Array.isArray(envelope.payloads) || envelope.payloads.length > 16) {
        r.crashes++;
        if (r.firstCrash === "") r.firstCrash = "an envelope callback without a sane envelope";
      } else r.accepted++;
      return;
    }
    if (err instanceof NatsError) {
      r.refused++;
      r.byError[err.name] = (r.byError[err.name] ?? 0) + 1;
    } else {
      r.crashes++;
      if (r.firstCrash === "") r.firstCrash = `${err?.name}: ${err?.message}`;
    }
  };
  const rx = new EnvelopeReceiver(onResult);
  const pieces = new Rng(seed ^ 0x5bd1e995);
  const heap = { first: null, max: null, last: null };
  for (let i = 0; i < count; i++) {
    const kind = generate(out, seed, i);
    r.byKind[kind] = (r.byKind[kind] ?? 0) + 1;
    r.bytes += out.n;
    const n = out.n;
    const before = called;
    try {
      if (n === 0 || pieces.int(2) === 0) rx.push({ data: out.b.subarray(0, n), subject: "fuzz", reply: "", headers: undefined });
      else {
        for (let at = 0; at < n; ) {
          const step = 1 + pieces.int(Math.min(n - at, pieces.int(2) ? 7 : 2048));
          rx.push(new MsgChunk(null, "fuzz", 1, "", null, out.b.subarray(at, at + step), at, n, at + step >= n));
          at += step;
        }
      }
    } catch (e) {
      r.crashes++;
      if (r.firstCrash === "") r.firstCrash = `push threw ${e?.name}: ${e?.message}`;
      called++;
    }
    // one callback per envelope: at once, or after its (refused) links on a later turn
    const deadline = env.now() + 5000;
    while (called === before && env.now() < deadline) await env.tick();
    if (called === before) {
      r.hangs++;
      called++;
    }
    if (called > before + 1) r.extra += called - before - 1;
    if (i % 250 === 0 || i === count - 1) {
      const h = env.sample();
      r.samples++;
      if (heap.first === null) heap.first = h;
      heap.max = heap.max === null ? h : { a: Math.max(heap.max.a, h.a), b: Math.max(heap.max.b, h.b) };
      heap.last = h;
      if (env.trace !== undefined) env.trace(`heap ${i} ${h.a} ${h.b}`);
    }
    if (env.progress !== undefined) env.progress(i);
  }
  r.heap = heap;
  r.stats = rx.stats();
  return r;
}
