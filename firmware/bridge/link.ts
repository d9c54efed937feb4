/**
 * The link transport (claim-check): payloads too large for the envelope go to an HTTP file server
 * speaking the part of Plik's API that NATSBridge uses, and the envelope carries their URL.
 *
 *   POST /upload                           -> {"id": uploadId, "uploadToken": token, ...}
 *   POST /file/:uploadId  (multipart, field "file", header X-UploadToken) -> {"id": fileId, "fileName", ...}
 *   GET  /file/:uploadId/:fileId/:fileName -> the bytes (Range honoured where the server allows)
 *
 * Both directions stream through the HTTP client's fixed buffers: an upload reads the payload
 * (bytes or a PayloadSource) a piece at a time, a download hands each piece to the payload's sink.
 * Failures are retried with exponential backoff (max_retries 5, base_delay 100 ms, max_delay
 * 5000 ms by default); a download that broke off resumes with `Range: bytes=<got>-`, and when the
 * server ignores the Range the bytes already delivered are skipped, so the sink sees each byte once.
 *
 * Untrusted links: a URL from an envelope is validated strictly (validateLinkUrl) and its host
 * checked against the receiver's allowlist before anything is sent; a transfer has an overall
 * deadline (all attempts and waits together) besides the no-progress timeout; a declared SHA-256
 * digest is verified as the bytes stream (digest.ts).
 */
import Timer from "timer";
import type { TimerId } from "timer";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import { InvalidArgumentError, TlsError } from "nats-xs";
import type { TlsOptions } from "nats-xs";
import { BridgeError, LinkError, PayloadLimitError, PayloadSizeError } from "./errors.js";
import { HttpExchange, HttpResponseHead, parseUrl } from "./http.js";
import type { HttpBodyWriter, HttpOptions, HttpResponseHandler, HttpTarget } from "./http.js";
import type { MessagePayload } from "./envelope.js";
import type { PayloadSink } from "./scanner.js";
import type { Outgoing, PayloadSource } from "./writer.js";
import { uuid4 } from "./ids.js";
import { DIGEST_KEY, DigestWriter } from "./digest.js";
import type { DigestCheck } from "./digest.js";
import { jsonShape } from "./bounds.js";

/** Progress of a link transfer: bytes done of total (-1 when unknown), after each piece. */
export type ProgressCallback = (direction: "upload" | "download", dataname: string, done: number, total: number) => void;

export interface LinkOptions {
  /** Attempts after the first one (default 5). */
  max_retries?: number;
  /** Milliseconds before the first retry; doubles on each one (default 100). */
  base_delay?: number;
  /** Cap of the delay between retries in milliseconds (default 5000). */
  max_delay?: number;
  /** Milliseconds without progress before an attempt fails (default 10000). */
  timeout?: number;
  /** Milliseconds a whole transfer may take, every attempt and wait included (default 120000). */
  deadline?: number;
  /** HTTP read and write buffer in bytes (default 1024). */
  buffer_bytes?: number;
  /** Called as a link transfer goes on; by default after every piece (`buffer_bytes`). */
  progress?: ProgressCallback;
  /** Call `progress` only once this many more bytes have passed since the last call (default 0:
   *  every piece). The last piece of a transfer of known size is always reported. */
  progress_bytes?: number;
  /** Call `progress` at most once per this many milliseconds (default 0: every piece). With
   *  `progress_bytes` too, both gaps must have passed. The last piece is always reported. */
  progress_ms?: number;
  /** DNS servers for file server host names (default ["1.1.1.1", "8.8.8.8"]). */
  dns_servers?: string[];
  /** For https:// links, in nats.js's shape: `ca` (PEM text or bytes: the CA the file server's
   *  certificate must chain to, instead of the device's trusted roots), `cert` and `key` (a client
   *  certificate), `serverName` (the name the certificate must carry, and SNI; default the URL's
   *  host). Needs `nats-xs/tls` in the build. Not used for http:// links. */
  tls?: TlsOptions;
}

const TLS_KEYS = Object.freeze(["ca", "cert", "key", "serverName"]);

