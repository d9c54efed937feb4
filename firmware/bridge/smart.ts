/**
 * smartsend / smartreceive: NATSBridge on a nats-xs connection.
 *
 * Sending: each payload becomes bytes (text as UTF-8, dictionaries as JSON, tables as Arrow IPC,
 * media and binary as they are), the envelope is laid out with its exact size, payloads that would
 * push it past min(size_threshold, max_payload) go to the file server by link (largest first), and
 * the envelope is written in pieces through the core's streaming publish.
 *
 * Receiving: an envelope is read by the incremental scanner, from a whole message or from the
 * chunks of a chunked subscription; direct payloads are decoded on the way into their sinks (or
 * collected, bounded by max_size), link payloads are downloaded after the envelope, in order.
 */
import Timer from "timer";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import { InvalidArgumentError, MaxPayloadError, MsgChunk, NoRespondersError, StreamBusyError, TimeoutError } from "nats-xs";
import { publishStream, streamIdle } from "nats-xs/stream";
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "nats-xs";
import { arrowTable } from "./arrow.js";
import type { ArrowColumn } from "./arrow.js";
import { base64Length } from "./base64.js";
import { MessageEnvelope, MessagePayload, dialectOf, payloadType } from "./envelope.js";
import { EnvelopeDroppedError, LinkError, PayloadLimitError } from "./errors.js";
import { isoNow, uuid4 } from "./ids.js";
import { LinkSettings, allowEntryOf, download, hostAllowed, upload, validateLinkUrl } from "./link.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_HELD_BYTES, DEFAULT_MAX_KEYS, DEFAULT_MAX_PAYLOADS, DEFAULT_MAX_VALUES, EnvelopeBudget, bound } from "./bounds.js";
import { DIGEST_KEY, DIGEST_PLACEHOLDER, DigestCheck, declaredDigest } from "./digest.js";
import type { LinkOptions } from "./link.js";
import { downloadObject, isObjectLink, objectLinkUrl, objectNameFor, uploadObject, validBucket, validateObjectLink } from "./objlink.js";
import { Collector, EnvelopeScanner, decodeValue } from "./scanner.js";
import type { PayloadSink, SinkFactory } from "./scanner.js";
import { RECEIVE_OPTIONS, REQUEST_OPTIONS, SEND_OPTIONS, SUBSCRIBE_OPTIONS, checkOptions } from "./options.js";
import { Outgoing, layout, writeEnvelope } from "./writer.js";
import type { Layout, PayloadSource, PublishStream } from "./writer.js";

/** A payload to send, as NATSBridge.js takes them (a `[dataname, data, type]` tuple works too).
 *  `data`: text: a string (or UTF-8 bytes); dictionary: any JSON value; table: Arrow IPC bytes or
 *  ArrowColumn[] (written as Arrow), or for `jsontable` any JSON value; image, audio, video,
 *  binary: a Uint8Array, an ArrayBuffer or a PayloadSource. */
export interface PayloadInput {
  dataname: string;
  data: unknown;
  type: string;
  metadata?: Record<string, unknown>;
  id?: string;
  /** Force a transport; by default the size decides. */
  transport?: "direct" | "link";
}

export interface SendOptions extends LinkOptions {
  /** Kept across a conversation; a new UUID when absent. */
  correlation_id?: string;
  msg_id?: string;
  msg_purpose?: string;
  sender_name?: string;
  sender_id?: string;
  receiver_name?: string;
  receiver_id?: string;
  /** Subject the receiver should answer on. */
  reply_to?: string;
  /** The msg_id this envelope answers. */
  reply_to_msg_id?: string;
  /** Defaults to nats://<the connected server>. */
  broker_url?: string;
  metadata?: Record<string, unknown>;
  /** Largest envelope, in bytes of JSON (base64 included), sent direct; default max_payload. */
  size_threshold?: number;
  /** Plik-style file server for link payloads, e.g. "http://10.0.0.2:8080". */
  fileserver_url?: string;
  /** nats-xs: a JetStream Object Store bucket (made beforehand) for link payloads instead of a file
   *  server: each goes in as an object and the envelope links it as `nats-os://<bucket>/<name>`.
   *  Needs nats-xs/obj in the build. Not together with fileserver_url. */
  object_store?: string;
  /** NATS headers of the message. */
  headers?: MsgHdrs;
  /** NATS reply subject of the message. */
  reply?: string;
  /** "v1" (default): the current NATSBridge specification; "v0": the snake_case form with `type`
   *  and `table` that peers before March 2026 read (docs/bridge.md, "Dialects"). */
  dialect?: "v1" | "v0";
}

