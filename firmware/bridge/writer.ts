/**
 * The envelope writer: snake_case keys in the current specification's dialect (`payload_type`,
 * `arrowtable`/`jsontable`, `encoding` by content) or, when the sender asks, the earlier one
 * (`type`, `table`, `encoding` "base64"); size first, then write.
 *
 * Every part of the envelope except the base64 text of direct payloads is small JSON built once per
 * envelope (the head with the identity fields, and per payload the text up to `"data":"`). The
 * base64 length is exact (4 * ceil(n / 3)), so the whole message size is known before a byte goes
 * out; the direct/link decision and the publish use that number. The message is then written as a
 * sequence of pieces, the base64 text encoded from the payload's bytes 768 bytes (1024 characters)
 * at a time into one scratch buffer: the whole JSON or base64 string never exists.
 */
import TextEncoder from "text/encoder";
import { Base64Encoder, base64Length } from "./base64.js";
import { ENVELOPE_NAMES, MessageEnvelope, MessagePayload } from "./envelope.js";
import type { Dialect } from "./envelope.js";

/** Bytes a source hands out at random offsets, so that a payload larger than memory can be sent
 *  (and re-read when an upload is retried). `read` fills `into` from `offset` and returns how many
 *  bytes it wrote (0 only at the end). */
export interface PayloadSource {
  readonly size: number;
  read(offset: number, into: Uint8Array): number | Promise<number>;
}

/** What the writer needs of a streaming publish (nats-xs/stream's `publishStream`). */
export interface PublishStream {
  write(bytes: Uint8Array): boolean;
  ready(): Promise<void>;
  end(): void;
  abort(): void;
}

/** Raw bytes per base64 piece; the scratch buffer holds their 1024 characters. */
export const ENCODE_CHUNK = 768;

/** One payload ready to go: its envelope entry and where its bytes come from. */
export class Outgoing {
  readonly payload: MessagePayload;
  readonly bytes: Uint8Array | null;
  readonly source: PayloadSource | null;
  readonly size: number;
  /** The entry's JSON up to `"data":"` (direct) or whole (link), as UTF-8. */
  open: Uint8Array = new Uint8Array(0);
  constructor(payload: MessagePayload, bytes: Uint8Array | null, source: PayloadSource | null) {
    this.payload = payload;
    this.bytes = bytes;
    this.source = source;
    this.size = bytes !== null ? bytes.length : (source as PayloadSource).size;
    payload.size = this.size;
  }
  /** Bytes this entry adds to the envelope (computed by layout()). */
  get length(): number {
    return this.open.length + (this.payload.transport === "direct" ? base64Length(this.size) + 2 : 0);
  }
}

/** `"}` closing a direct entry after its base64 text. */
const CLOSE_DATA = '"}';

/** The envelope's head JSON: every field but `payloads`, then `,"payloads":[`. */
export function headJson(env: MessageEnvelope): string {
  const o: Record<string, unknown> = {};
  for (let k = 0; k < ENVELOPE_NAMES.length - 1; k++) {
    const name = ENVELOPE_NAMES[k];
    o[name] = (env as unknown as Record<string, unknown>)[name];
  }
  const json = JSON.stringify(o);
  return `${json.substring(0, json.length - 1)},"payloads":[`;
}

/** The `encoding` the current specification's writers (Julia, JavaScript) put on a direct payload:
 *  what the base64 text decodes to. */
function encodingOf(p: MessagePayload): string {
  if (p.type === "dictionary" || (p.type === "table" && p.format === "json")) return "json";
  if (p.type === "table") return "arrow-ipc";
  return "base64";
}