function pem(value: unknown, name: string): string | Uint8Array | undefined {
  if (value === undefined || typeof value === "string" || value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(`link option tls.${name} must be PEM text or its bytes`);
}

/** Checks the link option `tls` as connect() checks its own: unknown keys are errors. */
function tlsOptions(value: unknown): TlsOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object") throw new InvalidArgumentError("link option tls must be an object { ca, cert, key, serverName }");
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (TLS_KEYS.indexOf(key) < 0) throw new InvalidArgumentError(`link option tls.${key} is not supported; give ca, cert and key as PEM text or bytes, and serverName`);
  const cert = pem(o.cert, "cert");
  const key = pem(o.key, "key");
  if ((cert === undefined) !== (key === undefined)) throw new InvalidArgumentError("link option tls needs both cert and key for a client certificate, or neither");
  if (o.serverName !== undefined && (typeof o.serverName !== "string" || o.serverName === "")) throw new InvalidArgumentError("link option tls.serverName must be a host name");
  return { ca: pem(o.ca, "ca"), cert, key, serverName: o.serverName as string | undefined };
}

/** Link options with their defaults. */
export class LinkSettings {
  readonly maxRetries: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly deadline: number;
  readonly http: HttpOptions;
  readonly progress: ProgressCallback | null;
  readonly progressBytes: number;
  readonly progressMs: number;
  constructor(o: LinkOptions = {}) {
    this.maxRetries = count(o.max_retries, 5, "max_retries");
    this.baseDelay = count(o.base_delay, 100, "base_delay");
    this.maxDelay = count(o.max_delay, 5000, "max_delay");
    this.deadline = Math.max(1, count(o.deadline, DEFAULT_DEADLINE, "deadline"));
    this.http = {
      timeout: Math.max(1, count(o.timeout, 10000, "timeout")),
      bufferBytes: Math.max(256, count(o.buffer_bytes, 1024, "buffer_bytes")),
      dnsServers: o.dns_servers ?? ["1.1.1.1", "8.8.8.8"],
      tls: tlsOptions(o.tls),
    };
    if (o.progress !== undefined && typeof o.progress !== "function") throw new RangeError("link option progress must be a function (direction, dataname, done, total)");
    this.progress = typeof o.progress === "function" ? o.progress : null;
    this.progressBytes = count(o.progress_bytes, 0, "progress_bytes");
    this.progressMs = count(o.progress_ms, 0, "progress_ms");
  }
}

/** The progress calls of one transfer, thinned out as progress_bytes and progress_ms say. */
export class Progress {
  private readonly s: LinkSettings;
  private readonly direction: "upload" | "download";
  private readonly name: string;
  private bytes = 0;
  private time: number;

  constructor(s: LinkSettings, direction: "upload" | "download", name: string) {
    this.s = s;
    this.direction = direction;
    this.name = name;
    this.time = s.progressMs > 0 ? Date.now() : 0;
  }

  report(done: number, total: number): void {
    const s = this.s;
    const cb = s.progress;
    if (cb === null) return;
    if (!(total >= 0 && done >= total)) {
      if (done - this.bytes < s.progressBytes) return;
      if (s.progressMs > 0 && Date.now() - this.time < s.progressMs) return;
    }
    this.bytes = done;
    if (s.progressMs > 0) this.time = Date.now();
    cb(this.direction, this.name, done, total);
  }
}

/** Default overall deadline of one link transfer: 10 MB at about 100 KB/s, a slow device link. */
export const DEFAULT_DEADLINE = 120000;

function count(v: unknown, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new RangeError(`link option ${name} must be a whole number >= 0`);
  return v;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    Timer.set(() => resolve(), ms);
  });
}

/** Worth another attempt: no (complete) response, a server error, a timeout or a rate limit; not
 *  a TLS handshake the certificate check refused (the same check refuses it again). */
function retryable(e: unknown): boolean {
  if (!(e instanceof LinkError) || e.cause instanceof TlsError) return false;
  return e.status === 0 || e.status >= 500 || e.status === 408 || e.status === 429;
}

/**
 * The overall deadline of one transfer: one timer for all its attempts, which aborts the exchange
 * running when it fires. (No wrapper around each exchange: the stack of the synchronous chain down
 * to the socket's constructor is counted in slots on XS.)
 */
