// An independent NATSBridge peer for the tests, written from the NATSBridge README conventions and
// nothing of nats-xs: envelopes built with JSON.stringify and Buffer's base64, read with JSON.parse,
// links uploaded and fetched with Node's fetch, tables read with apache-arrow. It speaks every
// published dialect: snake_case with `type` (current), snake_case with `payload_type`, and the early
// camelCase keys.
import { randomUUID } from "node:crypto";
import { tableFromIPC } from "apache-arrow";

/** Key spellings per dialect (envelope fields, then payload fields). */
export const DIALECTS = Object.freeze({
  snake: {
    correlation_id: "correlation_id", msg_id: "msg_id", timestamp: "timestamp", send_to: "send_to",
    msg_purpose: "msg_purpose", sender_name: "sender_name", sender_id: "sender_id",
    receiver_name: "receiver_name", receiver_id: "receiver_id", reply_to: "reply_to",
    reply_to_msg_id: "reply_to_msg_id", broker_url: "broker_url", metadata: "metadata", payloads: "payloads",
    type: "type",
  },
  payload_type: {
    correlation_id: "correlation_id", msg_id: "msg_id", timestamp: "timestamp", send_to: "send_to",
    msg_purpose: "msg_purpose", sender_name: "sender_name", sender_id: "sender_id",
    receiver_name: "receiver_name", receiver_id: "receiver_id", reply_to: "reply_to",
    reply_to_msg_id: "reply_to_msg_id", broker_url: "broker_url", metadata: "metadata", payloads: "payloads",
    type: "payload_type",
  },
  camel: {
    correlation_id: "correlationId", msg_id: "msgId", timestamp: "timestamp", send_to: "sendTo",
    msg_purpose: "msgPurpose", sender_name: "senderName", sender_id: "senderId",
    receiver_name: "receiverName", receiver_id: "receiverId", reply_to: "replyTo",
    reply_to_msg_id: "replyToMsgId", broker_url: "brokerURL", metadata: "metadata", payloads: "payloads",
    type: "type",
  },
});

/**
 * An envelope as JSON text.
 * @param {Array<{dataname: string, type: string, bytes?: Uint8Array, url?: string, size?: number, transport?: string, metadata?: object, encoding?: string}>} payloads
 * @param {Record<string, unknown>} [fields] envelope fields by snake_case name
 * @param {keyof typeof DIALECTS} [dialect]
 */
export function peerEnvelope(payloads, fields = {}, dialect = "snake") {
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
      return {
        id: randomUUID(),
        dataname: p.dataname,
        [k.type]: p.type,
        transport: link ? "link" : "direct",
        encoding: p.encoding ?? (link ? "none" : "base64"),
        size: p.size ?? (p.bytes ? p.bytes.length : 0),
        data: link ? p.url : Buffer.from(p.bytes ?? new Uint8Array(0)).toString("base64"),
        metadata: p.metadata ?? {},
      };
    }),
  };
  return JSON.stringify(env);
}

/**
 * Reads an envelope in any dialect; link payloads are fetched.
 * @param {Uint8Array | string} data
 */
export async function peerRead(data) {
  const o = JSON.parse(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
  const pick = (snake, camel) => (o[snake] !== undefined ? o[snake] : o[camel]);
  const payloads = [];
  for (const p of o.payloads) {
    const type = p.type ?? p.payload_type;
    let bytes;
    if (p.transport === "link") {
      const res = await fetch(p.data);
      if (!res.ok) throw new Error(`peer: GET ${p.data} answered ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } else bytes = new Uint8Array(Buffer.from(p.data, "base64"));
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
 */
export async function peerUpload(fileserver, bytes, name) {
  const up = await (await fetch(`${fileserver}/upload`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).json();
  const form = new FormData();
  form.append("file", new Blob([bytes]), name);
  const res = await fetch(`${fileserver}/file/${up.id}`, { method: "POST", body: form, headers: { "X-UploadToken": up.uploadToken } });
  if (!res.ok) throw new Error(`peer: upload answered ${res.status}`);
  const file = await res.json();
  return `${fileserver}/file/${up.id}/${file.id}/${encodeURIComponent(file.fileName)}`;
}

/** An Arrow table from IPC bytes, by apache-arrow. @param {Uint8Array} bytes */
export function peerTable(bytes) {
  return tableFromIPC(bytes);
}