export interface ReceiveOptions extends LinkOptions {
  /** Where payload bytes go instead of `payload.data` (see SinkFactory). */
  sink?: SinkFactory;
  /** Largest payload accepted, declared or seen, in bytes (default 1048576). */
  max_size?: number;
  /** Largest single JSON value other than direct data (ids, metadata, URLs), in bytes (default 2048). */
  max_field_bytes?: number;
  /** Deepest JSON nesting in metadata, dictionaries and JSON tables (default 32). */
  max_depth?: number;
  /** Most payloads in one envelope (default 16). */
  max_payloads?: number;
  /** Most JSON values one envelope keeps: fields, metadata, dictionaries, JSON tables (default 256). */
  max_values?: number;
  /** Most bytes one envelope holds in memory: its kept fields and the payloads collected without a
   *  sink (default 16384; raise it, or give a sink, for large payloads in memory). */
  max_held_bytes?: number;
  /** Most distinct JSON property names (in metadata, dictionaries, JSON tables) the receiver lets
   *  through in its lifetime (default 128): XS keeps every property name it sees. */
  max_keys?: number;
  /** Most envelopes waiting behind a link download, in order (default 4); more are dropped. */
  max_pending?: number;
  /** Most bytes held by the envelopes waiting behind a link download (default 32768). */
  max_pending_bytes?: number;
  /** Hosts link payloads may be fetched from: "host" (any port), "host:port", or "*" for any.
   *  Default: the host and port of `fileserver_url` when given, otherwise the host of the NATS
   *  server the envelope came from. */
  link_hosts?: string[];
  /** The file server this receiver trusts (its host:port is the default allowlist). */
  fileserver_url?: string;
  /** Refuse link payloads whose metadata carries no SHA-256 digest (default false). */
  require_digest?: boolean;
  /** nats-xs: Object Store buckets `nats-os://` links may be read from (default: `object_store`
   *  when given, otherwise none). */
  link_buckets?: string[];
  /** nats-xs: the Object Store bucket this receiver trusts (the default of link_buckets). */
  object_store?: string;
  /** nats-xs: the connection object links are read over, for smartreceive() (smartsubscribe and
   *  an EnvelopeReceiver given a connection use theirs). */
  connection?: NatsConnection;
}

/** Called once per message: an envelope with `err` null, or the typed error that message earned
 *  with no envelope; after `if (err) return;` the envelope is non-null. */
export type EnvelopeCallback = (...args: [err: null, envelope: MessageEnvelope] | [err: Error, envelope: null]) => void;

export interface SmartSubscribeOptions extends ReceiveOptions {
  callback: EnvelopeCallback;
  queue?: string;
  max?: number;
}

const DEFAULT_MAX_SIZE = 1048576;
/** Envelopes up to this size are built whole and published at once (a command, a reply, a few
 *  readings): cheaper than a stream, and never waiting behind another one. */
const SMALL_ENVELOPE = 2048;
/** How long a send waits for another streamed message on the connection to end. */
const STREAM_WAIT_MS = 30000;
const DEFAULT_FIELD_BYTES = 2048;
const DEFAULT_MAX_PENDING = 4;
const DEFAULT_MAX_PENDING_BYTES = 32768;