class Deadline {
  readonly at: number;
  private timer: TimerId | null;
  private current: HttpExchange | null = null;
  private expired = false;
  private readonly url: string;
  private readonly ms: number;
  constructor(ms: number, url: string) {
    this.at = Date.now() + ms;
    this.url = url;
    this.ms = ms;
    this.timer = Timer.set(() => {
      this.timer = null;
      this.expired = true;
      if (this.current !== null) this.current.abort(this.error());
    }, ms);
  }
  // made when needed, from the timer's shallow stack: an error's constructor chain is four frames
  private error(): LinkError {
    return new LinkError(`the transfer did not finish within its deadline of ${this.ms} ms`, this.url);
  }
  /** The exchange that runs now (it is aborted at once when the deadline has passed). */
  track(ex: HttpExchange): HttpExchange {
    this.current = ex;
    if (this.expired) ex.abort(this.error());
    return ex;
  }
  clear(): void {
    Timer.clear(this.timer);
    this.timer = null;
    this.current = null;
  }
}

/** Runs `attempt` until it succeeds, a non-retryable error comes, the retries are spent or the
 *  next wait would end past the deadline. */
async function withRetries<T>(s: LinkSettings, deadline: Deadline, attempt: (n: number) => Promise<T>): Promise<T> {
  // Go on from a job of its own: the attempt then starts on a nearly empty stack instead of on top
  // of its callers' frames (smartsend -> upload -> here use over 200 of a device's 512 stack slots,
  // and the HTTP exchange needs about 100 more).
  await undefined;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n >= s.maxRetries || !retryable(e)) throw e;
      const wait = Math.min(s.maxDelay, s.baseDelay * 2 ** n);
      if (Date.now() + wait >= deadline.at) throw e;
      await sleep(wait);
    }
  }
}

/** Longest link URL accepted. */
export const MAX_URL_BYTES = 2048;