/** A payload entry's JSON in `dialect`: whole for a link; up to and including `"data":"` for direct. */
export function entryJson(p: MessagePayload, dialect: Dialect = "v1"): string {
  const direct = p.transport === "direct";
  const table = p.type === "table";
  const o: Record<string, unknown> = { id: p.id, dataname: p.dataname };
  if (dialect === "v1") {
    o.payload_type = table ? (p.format === "json" ? "jsontable" : "arrowtable") : p.type;
    o.transport = p.transport;
    o.encoding = direct ? encodingOf(p) : "none";
  } else {
    o.type = table && p.format === "json" ? "jsontable" : p.type;
    o.transport = p.transport;
    o.encoding = direct ? "base64" : "none";
  }
  o.size = p.size;
  o.metadata = p.metadata;
  o.data = direct ? "" : p.url;
  const json = JSON.stringify(o);
  return direct ? json.substring(0, json.length - 2) : json;
}

/** The laid-out envelope: its head, and the total size in bytes. */
export class Layout {
  readonly head: Uint8Array;
  readonly total: number;
  constructor(head: Uint8Array, total: number) {
    this.head = head;
    this.total = total;
  }
}

/** Encodes the small JSON parts of `env` with `items` and returns the exact message size. */
export function layout(env: MessageEnvelope, items: readonly Outgoing[], encoder: TextEncoder): Layout {
  const head = encoder.encode(headJson(env));
  let total = head.length + 2; // "]}"
  for (let k = 0; k < items.length; k++) {
    const it = items[k];
    it.open = encoder.encode(entryJson(it.payload, env.dialect));
    total += it.length + (k > 0 ? 1 : 0);
  }
  return new Layout(head, total);
}

function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/**
 * Writes the envelope to `w` in pieces and ends it. Memory: the scratch buffers (1024 + 768 bytes)
 * and the small JSON parts; each piece is copied by `w.write` into the connection's outbound queue,
 * whose bound (`maxPendingBytes`) `w.ready()` waits on.
 */
export async function writeEnvelope(w: PublishStream, lay: Layout, items: readonly Outgoing[]): Promise<void> {
  try {
    await writePieces(w, lay, items);
  } catch (e) {
    w.abort(); // a source that failed must not leave a half-written message open
    throw e;
  }
}

async function writePieces(w: PublishStream, lay: Layout, items: readonly Outgoing[]): Promise<void> {
  const chars = new Uint8Array(Base64Encoder.maxOutput(ENCODE_CHUNK));
  let raw: Uint8Array | null = null;
  const enc = new Base64Encoder();
  const comma = ascii(",");
  const close = ascii(CLOSE_DATA);
  // `if (!w.write(x)) await w.ready()` rather than a helper: an async call would cost a promise per
  // piece, while this awaits only when the outbound queue asks for it
  if (!w.write(lay.head)) await w.ready();
  for (let k = 0; k < items.length; k++) {
    const it = items[k];
    if (k > 0 && !w.write(comma)) await w.ready();
    if (!w.write(it.open)) await w.ready();
    if (it.payload.transport !== "direct") continue;
    if (it.bytes !== null) {
      const b = it.bytes;
      for (let at = 0; at < b.length; at += ENCODE_CHUNK) {
        const n = enc.encode(b, at, Math.min(b.length, at + ENCODE_CHUNK), chars, 0);
        if (!w.write(n === chars.length ? chars : chars.subarray(0, n))) await w.ready();
      }
    } else {
      const src = it.source as PayloadSource;
      if (raw === null) raw = new Uint8Array(ENCODE_CHUNK);
      let at = 0;
      while (at < src.size) {
        const want = Math.min(ENCODE_CHUNK, src.size - at);
        const r = src.read(at, want === raw.length ? raw : raw.subarray(0, want));
        const got = typeof r === "number" ? r : await r; // a synchronous source costs no promise
        if (!(got > 0)) throw new RangeError(`payload source of ${JSON.stringify(it.payload.dataname)} ended at ${at} of ${src.size} bytes`);
        at += got;
        const n = enc.encode(raw, 0, got, chars, 0);
        if (n > 0 && !w.write(n === chars.length ? chars : chars.subarray(0, n))) await w.ready();
      }
    }
    const n = enc.finish(chars, 0);
    if (n > 0 && !w.write(chars.subarray(0, n))) await w.ready();
    if (!w.write(close)) await w.ready();
  }
  if (!w.write(ascii("]}"))) await w.ready();
  w.end();
}