/** Small envelopes are built whole and published at once. */
class BufferedPublish implements PublishStream {
  private readonly nc: NatsConnection;
  private readonly subject: string;
  private readonly buf: Uint8Array;
  private readonly options: { reply?: string; headers?: MsgHdrs };
  private n = 0;
  constructor(nc: NatsConnection, subject: string, size: number, options: { reply?: string; headers?: MsgHdrs }) {
    this.nc = nc;
    this.subject = subject;
    this.buf = new Uint8Array(size);
    this.options = options;
  }
  write(bytes: Uint8Array): boolean {
    if (this.n + bytes.length > this.buf.length) throw new RangeError("more bytes than the announced size");
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
    return true;
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  end(): void {
    if (this.n !== this.buf.length) throw new RangeError(`wrote ${this.n} of ${this.buf.length} bytes`);
    this.nc.publish(this.subject, this.buf, this.options);
  }
  abort(): void {
    this.n = -1; // nothing was sent; end() now throws
  }
}

function str(v: unknown, name: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new InvalidArgumentError(`option ${name} must be a string`);
  return v;
}

function isSource(v: unknown): v is PayloadSource {
  return v !== null && typeof v === "object" && typeof (v as PayloadSource).read === "function" && Number.isInteger((v as PayloadSource).size);
}

/** Turns one caller payload into its envelope entry and bytes. */
function prepare(raw: PayloadInput | readonly unknown[], encoder: TextEncoder): Outgoing {
  const input: PayloadInput = Array.isArray(raw) ? { dataname: raw[0] as string, data: raw[1], type: raw[2] as string } : (raw as PayloadInput);
  if (input === null || typeof input !== "object") throw new InvalidArgumentError("each payload must be { dataname, data, type }");
  const p = new MessagePayload();
  p.id = input.id === undefined ? uuid4() : str(input.id, "id");
  p.dataname = str(input.dataname, "dataname");
  p.type = payloadType(input.type);
  const spelling = String(input.type).toLowerCase();
  p.format = p.type === "table" ? (spelling === "jsontable" ? "json" : "arrow") : "";
  if (input.metadata !== undefined) {
    if (input.metadata === null || typeof input.metadata !== "object") throw new InvalidArgumentError("payload metadata must be an object");
    p.metadata = input.metadata;
  }
  if (input.transport !== undefined) {
    if (input.transport !== "direct" && input.transport !== "link") throw new InvalidArgumentError('payload transport must be "direct" or "link"');
    p.transport = input.transport;
  }
  const d = input.data;
  let bytes: Uint8Array | null = null;
  let source: PayloadSource | null = null;
  if (p.type === "text") {
    if (typeof d === "string") bytes = encoder.encode(d);
    else if (d instanceof Uint8Array) bytes = d;
    else throw new InvalidArgumentError(`text payload ${JSON.stringify(p.dataname)} needs a string`);
  } else if (p.type === "dictionary" || (p.type === "table" && p.format === "json")) {
    const json = JSON.stringify(d);
    if (json === undefined) throw new InvalidArgumentError(`payload ${JSON.stringify(p.dataname)} is not JSON-serializable`);
    bytes = encoder.encode(json);
  } else if (p.type === "table" && Array.isArray(d)) {
    bytes = arrowTable(d as ArrowColumn[]);
  } else if (d instanceof Uint8Array) bytes = d;
  else if (d instanceof ArrayBuffer) bytes = new Uint8Array(d);
  else if (ArrayBuffer.isView(d)) bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  else if (isSource(d)) source = d;
  else throw new InvalidArgumentError(`${p.type} payload ${JSON.stringify(p.dataname)} needs bytes (Uint8Array, ArrayBuffer or a PayloadSource)`);
  return new Outgoing(p, bytes, source);
}

function headerLength(h: MsgHdrs | undefined): number {
  if (h === undefined) return 0;
  const impl = h as unknown as { encodedLength?: () => number };
  return typeof impl.encodedLength === "function" ? impl.encodedLength() : 0;
}

/** A placeholder URL as long as the file server's will likely be, for the size decision. */
function placeholderUrl(fileserver: string, dataname: string): string {
  return `${fileserver}/file/${uuid4()}/${uuid4()}/${encodeURIComponent(dataname === "" ? "payload" : dataname)}`;
}

/** Where link payloads go: a file server URL, or an Object Store bucket. */
class LinkStore {
  readonly fileserver: string;
  readonly bucket: string;
  constructor(o: SendOptions) {
    this.fileserver = o.fileserver_url === undefined ? "" : str(o.fileserver_url, "fileserver_url");
    this.bucket = o.object_store === undefined ? "" : str(o.object_store, "object_store");
    if (this.bucket !== "" && !validBucket(this.bucket)) throw new InvalidArgumentError(`object_store ${JSON.stringify(this.bucket)} is not a bucket name (1 to 240 of A-Z a-z 0-9 _ -)`);
    if (this.bucket !== "" && this.fileserver !== "") throw new InvalidArgumentError("give fileserver_url or object_store for link payloads, not both");
  }
  get none(): boolean {
    return this.fileserver === "" && this.bucket === "";
  }
  placeholder(dataname: string): string {
    return this.bucket !== "" ? objectLinkUrl(this.bucket, objectNameFor(dataname)) : placeholderUrl(this.fileserver, dataname);
  }
}

/** Sizes a payload as a link: a placeholder URL and digest as long as the real ones (upload()
 *  fills both). The caller's metadata object is not changed. */
function markLink(it: Outgoing, store: LinkStore): void {
  const p = it.payload;
  p.url = store.placeholder(p.dataname);
  const meta: Record<string, unknown> = {};
  for (const k of Object.keys(p.metadata)) meta[k] = p.metadata[k];
  meta[DIGEST_KEY] = DIGEST_PLACEHOLDER;
  p.metadata = meta;
}

/** The envelope fields of a send. */
function envelopeFor(nc: NatsConnection, subject: string, o: SendOptions): MessageEnvelope {
  const env = new MessageEnvelope();
  env.dialect = dialectOf(o.dialect);
  env.correlation_id = o.correlation_id === undefined ? uuid4() : str(o.correlation_id, "correlation_id");
  env.msg_id = o.msg_id === undefined ? uuid4() : str(o.msg_id, "msg_id");
  env.timestamp = isoNow();
  env.send_to = subject;
  env.msg_purpose = str(o.msg_purpose, "msg_purpose");
  env.sender_name = o.sender_name === undefined ? nc.options.name : str(o.sender_name, "sender_name");
  env.sender_id = o.sender_id === undefined ? uuid4() : str(o.sender_id, "sender_id");
  env.receiver_name = str(o.receiver_name, "receiver_name");
  env.receiver_id = str(o.receiver_id, "receiver_id");
  env.reply_to = str(o.reply_to, "reply_to");
  env.reply_to_msg_id = str(o.reply_to_msg_id, "reply_to_msg_id");
  const server = nc.getServer();
  env.broker_url = o.broker_url === undefined ? (server === "" ? "" : `nats://${server}`) : str(o.broker_url, "broker_url");
  if (o.metadata !== undefined) {
    if (o.metadata === null || typeof o.metadata !== "object") throw new InvalidArgumentError("metadata must be an object");
    env.metadata = o.metadata;
  }
  return env;
}

/** The limit an envelope must fit: min(size_threshold, max_payload - headers). */
function envelopeLimit(nc: NatsConnection, o: SendOptions): number {
  const maxPayload = nc.info?.max_payload ?? 1048576;
  let limit = maxPayload - headerLength(o.headers);
  if (o.size_threshold !== undefined) {
    if (typeof o.size_threshold !== "number" || !(o.size_threshold > 0)) throw new InvalidArgumentError("size_threshold must be a positive number of bytes");
    limit = Math.min(limit, o.size_threshold);
  }
  return limit;
}

/**
 * Sends `payloads` as one NATSBridge envelope on `subject`; resolves with the envelope as sent
 * (link payloads carry their URL in `url`; `data` is not kept). Throws InvalidArgumentError,
 * UnknownPayloadTypeError, PayloadLimitError (too large and no fileserver_url), LinkError.
 */
export async function smartsend(nc: NatsConnection, subject: string, payloads: readonly (PayloadInput | readonly unknown[])[], options: SendOptions = {}): Promise<MessageEnvelope> {
  checkOptions(options, SEND_OPTIONS, "smartsend()");
  return send(nc, subject, payloads, options);
}

/** smartsend() without the name check: for the bridge's own calls, whose options are built here. */
async function send(nc: NatsConnection, subject: string, payloads: readonly (PayloadInput | readonly unknown[])[], options: SendOptions): Promise<MessageEnvelope> {
  if (!Array.isArray(payloads)) throw new InvalidArgumentError("payloads must be an array of { dataname, data, type }");
  const encoder = new TextEncoder();
  const env = envelopeFor(nc, subject, options);
  const items = payloads.map((p) => prepare(p, encoder));
  for (const it of items) env.payloads.push(it.payload);
  const store = new LinkStore(options);
  const maxPayload = (nc.info?.max_payload ?? 1048576) - headerLength(options.headers);
  const limit = envelopeLimit(nc, options);
  for (const it of items) if (it.payload.transport === "link") markLink(it, store);
  let lay: Layout = layout(env, items, encoder);
  // the largest direct payloads go by link until the envelope fits
  while (lay.total > limit) {
    let largest: Outgoing | null = null;
    for (const it of items) if (it.payload.transport === "direct" && (largest === null || it.size > largest.size)) largest = it;
    if (largest === null || store.none)
      throw new PayloadLimitError(
        "the envelope",
        lay.total,
        limit,
        store.none ? "give fileserver_url (or object_store) so that large payloads travel by link, or raise size_threshold" : "even with every payload by link it does not fit; send fewer payloads",
      );
    largest.payload.transport = "link";
    markLink(largest, store);
    lay = layout(env, items, encoder);
  }
  const links = items.filter((it) => it.payload.transport === "link");
  if (links.length > 0) {
    if (store.none) throw new InvalidArgumentError("a link payload needs fileserver_url or object_store");
    const settings = new LinkSettings(options);
    for (const it of links) it.payload.url = store.bucket !== "" ? await uploadObject(nc, store.bucket, it, settings) : await upload(store.fileserver, it, settings);
    lay = layout(env, items, encoder);
  }
  if (lay.total > maxPayload) throw new MaxPayloadError(lay.total + headerLength(options.headers), maxPayload + headerLength(options.headers));
  const pubOptions: { reply?: string; headers?: MsgHdrs } = {};
  if (options.reply !== undefined) pubOptions.reply = options.reply;
  if (options.headers !== undefined) pubOptions.headers = options.headers;
  const w = lay.total <= SMALL_ENVELOPE ? new BufferedPublish(nc, subject, lay.total, pubOptions) : await openStream(nc, subject, lay.total, pubOptions);
  await writeEnvelope(w, lay, items);
  return env;
}

/**
 * The streaming publish (nats-xs/stream) for this message. One streamed message may be open per connection:
 * while another is (a concurrent smartsend), wait for it to end, up to STREAM_WAIT_MS.
 */
async function openStream(nc: NatsConnection, subject: string, size: number, options: { reply?: string; headers?: MsgHdrs }): Promise<PublishStream> {
  const deadline = Date.now() + STREAM_WAIT_MS;
  for (;;) {
    try {
      return publishStream(nc, subject, size, options);
    } catch (e) {
      if (!(e instanceof StreamBusyError) || Date.now() > deadline) throw e;
      await streamIdle(nc);
    }
  }
}

/**
 * The largest payload of `type` named `dataname` that goes direct in an envelope sent with
 * `options` on this connection (its other fields as they would be written): the answer to "how big
 * may a direct payload be" under max_payload and size_threshold, base64 and JSON counted.
 */
export function maxDirectSize(nc: NatsConnection, subject: string, options: SendOptions = {}, dataname = "data", type = "binary"): number {
  const encoder = new TextEncoder();
  const env = envelopeFor(nc, subject, options);
  const it = prepare({ dataname, type, data: new Uint8Array(0) }, encoder);
  env.payloads.push(it.payload);
  const base = layout(env, [it], encoder).total - 1; // without the "0" of "size":0
  const limit = envelopeLimit(nc, options);
  const fits = (n: number) => base + String(n).length + base64Length(n) <= limit;
  let lo = 0;
  let hi = Math.max(0, Math.ceil(limit * 0.75) + 3);
  if (!fits(0)) return -1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---- receiving -----------------------------------------------------------------------------------

class ReceiveSettings {
  readonly sink: SinkFactory | undefined;
  readonly maxSize: number;
  readonly maxFieldBytes: number;
  readonly maxDepth: number;
  readonly maxPayloads: number;
  readonly maxValues: number;
  readonly maxHeldBytes: number;
  readonly maxKeys: number;
  readonly maxPending: number;
  readonly maxPendingBytes: number;
  /** The allowlist as configured (link_hosts, else fileserver_url's host:port); null: the NATS
   *  server's host, known per envelope. */
  readonly linkHosts: readonly string[] | null;
  readonly requireDigest: boolean;
  readonly link: LinkSettings;
  /** Buckets object links may name. */
  readonly linkBuckets: readonly string[];
  readonly connection: NatsConnection | null;
  constructor(o: ReceiveOptions) {
    this.sink = o.sink;
    this.maxSize = o.max_size ?? DEFAULT_MAX_SIZE;
    this.maxFieldBytes = o.max_field_bytes ?? DEFAULT_FIELD_BYTES;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 0) throw new InvalidArgumentError("max_size must be a whole number of bytes");
    if (!Number.isInteger(this.maxFieldBytes) || this.maxFieldBytes < 64) throw new InvalidArgumentError("max_field_bytes must be at least 64");
    try {
      this.maxDepth = bound(o.max_depth, DEFAULT_MAX_DEPTH, 1, "max_depth");
      this.maxPayloads = bound(o.max_payloads, DEFAULT_MAX_PAYLOADS, 1, "max_payloads");
      this.maxValues = bound(o.max_values, DEFAULT_MAX_VALUES, 1, "max_values");
      this.maxHeldBytes = bound(o.max_held_bytes, DEFAULT_MAX_HELD_BYTES, 0, "max_held_bytes");
      this.maxKeys = bound(o.max_keys, DEFAULT_MAX_KEYS, 0, "max_keys");
      this.maxPending = bound(o.max_pending, DEFAULT_MAX_PENDING, 0, "max_pending");
      this.maxPendingBytes = bound(o.max_pending_bytes, DEFAULT_MAX_PENDING_BYTES, 0, "max_pending_bytes");
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    if (o.link_hosts !== undefined) {
      if (!Array.isArray(o.link_hosts) || o.link_hosts.some((h) => typeof h !== "string" || h === "")) throw new InvalidArgumentError("link_hosts must be an array of host names, host:port or \"*\"");
      this.linkHosts = o.link_hosts.slice();
    } else if (o.fileserver_url !== undefined && o.fileserver_url !== "") {
      try {
        this.linkHosts = [allowEntryOf(str(o.fileserver_url, "fileserver_url"))];
      } catch (e) {
        throw new InvalidArgumentError(`fileserver_url is not a valid http URL: ${(e as Error).message}`);
      }
    } else this.linkHosts = null;
    this.requireDigest = o.require_digest === true;
    this.link = new LinkSettings(o);
    if (o.link_buckets !== undefined) {
      if (!Array.isArray(o.link_buckets) || o.link_buckets.some((b) => typeof b !== "string" || !validBucket(b))) throw new InvalidArgumentError("link_buckets must be an array of bucket names (A-Z a-z 0-9 _ -)");
      this.linkBuckets = o.link_buckets.slice();
    } else if (o.object_store !== undefined && o.object_store !== "") {
      if (typeof o.object_store !== "string" || !validBucket(o.object_store)) throw new InvalidArgumentError("object_store must be a bucket name (A-Z a-z 0-9 _ -)");
      this.linkBuckets = [o.object_store];
    } else this.linkBuckets = [];
    this.connection = o.connection ?? null;
  }

  scanner(): EnvelopeScanner {
    return new EnvelopeScanner({
      sink: this.sink,
      maxSize: this.maxSize,
      maxFieldBytes: this.maxFieldBytes,
      maxDepth: this.maxDepth,
      maxPayloads: this.maxPayloads,
      maxValues: this.maxValues,
      maxHeldBytes: this.maxHeldBytes,
      maxKeys: this.maxKeys,
    });
  }

  /** The allowlist for an envelope that came from the NATS server `server` ("host:port" or ""). */
  allowed(server: string): readonly string[] {
    if (this.linkHosts !== null) return this.linkHosts;
    const colon = server.lastIndexOf(":");
    return server === "" ? [] : [colon < 0 ? server : server.substring(0, colon)];
  }
}

function hasLinks(env: MessageEnvelope): boolean {
  for (const p of env.payloads) if (p.transport === "link") return true;
  return false;
}

/**
 * Checks every link of `env` before any is fetched: a strict URL, a host on the allowlist, the size
 * bound, the digest when one is required or declared. Returns the digest checks, by payload index.
 */
function checkLinks(env: MessageEnvelope, s: ReceiveSettings, allowed: readonly string[]): (DigestCheck | null)[] {
  const checks: (DigestCheck | null)[] = [];
  for (const p of env.payloads) {
    if (p.transport !== "link") {
      checks.push(null);
      continue;
    }
    const object = isObjectLink(p.url);
    if (object) {
      const o = validateObjectLink(p.url);
      if (s.linkBuckets.indexOf(o.bucket) < 0)
        throw new LinkError(
          `refused a link to the object store bucket ${o.bucket}, which is not on this receiver's link_buckets (${s.linkBuckets.length === 0 ? "none" : s.linkBuckets.join(", ")}); add it to link_buckets or set object_store`,
          p.url,
        );
    } else {
      const target = validateLinkUrl(p.url);
      if (!hostAllowed(target, allowed))
        throw new LinkError(
          `refused a link to ${target.host}:${target.port}, which is not on this receiver's link_hosts (${allowed.length === 0 ? "none" : allowed.join(", ")}); add it to link_hosts or set fileserver_url`,
          p.url,
        );
    }
    if (p.size > s.maxSize) throw new PayloadLimitError(`linked payload ${JSON.stringify(p.dataname)}`, p.size, s.maxSize, "raise max_size in the receive options");
    const want = declaredDigest(p, s.requireDigest);
    // an object's bytes are checked by nats-xs/obj against its digest, compared with this one
    checks.push(want === null || object ? null : new DigestCheck(want));
  }
  return checks;
}

/** Downloads the link payloads of `env`, in order, into their sinks (or `data`, counted against
 *  the envelope's budget). */
async function fetchLinks(env: MessageEnvelope, s: ReceiveSettings, decoder: TextDecoder, budget: EnvelopeBudget, allowed: readonly string[], nc: NatsConnection | null): Promise<void> {
  const checks = checkLinks(env, s, allowed);
  for (let i = 0; i < env.payloads.length; i++) {
    const p = env.payloads[i];
    if (p.transport !== "link") continue;
    let sink: PayloadSink | null | undefined | void = s.sink === undefined ? null : s.sink(p, env);
    let collector: Collector | null = null;
    let limit = s.maxSize;
    if (sink === null || sink === undefined) {
      limit = Math.min(limit, budget.room);
      if (p.size > limit) budget.hold(p.size, `linked payload ${JSON.stringify(p.dataname)} without a sink`);
      collector = new Collector(p.size, limit);
      sink = collector;
    }
    try {
      if (isObjectLink(p.url)) {
        const conn = nc ?? s.connection;
        if (conn === null) throw new LinkError("an object link needs a NATS connection: give smartreceive the receive option connection", p.url);
        await downloadObject(conn, validateObjectLink(p.url), p, sink, limit, s.link, declaredDigest(p, s.requireDigest));
      } else await download(p, sink, limit, s.link, checks[i]);
      if (collector !== null) budget.hold(p.size, `linked payload ${JSON.stringify(p.dataname)} without a sink`);
    } catch (e) {
      if (sink.abort !== undefined) {
        try {
          sink.abort(e as Error);
        } catch {
          // the caller gets `e`
        }
      }
      throw e;
    }
    if (collector !== null) p.data = decodeValue(p, collector.bytes(), decoder, budget);
    else if (sink.end !== undefined) sink.end(p);
  }
}

/**
 * Reads the envelope of a whole message (call it inside the subscription callback: the message's
 * bytes are read before the first await) and downloads its link payloads. Rejects with a typed
 * BridgeError when the envelope is malformed.
 */
export async function smartreceive(msg: Msg, options: ReceiveOptions = {}): Promise<MessageEnvelope> {
  checkOptions(options, RECEIVE_OPTIONS, "smartreceive()");
  const s = new ReceiveSettings(options);
  const scanner = s.scanner();
  scanner.begin();
  let env: MessageEnvelope;
  try {
    scanner.push(msg.data);
    env = scanner.end();
  } catch (e) {
    scanner.abort(e as Error);
    throw e;
  }
  env.subject = msg.subject;
  env.reply = msg.reply;
  if (hasLinks(env)) await fetchLinks(env, s, new TextDecoder(), scanner.budget, s.allowed(""), null);
  return env;
}

/** Counts of an EnvelopeReceiver. */
export interface ReceiverStats {
  /** Envelopes reported whole. */
  envelopes: number;
  /** Envelopes reported with an error (drops included). */
  errors: number;
  /** Envelopes dropped because the queue behind a link download was full. */
  dropped: number;
  /** Envelopes waiting for their turn now (the one downloading included). */
  pending: number;
  /** Bytes the waiting envelopes hold now. */
  pendingBytes: number;
}

/**
 * Reads envelopes from the chunks of a chunked subscription (or whole messages), one scanner for
 * the subscription: memory does not grow with the size of the message. `push` every MsgChunk in
 * the order the subscription delivers them; the callback runs once per message.
 *
 * Envelopes are reported in order: while one waits for its link downloads, later ones wait behind
 * it, at most `max_pending` of them holding at most `max_pending_bytes`; an envelope beyond either
 * bound is dropped, counted, and reported as EnvelopeDroppedError. `nc`, when given, names the NATS
 * server whose host is the default link allowlist.
 */
export class EnvelopeReceiver {
  private readonly scanner: EnvelopeScanner;
  private readonly s: ReceiveSettings;
  private readonly callback: EnvelopeCallback;
  private readonly decoder = new TextDecoder();
  private readonly nc: NatsConnection | null;
  /** host:port of the server the current message came from (the last one known). */
  private server = "";
  /** The current message failed (or was dropped): its remaining chunks are ignored. */
  private failed = false;
  /** Envelopes in the ordered chain: the one downloading and those waiting behind it. */
  private busy = 0;
  private pendingBytes = 0;
  private tail: Promise<void> = Promise.resolve();
  private envelopes = 0;
  private errors = 0;
  private dropped = 0;

  constructor(callback: EnvelopeCallback, options: ReceiveOptions = {}, nc: NatsConnection | null = null) {
    if (typeof callback !== "function") throw new InvalidArgumentError("EnvelopeReceiver needs a callback");
    this.callback = callback;
    this.s = new ReceiveSettings(options);
    this.scanner = this.s.scanner();
    this.nc = nc;
  }

  /** What this receiver has seen and dropped. */
  stats(): ReceiverStats {
    return { envelopes: this.envelopes, errors: this.errors, dropped: this.dropped, pending: this.busy, pendingBytes: this.pendingBytes };
  }

  /** Feeds one chunk (or a whole message). */
  push(msg: Msg): void {
    const chunk = msg instanceof MsgChunk ? msg : null;
    const offset = chunk === null ? 0 : chunk.offset;
    const last = chunk === null ? true : chunk.last;
    if (offset === 0) {
      this.failed = false;
      if (last && msg.data.length === 0) {
        const h = msg.headers;
        if (h !== undefined && h.code === 503) return this.report(new NoRespondersError(msg.subject), null);
      }
      if (this.nc !== null) {
        const server = this.nc.getServer();
        if (server !== "") this.server = server;
      }
      if (this.busy > 0 && this.busy - 1 >= this.s.maxPending) {
        // the queue is full: this envelope is not read at all (no sink sees any of it)
        this.failed = true;
        return this.drop(msg.subject, `${this.busy - 1} envelopes already wait behind a link download (max_pending ${this.s.maxPending})`);
      }
      this.scanner.begin();
    }
    if (this.failed) return;
    let env: MessageEnvelope;
    try {
      this.scanner.push(msg.data);
      if (!last) return;
      env = this.scanner.end();
    } catch (e) {
      this.failed = true;
      this.scanner.abort(e as Error);
      return this.report(e as Error, null);
    }
    env.subject = msg.subject;
    env.reply = msg.reply;
    if (this.busy === 0 && !hasLinks(env)) return this.report(null, env);
    const budget = this.scanner.budget;
    const held = budget.held;
    if (this.busy > 0 && this.pendingBytes + held > this.s.maxPendingBytes)
      return this.drop(msg.subject, `the envelopes waiting behind a link download would hold ${this.pendingBytes + held} bytes (max_pending_bytes ${this.s.maxPendingBytes})`);
    const allowed = this.s.allowed(this.server);
    this.busy++;
    this.pendingBytes += held;
    this.tail = this.tail
      .then(() => fetchLinks(env, this.s, this.decoder, budget, allowed, this.nc))
      .then(
        () => this.report(null, env),
        (e: Error) => this.report(e, null),
      )
      .finally(() => {
        this.busy--;
        this.pendingBytes -= held;
      });
  }

  private drop(subject: string, why: string): void {
    this.dropped++;
    this.report(new EnvelopeDroppedError(subject, why, this.dropped), null);
  }

  private report(err: Error | null, env: MessageEnvelope | null): void {
    if (err === null) this.envelopes++;
    else this.errors++;
    try {
      if (err !== null) this.callback(err, null);
      else this.callback(null, env as MessageEnvelope);
    } catch {
      // a throwing callback must not stop the envelopes after it
    }
  }
}

/** Subscribes with chunked delivery and calls `options.callback` once per envelope (or error). */
export function smartsubscribe(nc: NatsConnection, subject: string, options: SmartSubscribeOptions): Subscription {
  checkOptions(options, SUBSCRIBE_OPTIONS, "smartsubscribe()");
  return subscribeEnvelopes(nc, subject, options);
}

/** smartsubscribe() without the name check: for the bridge's own calls. */
function subscribeEnvelopes(nc: NatsConnection, subject: string, options: SmartSubscribeOptions): Subscription {
  const rx = new EnvelopeReceiver(options.callback, options, nc);
  return nc.subscribe(subject, {
    queue: options.queue,
    max: options.max,
    chunks: true,
    callback: (err, msg) => {
      if (err !== null) {
        options.callback(err, null);
        return;
      }
      if (msg !== null) rx.push(msg);
    },
  });
}

/** Answers `request`: to its reply_to (or the message's reply subject), with its correlation_id
 *  and reply_to_msg_id set to its msg_id. */
export function smartreply(nc: NatsConnection, request: MessageEnvelope, payloads: readonly (PayloadInput | readonly unknown[])[], options: SendOptions = {}): Promise<MessageEnvelope> {
  const to = request.reply_to !== "" ? request.reply_to : request.reply;
  if (to === "") return Promise.reject(new InvalidArgumentError("the envelope has no reply_to and its message no reply subject"));
  return smartsend(nc, to, payloads, {
    ...options,
    correlation_id: request.correlation_id,
    reply_to_msg_id: request.msg_id,
    receiver_name: options.receiver_name ?? request.sender_name,
    receiver_id: options.receiver_id ?? request.sender_id,
  });
}

/** Sends an envelope whose reply_to is a fresh inbox and resolves with the first envelope that
 *  comes back there; rejects with TimeoutError, NoRespondersError or a BridgeError. */
export function smartrequest(
  nc: NatsConnection,
  subject: string,
  payloads: readonly (PayloadInput | readonly unknown[])[],
  options: SendOptions & ReceiveOptions & { timeout_ms?: number } = {},
): Promise<MessageEnvelope> {
  try {
    checkOptions(options, REQUEST_OPTIONS, "smartrequest()");
  } catch (e) {
    return Promise.reject(e);
  }
  const timeout = options.timeout_ms ?? 5000;
  const inbox = `${nc.options.inboxPrefix}.${uuid4().replace(/-/g, "")}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let sub: Subscription | null = null;
    const finish = () => {
      settled = true;
      Timer.clear(timer);
      if (sub !== null) sub.unsubscribe();
    };
    const timer = Timer.set(() => {
      if (settled) return;
      finish();
      reject(new TimeoutError(`no NATSBridge reply to the envelope on ${JSON.stringify(subject)} within ${timeout} ms`));
    }, timeout);
    const { timeout_ms: _wait, ...rest } = options;
    sub = subscribeEnvelopes(nc, inbox, {
      ...(rest as ReceiveOptions),
      max: 1,
      callback: (err, env) => {
        if (settled) return;
        finish();
        // the 503 status arrives on the inbox: name the subject the caller asked, as request() does
        if (err instanceof NoRespondersError) reject(new NoRespondersError(subject));
        else if (err !== null) reject(err);
        else resolve(env as MessageEnvelope);
      },
    });
    send(nc, subject, payloads, { ...(rest as SendOptions), reply_to: inbox, reply: inbox }).catch((e: unknown) => {
      if (settled) return;
      finish();
      reject(e);
    });
  });
}