/** Where a validated link points. */
export class LinkTarget {
  readonly host: string;
  readonly port: number;
  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Checks a link URL from an envelope before anything of it reaches a request line: at most 2048
 * characters, `http://` or `https://`, no user info, a host that is a dotted IPv4 address or a DNS
 * name (labels of letters, digits and hyphens), an optional port of 1 to 65535, then a path of
 * printable ASCII only, where `%` starts two hex digits. CR, LF, spaces, controls, non-ASCII and
 * the characters RFC 3986 never allows (`"<>\^`{|}`) are refused. Throws LinkError; returns the
 * host (lower case) and port.
 */
export function validateLinkUrl(url: string): LinkTarget {
  const bad = (why: string): never => {
    throw new LinkError(`refused a link URL: ${why}`, url.length > 120 ? `${url.substring(0, 120)}...` : url);
  };
  if (typeof url !== "string" || url.length === 0) bad("it is empty");
  if (url.length > MAX_URL_BYTES) bad(`it is longer than ${MAX_URL_BYTES} characters`);
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 32 || c >= 127) bad(`character ${c} at ${i} (spaces, controls, CR, LF and non-ASCII are not allowed)`);
    if (c === 34 || c === 60 || c === 62 || c === 92 || c === 94 || c === 96 || c === 123 || c === 124 || c === 125) bad(`character '${String.fromCharCode(c)}' at ${i}`);
    if (c === 37 && !(i + 2 < url.length && isHex(url.charCodeAt(i + 1)) && isHex(url.charCodeAt(i + 2)))) bad(`a '%' not followed by two hex digits at ${i}`);
  }
  const lower = url.substring(0, 8).toLowerCase();
  const start = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : bad("only http:// and https:// links are fetched");
  let end = start;
  while (end < url.length && url[end] !== "/" && url[end] !== "?" && url[end] !== "#") end++;
  const authority = url.substring(start, end);
  if (authority.indexOf("@") >= 0) bad("user info in a link is not accepted");
  const colon = authority.indexOf(":");
  const host = (colon < 0 ? authority : authority.substring(0, colon)).toLowerCase();
  let port = start === 7 ? 80 : 443;
  if (colon >= 0) {
    const digits = authority.substring(colon + 1);
    if (digits.length === 0 || digits.length > 5) bad("a bad port");
    port = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (!isDigit(c)) bad("a bad port");
      port = port * 10 + c - 48;
    }
    if (port < 1 || port > 65535) bad("a port outside 1-65535");
  }
  if (host.length === 0 || host.length > 253) bad("a bad host");
  const labels = host.split(".");
  let numeric = true;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.charCodeAt(0) === 45 || label.charCodeAt(label.length - 1) === 45) bad("a bad host name");
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (!(isDigit(c) || (c >= 97 && c <= 122) || c === 45)) bad("a host must be an IPv4 address or a DNS name");
      if (!isDigit(c)) numeric = false;
    }
  }
  if (numeric && (labels.length !== 4 || labels.some((l) => l.length > 3 || Number(l) > 255))) bad("a bad IPv4 address");
  return new LinkTarget(host, port);
}

/** Whether `target` is on the allowlist: entries `host` (any port), `host:port`, or `*` (anything).
 *  `localhost` and `127.0.0.1` name the same host. */
export function hostAllowed(target: LinkTarget, allow: readonly string[]): boolean {
  const host = target.host === "localhost" ? "127.0.0.1" : target.host;
  for (const entry of allow) {
    if (entry === "*") return true;
    const e = entry.toLowerCase();
    const colon = e.lastIndexOf(":");
    let h = colon < 0 ? e : e.substring(0, colon);
    if (h === "localhost") h = "127.0.0.1";
    if (h !== host) continue;
    if (colon < 0 || Number(e.substring(colon + 1)) === target.port) return true;
  }
  return false;
}

/** The allowlist entry of a configured URL (fileserver_url): its host and port. */
export function allowEntryOf(url: string): string {
  const t = validateLinkUrl(url);
  return `${t.host}:${t.port}`;
}

/** Collects a small response body (JSON) up to a bound. */
class SmallBody implements HttpResponseHandler {
  status = 0;
  private buf = new Uint8Array(256);
  private n = 0;
  private readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  head(head: HttpResponseHead): void {
    this.status = head.status;
    if (head.contentLength > 65536) throw new LinkError("the file server's answer is too large", this.url, head.status);
  }
  data(bytes: Uint8Array): void {
    const need = this.n + bytes.length;
    if (need > 65536) throw new LinkError("the file server's answer is too large", this.url, this.status);
    if (need > this.buf.length) {
      const b = new Uint8Array(Math.max(need, this.buf.length * 2));
      b.set(this.buf.subarray(0, this.n));
      this.buf = b;
    }
    this.buf.set(bytes, this.n);
    this.n = need;
  }
  text(): string {
    return new TextDecoder().decode(this.buf.subarray(0, this.n));
  }
  json(what: string): Record<string, unknown> {
    if (this.status < 200 || this.status > 299)
      throw new LinkError(`the file server refused ${what} with HTTP ${this.status}${this.n > 0 && this.n < 200 ? `: ${this.text().trim()}` : ""}`, this.url, this.status);
    try {
      jsonShape(this.buf, 0, this.n, 16, 4096);
      const v = JSON.parse(this.text()) as unknown;
      if (v !== null && typeof v === "object") return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new LinkError(`the file server's answer to ${what} is not a JSON object`, this.url, this.status);
  }
}

function joinUrl(base: string, path: string): string {
  return base.endsWith("/") ? base.substring(0, base.length - 1) + path : base + path;
}

/** The file name a payload is stored under: its dataname, with what HTTP headers cannot carry
 *  replaced. */
function fileName(dataname: string): string {
  let s = "";
  for (let i = 0; i < dataname.length; i++) {
    const c = dataname.charCodeAt(i);
    s += c < 32 || c === 34 || c === 92 || c === 47 || c === 127 ? "_" : dataname[i];
  }
  return s === "" ? "payload" : s;
}

/**
 * Uploads one payload and returns its download URL. Memory: the HTTP client's buffers and one
 * piece of the payload (buffer_bytes) at a time.
 */
