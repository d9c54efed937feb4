// An independent NATSBridge peer for the tests, written from the NATSBridge specification (v1.x,
// docs/specification.md as ../shared/REFERENCE.md summarizes it) and nothing of nats-xs: envelopes
// built with JSON.stringify and Buffer's base64, read with JSON.parse, links uploaded and fetched with
// Node's fetch, tables read with apache-arrow.
//
// Writing, it speaks every published dialect (DIALECTS). Reading, it is strict by default: an
// envelope must be what the current specification says a writer sends (every field present and of
// its type, `payload_type`, the v1 type names, `encoding` as the Julia and JavaScript writers fill
// it, ISO 8601 UTC timestamps with milliseconds, `size` equal to the bytes), so that what a device
// sends is checked against the specification, not against nats-xs's own reader.
import { randomUUID } from "node:crypto";
import https from "node:https";
import { tableFromIPC } from "apache-arrow";

const SNAKE = {
  correlation_id: "correlation_id", msg_id: "msg_id", timestamp: "timestamp", send_to: "send_to",
  msg_purpose: "msg_purpose", sender_name: "sender_name", sender_id: "sender_id",
  receiver_name: "receiver_name", receiver_id: "receiver_id", reply_to: "reply_to",
  reply_to_msg_id: "reply_to_msg_id", broker_url: "broker_url", metadata: "metadata", payloads: "payloads",
};

/**
 * Dialects as published: key spellings, the payload type key, how types and `encoding` are written.
 * - v1: the current specification (Julia and JavaScript writers, March 2026 on): `payload_type`,
 *   `arrowtable`/`jsontable`, `encoding` json / arrow-ipc / base64 (data base64 in every case).
 * - python: NATSBridge's Python writer: snake_case, `payload_type`, tables as `table`, `encoding`
 *   always base64.
 * - snake: snake_case with `type` and `table` (before the split of 2026-03-08).
 * - payload_type: snake_case with `payload_type` but the older type names and base64 encoding.
 * - camel: the early Julia struct (v0.4): camelCase keys with `type`.
 */
export const DIALECTS = Object.freeze({
  v1: { ...SNAKE, type: "payload_type", tables: "split", encoding: "content" },
  python: { ...SNAKE, type: "payload_type", tables: "table", encoding: "base64" },
  snake: { ...SNAKE, type: "type", tables: "table", encoding: "base64" },
  payload_type: { ...SNAKE, type: "payload_type", tables: "table", encoding: "base64" },
  camel: {
    correlation_id: "correlationId", msg_id: "msgId", timestamp: "timestamp", send_to: "sendTo",
    msg_purpose: "msgPurpose", sender_name: "senderName", sender_id: "senderId",
    receiver_name: "receiverName", receiver_id: "receiverId", reply_to: "replyTo",
    reply_to_msg_id: "replyToMsgId", broker_url: "brokerURL", metadata: "metadata", payloads: "payloads",
    type: "type", tables: "table", encoding: "base64",
  },
});

/** The `encoding` the current specification's Julia and JavaScript writers put on a direct payload. */
export function specEncoding(type) {
  if (type === "dictionary" || type === "jsontable") return "json";
  if (type === "arrowtable" || type === "table") return "arrow-ipc";
  return "base64";
}

/**
 * An envelope as JSON text.
 * @param {Array<{dataname: string, type: string, bytes?: Uint8Array, url?: string, size?: number, transport?: string, metadata?: object, encoding?: string, json?: unknown}>} payloads
 *   `json`: carry this JSON value as itself in `data` (the specification's raw `jsontable` example)
 *   instead of base64 of `bytes`; a string is put as the JSON text, anything else as the value.
 * @param {Record<string, unknown>} [fields] envelope fields by snake_case name
 * @param {keyof typeof DIALECTS} [dialect]
 */
