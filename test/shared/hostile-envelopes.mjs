// NATSBridge envelopes an attacker would send a device, as JSON text: each one small, each one
// aimed at a bound of the receiver (docs/bridge.md, "Bounds and defaults"). Plain JS with no Node
// API: the tests send them from Node, and the fuzz suite builds them inside the XS engine too.

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (padded) of the UTF-8 / ASCII text `text` (ASCII only here). */
export function base64Ascii(text) {
  let out = "";
  for (let i = 0; i < text.length; i += 3) {
    const a = text.charCodeAt(i);
    const b = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
    const c = i + 2 < text.length ? text.charCodeAt(i + 2) : -1;
    const n = (a << 16) | ((b < 0 ? 0 : b) << 8) | (c < 0 ? 0 : c);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (b < 0 ? "=" : B64[(n >> 6) & 63]) + (c < 0 ? "=" : B64[n & 63]);
  }
  return out;
}

function nest(n) {
  return "[".repeat(n) + "]".repeat(n);
}

function envelope(id, rest) {
  return `{"correlation_id":"${id}","msg_id":"m-${id}","timestamp":"2026-11-30T04:00:00.000Z","sender_name":"attacker"${rest}}`;
}

/** JSON nested `n` levels deep in the envelope's metadata (n = 300: 654 bytes). */
export function deepMetadata(id, n) {
  return envelope(id, `,"metadata":{"a":${nest(n)}},"payloads":[]`);
}

/** A dictionary payload whose JSON is nested `n` levels deep (n = 300: about 1 KB). */
export function deepDictionary(id, n) {
  const data = base64Ascii(nest(n));
  return envelope(id, `,"payloads":[{"id":"p","dataname":"d","type":"dictionary","transport":"direct","encoding":"base64","size":${2 * n},"data":"${data}"}]`);
}

/** `n` empty payloads (n = 1000: about 28 KB). */
export function manyPayloads(id, n) {
  const one = '{"type":"binary","data":""}';
  return envelope(id, `,"payloads":[${new Array(n).fill(one).join(",")}]`);
}

/** Metadata holding `n` JSON values in one small field (n = 1000: about 2 KB). */
export function manyValues(id, n) {
  return envelope(id, `,"metadata":{"a":[${new Array(n).fill("0").join(",")}]},"payloads":[]`);
}

/** Eight string fields and a metadata member `bytes` long each: within max_field_bytes one by one,
 *  18 KB together (bytes = 2000). */
export function heavyFields(id, bytes) {
  const v = "x".repeat(bytes);
  const names = ["send_to", "msg_purpose", "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id", "broker_url"];
  let rest = "";
  for (const k of names) rest += `,"${k}":"${v}"`;
  return envelope(id, `${rest},"metadata":{"a":"${v}"},"payloads":[]`);
}

/** A direct payload declaring `size` bytes and carrying none: a receiver that allocates what is
 *  declared before the bytes come runs out of memory. */
export function hugeDeclaredSize(id, size) {
  return envelope(id, `,"payloads":[{"id":"p","dataname":"big","type":"binary","transport":"direct","encoding":"base64","size":${size},"data":""}]`);
}

/** One envelope at the default bounds, accepted: 16 payloads (a 12 KB text, a dictionary of 100
 *  members, 14 empty binaries), metadata nested 30 deep: 231 JSON values, 101 property names. */
export function atDefaultBounds(id) {
  const text = "t".repeat(12 * 1024);
  let dict = "{";
  for (let i = 0; i < 100; i++) dict += `${i === 0 ? "" : ","}"k${i}":${i}`;
  dict += "}";
  const payloads = [
    `{"id":"t","dataname":"text","type":"text","transport":"direct","encoding":"base64","size":${text.length},"data":"${base64Ascii(text)}"}`,
    `{"id":"d","dataname":"dict","type":"dictionary","transport":"direct","encoding":"base64","size":${dict.length},"data":"${base64Ascii(dict)}"}`,
  ];
  for (let i = 0; i < 14; i++) payloads.push(`{"id":"b${i}","dataname":"b${i}","type":"binary","transport":"direct","encoding":"base64","size":0,"data":""}`);
  return envelope(id, `,"metadata":{"deep":${nest(30)}},"payloads":[${payloads.join(",")}]`);
}

/** A plain, valid envelope with one text payload. */
export function plain(id) {
  return envelope(id, `,"payloads":[{"id":"p","dataname":"hello","type":"text","transport":"direct","encoding":"base64","size":5,"data":"${base64Ascii("hello")}"}]`);
}

/** A link payload with its URL, declared size and (optionally) its digest in metadata. */
export function link(id, url, size, digest) {
  const meta = digest === undefined ? "{}" : `{"digest":"${digest}"}`;
  return envelope(id, `,"payloads":[{"id":"p","dataname":"file.bin","type":"binary","transport":"link","encoding":"none","size":${size},"metadata":${meta},"data":${JSON.stringify(url)}}]`);
}

/** The attacks, each with the bound it hits (the error's `option`), as the XS and Node tests use. */
export function attacks() {
  return [
    { name: "metadata nested 300 deep (654 bytes)", text: deepMetadata("a1", 300), option: "max_depth" },
    { name: "dictionary nested 300 deep (about 1 KB)", text: deepDictionary("a2", 300), option: "max_depth" },
    { name: "400 empty payloads (11 KB)", text: manyPayloads("a3", 400), option: "max_payloads" },
    { name: "1000 empty payloads (28 KB)", text: manyPayloads("a4", 1000), option: "max_payloads" },
    { name: "1000 values in a 2 KB metadata field", text: manyValues("a5", 1000), option: "max_values" },
    { name: "nine 2,000-byte fields (18 KB)", text: heavyFields("a6", 2000), option: "max_held_bytes" },
    { name: "a direct payload declaring 900,000 bytes", text: hugeDeclaredSize("a7", 900000), option: "max_held_bytes" },
  ];
}