export async function upload(fileserverUrl: string, item: Outgoing, s: LinkSettings): Promise<string> {
  const deadline = new Deadline(s.deadline, fileserverUrl);
  try {
    const encoder = new TextEncoder();
    const name = fileName(item.payload.dataname);
    // 1. create the upload
    const createUrl = joinUrl(fileserverUrl, "/upload");
    const created = await withRetries(s, deadline, async () => {
      const body = encoder.encode("{}");
      const res = new SmallBody(createUrl);
      const ex = new HttpExchange("POST", parseUrl(createUrl), ["Content-Type", "application/json"], body.length, async (w) => {
        if (!w.write(body)) await w.ready();
      }, res, s.http);
      await deadline.track(ex).run();
      return res.json("the upload");
    });
    const uploadId = created.id;
    const token = created.uploadToken;
    if (typeof uploadId !== "string" || uploadId === "") throw new LinkError("the file server's upload has no id", createUrl);
    // 2. the file, as multipart form data
    const fileUrl = joinUrl(fileserverUrl, `/file/${encodeURIComponent(uploadId)}`);
    const boundary = `----nats-xs-${uuid4()}`;
    const prologue = encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const epilogue = encoder.encode(`\r\n--${boundary}--\r\n`);
    const total = prologue.length + item.size + epilogue.length;
    const headers = ["Content-Type", `multipart/form-data; boundary=${boundary}`];
    if (typeof token === "string" && token !== "") headers.push("X-UploadToken", token);
    const digest = new DigestWriter();
    const file = await withRetries(s, deadline, async () => {
      const res = new SmallBody(fileUrl);
      digest.reset();
      const ex = new HttpExchange("POST", parseUrl(fileUrl), headers, total, (w) => sendFile(w, prologue, item, epilogue, s, digest), res, s.http);
      await deadline.track(ex).run();
      return res.json("the file");
    });
    // the bytes are known now: the envelope carries their digest (a copy of the caller's metadata)
    const meta: Record<string, unknown> = {};
    for (const k of Object.keys(item.payload.metadata)) meta[k] = item.payload.metadata[k];
    meta[DIGEST_KEY] = digest.tag();
    item.payload.metadata = meta;
    const fileId = file.id;
    const storedName = typeof file.fileName === "string" && file.fileName !== "" ? file.fileName : name;
    if (typeof fileId !== "string" || fileId === "") throw new LinkError("the file server's file has no id", fileUrl);
    return joinUrl(fileserverUrl, `/file/${encodeURIComponent(uploadId)}/${encodeURIComponent(fileId)}/${encodeURIComponent(storedName)}`);
  } finally {
    deadline.clear();
  }
}

async function sendFile(w: HttpBodyWriter, prologue: Uint8Array, item: Outgoing, epilogue: Uint8Array, s: LinkSettings, digest: DigestWriter): Promise<void> {
  const piece = s.http.bufferBytes;
  if (!w.write(prologue)) await w.ready();
  const name = item.payload.dataname;
  const progress = s.progress === null ? null : new Progress(s, "upload", name);
  if (item.bytes !== null) {
    const b = item.bytes;
    for (let at = 0; at < b.length; at += piece) {
      const view = b.subarray(at, Math.min(b.length, at + piece));
      digest.write(view);
      if (!w.write(view)) await w.ready();
      if (progress !== null) progress.report(Math.min(b.length, at + piece), b.length);
    }
  } else {
    const src = item.source as PayloadSource;
    const buf = new Uint8Array(piece);
    let at = 0;
    while (at < src.size) {
      const want = Math.min(piece, src.size - at);
      const r = src.read(at, want === piece ? buf : buf.subarray(0, want));
      const got = typeof r === "number" ? r : await r;
      if (!(got > 0)) throw new BridgeError(`payload source of ${JSON.stringify(name)} ended at ${at} of ${src.size} bytes`, "BRIDGE_SOURCE");
      const view = got === piece ? buf : buf.subarray(0, got);
      digest.write(view);
      if (!w.write(view)) await w.ready();
      at += got;
      if (progress !== null) progress.report(at, src.size);
    }
  }
  if (!w.write(epilogue)) await w.ready();
}