export function peerEnvelope(payloads, fields = {}, dialect = "v1") {
  const k = DIALECTS[dialect];
  const env = {
    [k.correlation_id]: fields.correlation_id ?? randomUUID(),
    [k.msg_id]: fields.msg_id ?? randomUUID(),
    [k.timestamp]: fields.timestamp ?? new Date().toISOString(),
    [k.send_to]: fields.send_to ?? "",
    [k.msg_purpose]: fields.msg_purpose ?? "chat",
    [k.sender_name]: fields.sender_name ?? "peer",
    [k.sender_id]: fields.sender_id ?? randomUUID(),
    [k.receiver_name]: fields.receiver_name ?? "",
    [k.receiver_id]: fields.receiver_id ?? "",
    [k.reply_to]: fields.reply_to ?? "",
    [k.reply_to_msg_id]: fields.reply_to_msg_id ?? "",
    [k.broker_url]: fields.broker_url ?? "nats://127.0.0.1:4222",
    [k.metadata]: fields.metadata ?? {},
    [k.payloads]: payloads.map((p) => {
      const link = p.transport === "link";
      let type = p.type;
      if (k.tables === "split" && type === "table") type = "arrowtable";
      if (k.tables === "table" && type === "arrowtable") type = "table";
      const encoding = p.encoding ?? (link ? "none" : k.encoding === "content" ? specEncoding(type) : "base64");
      const data = link ? p.url : p.json !== undefined ? p.json : Buffer.from(p.bytes ?? new Uint8Array(0)).toString("base64");
      return {
        id: randomUUID(),
        dataname: p.dataname,
        [k.type]: type,
        transport: link ? "link" : "direct",
        encoding,
        size: p.size ?? (p.bytes ? p.bytes.length : 0),
        data,
        metadata: p.metadata ?? {},
      };
    }),
  };
  return JSON.stringify(env);
}

const V1_TYPES = ["text", "dictionary", "arrowtable", "jsontable", "image", "audio", "video", "binary"];
const V0_TYPES = ["text", "dictionary", "table", "jsontable", "image", "audio", "video", "binary"];
const ENVELOPE_STRINGS = ["correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name", "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id", "broker_url"];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** @param {boolean} ok @param {string} why */
function must(ok, why) {
  if (!ok) throw new Error(`peer: not a NATSBridge envelope of the specification: ${why}`);
}

/**
 * Reads an envelope; link payloads are fetched.
 * `dialect`: "v1" (default) checks it against the current specification; "v0" against the snake_case
 * form with `type` and `table`; "any" reads every dialect without checking (for peers' own output).
 * `fetch`: the fetch to use for links (peerFetch(ca) for an https file server of a test CA).
 * @param {Uint8Array | string} data
 * @param {{ dialect?: "v1" | "v0" | "any", fetch?: typeof fetch }} [options]
 */
