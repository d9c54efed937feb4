// Round-trip fixtures of the NATSBridge envelope: one payload of every type (and every table
// spelling), in every dialect, each with the value a reader must hand back. The Arrow bytes come
// from apache-arrow itself, so the fixtures do not depend on nats-xs's Arrow writer.
import { tableToIPC, tableFromArrays } from "apache-arrow";
import { peerEnvelope } from "./bridge-peer.mjs";

const enc = new TextEncoder();

/** `n` bytes of a position-dependent pattern. @param {number} n @param {number} [seed] */
export function bytesOf(n, seed = 0) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 255;
  return b;
}

export const TEXT = "héllo wörld ✓ 𝄞 \"quoted\" \\ / \n";
export const DICT = { a: 1, b: [1, 2, 3], c: { d: "é" }, e: null, f: true };
export const JSON_TABLE = [{ t: 1, v: 20.5 }, { t: 2, v: 21.25 }];
export const ARROW = tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2, 3]), v: Float64Array.from([0.5, 1.5, 2.5]) }), "stream");

/**
 * Payload fixtures: what the peer writes (type spelling, bytes) and what the reader must give back
 * (canonical type, table format, decoded value).
 */
export const PAYLOADS = Object.freeze([
  { dataname: "greeting", type: "text", bytes: enc.encode(TEXT), want: { type: "text", format: "", data: TEXT } },
  { dataname: "config", type: "dictionary", bytes: enc.encode(JSON.stringify(DICT)), want: { type: "dictionary", format: "", data: DICT } },
  { dataname: "readings", type: "table", bytes: ARROW, want: { type: "table", format: "arrow", data: ARROW } },
  { dataname: "readings2", type: "arrowtable", bytes: ARROW, want: { type: "table", format: "arrow", data: ARROW } },
  { dataname: "rows", type: "jsontable", bytes: enc.encode(JSON.stringify(JSON_TABLE)), want: { type: "table", format: "json", data: JSON_TABLE } },
  { dataname: "photo.jpg", type: "image", bytes: bytesOf(1000, 1), want: { type: "image", format: "", data: bytesOf(1000, 1) } },
  { dataname: "clip.wav", type: "audio", bytes: bytesOf(301, 2), want: { type: "audio", format: "", data: bytesOf(301, 2) } },
  { dataname: "clip.mp4", type: "video", bytes: bytesOf(2, 3), want: { type: "video", format: "", data: bytesOf(2, 3) } },
  { dataname: "blob", type: "binary", bytes: bytesOf(1, 4), want: { type: "binary", format: "", data: bytesOf(1, 4) } },
  { dataname: "empty", type: "binary", bytes: new Uint8Array(0), want: { type: "binary", format: "", data: new Uint8Array(0) } },
]);

export const FIELDS = Object.freeze({
  correlation_id: "c0ffee00-0000-4000-8000-000000000001",
  msg_id: "c0ffee00-0000-4000-8000-000000000002",
  timestamp: "2024-05-06T07:08:09.123Z",
  send_to: "dev.s7.cmd",
  msg_purpose: "command",
  sender_name: "backend",
  sender_id: "c0ffee00-0000-4000-8000-000000000003",
  receiver_name: "s7",
  receiver_id: "c0ffee00-0000-4000-8000-000000000004",
  reply_to: "dev.backend.replies",
  reply_to_msg_id: "c0ffee00-0000-4000-8000-000000000005",
  broker_url: "nats://127.0.0.1:4222",
  metadata: { note: "ünïcode", n: 3 },
});

/** Timestamps as the published writers put them, with the UTC instant each one means. */
export const TIMESTAMPS = Object.freeze([
  ["2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09.123Z"],
  ["2024-05-06T07:08:09Z", "2024-05-06T07:08:09.000Z"],
  ["2024-05-06T07:08:09.123456", "2024-05-06T07:08:09.123Z"],
  ["2024-05-06T07:08:09.123456789Z", "2024-05-06T07:08:09.123Z"],
  ["2024-05-06 07:08:09", "2024-05-06T07:08:09.000Z"],
  ["2024-05-06T09:08:09+02:00", "2024-05-06T07:08:09.000Z"],
  ["2024-05-06T02:08:09-0500", "2024-05-06T07:08:09.000Z"],
  ["2024-05-06T07:08", "2024-05-06T07:08:00.000Z"],
  ["2024-05-06", "2024-05-06T00:00:00.000Z"],
  [1714979289, "2024-05-06T07:08:09.000Z"],
  [1714979289123, "2024-05-06T07:08:09.123Z"],
]);

/** JSON carried as itself (`encoding: "json"`, the specification's raw `jsontable` example): as
 *  the JSON text in a string, and as the JSON value. */
export const RAW_JSON = Object.freeze([
  { ...PAYLOADS[4], dataname: "rows-text", json: JSON.stringify(JSON_TABLE), encoding: "json" },
  { ...PAYLOADS[4], dataname: "rows-value", json: JSON_TABLE, encoding: "json" },
  { ...PAYLOADS[1], dataname: "config-value", json: DICT, encoding: "json" },
]);

/** The published dialects (test/shared/bridge-peer.mjs, DIALECTS). */
export const DIALECT_NAMES = Object.freeze(["v1", "python", "snake", "payload_type", "camel"]);

/** Every dialect fixture: [name, JSON text, payload fixtures in it]. */
export function dialectFixtures() {
  /** @type {Array<[string, string, typeof PAYLOADS]>} */
  const out = [];
  for (const dialect of DIALECT_NAMES) {
    // Python's writer differs from the payload_type dialect only in its table: one fixture of that
    // and the envelope with every payload are enough (the split-point tests are the slow ones)
    for (const p of PAYLOADS) if (dialect !== "python" || p.type === "table") out.push([`${dialect} ${p.type} ${p.dataname}`, peerEnvelope([p], FIELDS, /** @type {any} */ (dialect)), [p]]);
    out.push([`${dialect} all payloads in one envelope`, peerEnvelope(PAYLOADS, FIELDS, /** @type {any} */ (dialect)), PAYLOADS]);
  }
  for (const p of RAW_JSON) out.push([`v1 ${p.type} ${p.dataname} as JSON itself`, peerEnvelope([p], FIELDS, "v1"), /** @type {any} */ ([p])]);
  out.push(["v1 raw JSON among base64 payloads", peerEnvelope([PAYLOADS[0], RAW_JSON[0], PAYLOADS[6], RAW_JSON[1]], FIELDS, "v1"), /** @type {any} */ ([PAYLOADS[0], RAW_JSON[0], PAYLOADS[6], RAW_JSON[1]])]);
  return out;
}