/** Receives one download attempt into the sink, skipping bytes the sink already has. */
class DownloadBody implements HttpResponseHandler {
  private readonly p: MessagePayload;
  private readonly sink: PayloadSink;
  private readonly limit: number;
  private readonly url: string;
  private readonly check: DigestCheck | null;
  /** Bytes the sink holds (across attempts). */
  got = 0;
  /** Bytes of this response to drop before delivering (the server ignored our Range). */
  private skip = 0;
  /** Length of the whole file as the server states it (-1 unknown). */
  total = -1;
  private readonly progress: Progress | null;
  constructor(p: MessagePayload, sink: PayloadSink, limit: number, s: LinkSettings, check: DigestCheck | null) {
    this.check = check;
    this.p = p;
    this.sink = sink;
    this.limit = limit;
    this.url = p.url;
    this.progress = s.progress === null ? null : new Progress(s, "download", p.dataname);
  }
  head(h: HttpResponseHead): void {
    const p = this.p;
    if (h.status === 206 && h.rangeStart === this.got) {
      this.skip = 0;
      this.total = h.rangeTotal;
    } else if (h.status === 200 || h.status === 206) {
      // the whole file again (or a range we did not ask for): skip what the sink already has
      this.skip = h.status === 200 ? this.got : -1;
      if (this.skip < 0) throw new LinkError("the file server answered a different range than asked", this.url, h.status);
      this.total = h.contentLength;
    } else {
      throw new LinkError(`the file server answered HTTP ${h.status}`, this.url, h.status);
    }
    if (this.total >= 0) {
      if (p.size >= 0 && this.total !== p.size) throw new PayloadSizeError(p.dataname, p.size, this.total);
      if (this.total > this.limit) throw new PayloadLimitError(`linked payload ${JSON.stringify(p.dataname)}`, this.total, this.limit, "raise max_size in the receive options and give a sink");
    }
  }
  data(bytes: Uint8Array): void {
    if (this.skip > 0) {
      const drop = Math.min(this.skip, bytes.length);
      this.skip -= drop;
      if (drop === bytes.length) return;
      bytes = bytes.subarray(drop);
    }
    const p = this.p;
    const got = this.got + bytes.length;
    if (p.size >= 0 && got > p.size) throw new PayloadSizeError(p.dataname, p.size, got);
    if (got > this.limit) throw new PayloadLimitError(`linked payload ${JSON.stringify(p.dataname)}`, got, this.limit, "raise max_size in the receive options and give a sink");
    if (this.check !== null) this.check.write(bytes);
    this.sink.write(bytes);
    this.got = got;
    if (this.progress !== null) this.progress.report(got, p.size >= 0 ? p.size : this.total);
  }
}

/**
 * Downloads a link payload into `sink`, checking it against the declared size and `limit`, within
 * the overall deadline, and against `check` (the declared digest) after the last byte. The caller
 * validated the URL and its host first. Memory: the HTTP client's buffers; the sink gets one read
 * buffer's worth at a time.
 */
export async function download(p: MessagePayload, sink: PayloadSink, limit: number, s: LinkSettings, check: DigestCheck | null = null): Promise<void> {
  const target: HttpTarget = parseUrl(p.url);
  const body = new DownloadBody(p, sink, limit, s, check);
  const deadline = new Deadline(s.deadline, p.url);
  try {
    await withRetries(s, deadline, async () => {
      const headers: string[] = [];
      if (body.got > 0) headers.push("Range", `bytes=${body.got}-`);
      const head = await deadline.track(new HttpExchange("GET", target, headers, -1, null, body, s.http)).run();
      const expected = p.size >= 0 ? p.size : body.total;
      if (expected >= 0 && body.got < expected) {
        // the body ended early without the connection failing: a short file is a size error
        if (head.contentLength >= 0 || head.chunked) throw new PayloadSizeError(p.dataname, expected, body.got);
        throw new LinkError(`the download ended after ${body.got} of ${expected} bytes`, p.url, head.status);
      }
    });
  } finally {
    deadline.clear();
  }
  if (p.size < 0) p.size = body.got;
  if (check !== null) check.verify(p.dataname);
}