export async function peerRead(data, options = {}) {
  const dialect = options.dialect ?? "v1";
  const fetch = options.fetch ?? globalThis.fetch;
  const o = JSON.parse(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
  const strict = dialect !== "any";
  if (strict) {
    for (const key of ENVELOPE_STRINGS) must(typeof o[key] === "string", `envelope field ${key} must be a string (got ${JSON.stringify(o[key])})`);
    must(o.metadata !== null && typeof o.metadata === "object" && !Array.isArray(o.metadata), "metadata must be an object");
    must(Array.isArray(o.payloads), "payloads must be an array");
    must(ISO_MS.test(o.timestamp), `timestamp ${o.timestamp} is not ISO 8601 UTC with milliseconds`);
  }
  const pick = (snake, camel) => (o[snake] !== undefined ? o[snake] : o[camel]);
  const payloads = [];
  for (const p of o.payloads) {
    if (strict) {
      for (const key of ["id", "dataname", "transport", "encoding"]) must(typeof p[key] === "string", `payload field ${key} must be a string`);
      must(Number.isInteger(p.size) && p.size >= 0, "payload size must be a whole number");
      must(p.metadata !== null && typeof p.metadata === "object" && !Array.isArray(p.metadata), "payload metadata must be an object");
      must(p.transport === "direct" || p.transport === "link", `transport ${p.transport}`);
      if (dialect === "v1") {
        must(typeof p.payload_type === "string" && V1_TYPES.includes(p.payload_type), `payload_type ${JSON.stringify(p.payload_type)} is not one of ${V1_TYPES.join(", ")}`);
        must(["none", "json", "base64", "arrow-ipc"].includes(p.encoding), `encoding ${p.encoding}`);
        must(p.encoding === (p.transport === "link" ? "none" : specEncoding(p.payload_type)), `encoding ${p.encoding} for a ${p.transport} ${p.payload_type}`);
      } else {
        must(typeof p.type === "string" && V0_TYPES.includes(p.type) && p.payload_type === undefined, `type ${JSON.stringify(p.type)} (and no payload_type) in the earlier dialect`);
        must(p.encoding === (p.transport === "link" ? "none" : "base64"), `encoding ${p.encoding}`);
      }
    }
    const type = p.payload_type ?? p.type;
    let bytes;
    if (p.transport === "link") {
      must(typeof p.data === "string" && /^https?:\/\//.test(p.data), "a link's data must be its URL");
      const res = await fetch(p.data);
      if (!res.ok) throw new Error(`peer: GET ${p.data} answered ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } else if (typeof p.data !== "string") bytes = new Uint8Array(Buffer.from(JSON.stringify(p.data)));
    else if (p.encoding === "json" && /^\s*[[{]/.test(p.data)) bytes = new Uint8Array(Buffer.from(p.data));
    else {
      if (strict) must(BASE64.test(p.data), `data of ${p.dataname} is not padded standard base64`);
      bytes = new Uint8Array(Buffer.from(p.data, "base64"));
    }
    if (strict) must(bytes.length === p.size, `payload ${p.dataname} declares ${p.size} bytes and carries ${bytes.length}`);
    payloads.push({ ...p, type, bytes });
  }
  return {
    raw: o,
    correlation_id: pick("correlation_id", "correlationId"),
    msg_id: pick("msg_id", "msgId"),
    timestamp: o.timestamp,
    send_to: pick("send_to", "sendTo"),
    reply_to: pick("reply_to", "replyTo"),
    reply_to_msg_id: pick("reply_to_msg_id", "replyToMsgId"),
    sender_name: pick("sender_name", "senderName"),
    payloads,
  };
}

/**
 * Uploads bytes the way NATSBridge's Plik client does; returns the download URL.
 * @param {string} fileserver
 * @param {Uint8Array} bytes
 * @param {string} name
 * @param {typeof fetch} [fetch] peerFetch(ca) for an https file server of a test CA
 */
export async function peerUpload(fileserver, bytes, name, fetch = globalThis.fetch) {
  const up = await (await fetch(`${fileserver}/upload`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).json();
  const form = new FormData();
  form.append("file", new Blob([bytes]), name);
  const res = await fetch(`${fileserver}/file/${up.id}`, { method: "POST", body: form, headers: { "X-UploadToken": up.uploadToken } });
  if (!res.ok) throw new Error(`peer: upload answered ${res.status}`);
  const file = await res.json();
  return `${fileserver}/file/${up.id}/${file.id}/${encodeURIComponent(file.fileName)}`;
}

/**
 * A fetch over node:https that trusts `ca` (PEM), for a file server whose certificate a test made:
 * Node's own fetch takes no CA. Bodies (FormData included) are serialized by a Request.
 * @param {string} ca
 * @returns {typeof fetch}
 */
export function peerFetch(ca) {
  return /** @type {typeof fetch} */ (
    async (url, init = {}) => {
      const req = new Request(url, init);
      const body = init.body === undefined ? undefined : Buffer.from(await req.arrayBuffer());
      const headers = Object.fromEntries(req.headers);
      if (body !== undefined) headers["content-length"] = String(body.length);
      return new Promise((resolve, reject) => {
        const r = https.request(String(url), { method: req.method, headers, ca }, (res) => {
          const parts = [];
          res.on("data", (c) => parts.push(c));
          res.on("end", () => resolve(new Response(Buffer.concat(parts), { status: res.statusCode })));
          res.on("error", reject);
        });
        r.on("error", reject);
        r.end(body);
      });
    }
  );
}

/** An Arrow table from IPC bytes, by apache-arrow. @param {Uint8Array} bytes */
export function peerTable(bytes) {
  return tableFromIPC(bytes);
}
