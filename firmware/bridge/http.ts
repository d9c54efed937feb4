/**
 * A small HTTP/1.1 client on the device's TCP socket (`embedded:io/socket/tcp`), for the link
 * transport: one request per connection (`Connection: close`), a body streamed out under the
 * socket's backpressure, and a response parsed by a byte state machine whose body reaches the
 * caller a view at a time. It runs unchanged in the host simulator and on XS.
 *
 * Memory per request: the read buffer (`bufferBytes`, default 1024), a pending-write buffer of the
 * same size, one line buffer for the status line and headers (1024 bytes; longer lines are refused),
 * and the request head. Nothing grows with the size of the body.
 *
 * `https://`: the core's TLS layer (`nats-xs/tls`, the socket the NATS connection uses for
 * `tls://`) is stacked on the TCP socket while it connects. The module is loaded with `import()`
 * only for an https URL, so an app that never fetches one carries no TLS code; a build without it
 * gets the core's TransportUnavailableError, which names the manifest to include.
 */
import TCP from "embedded:io/socket/tcp";
import UDP from "embedded:io/socket/udp";
import Resolver from "embedded:network/dns/resolver/udp";
import Timer from "timer";
import type { TimerId } from "timer";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import { TlsError, TransportUnavailableError } from "nats-xs";
import type { Events, Layer, LayerModule, Socket, TlsOptions } from "nats-xs";
import { LinkError } from "./errors.js";

/** Where a request goes. */
export class HttpTarget {
  readonly host: string;
  readonly port: number;
  /** Path and query, starting with "/". */
  readonly path: string;
  readonly url: string;
  /** https: TLS on the TCP socket. */
  readonly secure: boolean;
  constructor(host: string, port: number, path: string, url: string, secure: boolean) {
    this.host = host;
    this.port = port;
    this.path = path;
    this.url = url;
    this.secure = secure;
  }
}

/** Splits an `http://host[:port]/path` or `https://` URL (port 80 or 443 by default); throws
 *  LinkError for anything else. */
export function parseUrl(url: string): HttpTarget {
  const lower = url.substring(0, 8).toLowerCase();
  const secure = lower.startsWith("https://");
  if (!secure && !lower.startsWith("http://")) throw new LinkError("a link must be an http:// or https:// URL", url);
  let rest = url.substring(secure ? 8 : 7);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.substring(0, slash);
  rest = slash < 0 ? "/" : rest.substring(slash);
  const at = authority.lastIndexOf("@");
  const hostport = at >= 0 ? authority.substring(at + 1) : authority;
  let host = hostport;
  let port = secure ? 443 : 80;
  const colon = hostport.lastIndexOf(":");
  if (colon >= 0 && hostport.indexOf("]") < colon) {
    host = hostport.substring(0, colon);
    port = Number(hostport.substring(colon + 1));
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new LinkError("the link has a bad port", url);
  }
  if (host === "" || host.charCodeAt(0) === 91) throw new LinkError("the link needs an IPv4 address or a host name", url);
  const hash = rest.indexOf("#");
  return new HttpTarget(host, port, hash >= 0 ? rest.substring(0, hash) : rest, url, secure);
}

/** The parts of a response the link transport looks at. */
export class HttpResponseHead {
  status = 0;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** From `Content-Range: bytes start-end/total`; -1 when absent. */
  rangeStart = -1;
  rangeTotal = -1;
  contentType = "";
}

/** Receives the response: `head` once (may throw to abort), then `data` views valid during the call. */
export interface HttpResponseHandler {
  head(head: HttpResponseHead): void;
  data(bytes: Uint8Array): void;
}

/** Writes a request body: `write` copies (false: await `ready()` before writing more). */
export interface HttpBodyWriter {
  write(bytes: Uint8Array): boolean;
  ready(): Promise<void>;
}

export interface HttpOptions {
  /** Milliseconds without any progress before the request fails. */
  timeout: number;
  /** Bytes read from the socket at once, and held for writing. */
  bufferBytes: number;
  /** DNS servers for host names. */
  dnsServers: readonly string[];
  /** Certificate verification, client certificate and server name of https links (nats.js's
   *  `tls` shape); undefined: the device's trusted roots and the URL's host. */
  tls: TlsOptions | undefined;
}

const enum R {
  Status,
  Header,
  Body,
  ChunkSize,
  ChunkExt,
  ChunkData,
  ChunkEnd,
  Trailer,
  UntilClose,
  Done,
}

const LINE_BYTES = 1024;
const MAX_HEADERS = 100;
const CR = 13;
const LF = 10;

function isIPv4(host: string): boolean {
  const parts = host.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return false;
  return true;
}

/**
 * One HTTP exchange. `run()` resolves with the response head once the whole body went to the
 * handler; rejects with LinkError (status 0: no complete response) or with what the handler threw.
 */
export class HttpExchange implements HttpBodyWriter {
  private readonly target: HttpTarget;
  private readonly head: Uint8Array;
  private readonly body: ((w: HttpBodyWriter) => Promise<void>) | null;
  private readonly handler: HttpResponseHandler;
  private readonly o: HttpOptions;
  /** What the exchange reads and writes: the TCP socket, or the TLS layer on it. */
  private socket: Socket | null = null;
  /** The TLS layer that takes the TCP socket's events (https), else null. */
  private tap: Layer | null = null;
  private writable = 0;
  /** Writable once: TCP connected and, for https, the TLS handshake done. */
  private connected = false;
  /** The TCP socket connected (an https failure after it and before #connected is the handshake's). */
  private tcpUp = false;
  private readonly pending: Uint8Array;
  private pendingLen = 0;
  private readyWaiter: (() => void) | null = null;
  private readonly rbuf: Uint8Array;
  private readonly line = new Uint8Array(LINE_BYTES);
  private lineLen = 0;
  private headers = 0;
  private state = R.Status;
  private remaining = 0;
  private readonly res = new HttpResponseHead();
  private readonly decoder = new TextDecoder();
  private timer: TimerId | null = null;
  /** The TLS layer module (https only), loaded by run(). */
  private tls: LayerModule | null = null;
  private last = 0;
  private finished = false;
  private resolve!: (head: HttpResponseHead) => void;
  private reject!: (err: unknown) => void;

  constructor(method: string, target: HttpTarget, headers: readonly string[], bodySize: number, body: ((w: HttpBodyWriter) => Promise<void>) | null, handler: HttpResponseHandler, options: HttpOptions) {
    this.target = target;
    this.body = body;
    this.handler = handler;
    this.o = options;
    let head = `${method} ${target.path} HTTP/1.1\r\nHost: ${target.host}${target.port === (target.secure ? 443 : 80) ? "" : `:${target.port}`}\r\nConnection: close\r\nUser-Agent: nats-xs\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    if (bodySize >= 0) head += `Content-Length: ${bodySize}\r\n`;
    this.head = new TextEncoder().encode(`${head}\r\n`);
    this.pending = new Uint8Array(options.bufferBytes);
    this.rbuf = new Uint8Array(options.bufferBytes);
  }

  run(): Promise<HttpResponseHead> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.last = Date.now();
      const every = Math.max(10, Math.min(1000, this.o.timeout >> 2));
      this.timer = Timer.repeat(() => {
        if (Date.now() - this.last > this.o.timeout) this.fail(new LinkError(`no progress for ${this.o.timeout} ms`, this.target.url));
      }, every);
      if (!this.target.secure) return this.resolveHost();
      // written out so that bundlers and manifests see the specifier
      import("nats-xs/tls").then(
        (m: LayerModule) => {
          if (this.finished) return;
          this.tls = m;
          this.resolveHost();
        },
        (e: unknown) => this.fail(new TransportUnavailableError(`the https link ${this.target.url}`, "nats-xs/tls", "manifests/nats-xs-tls/manifest.json", e)),
      );
    });
  }

  /** Ends the exchange now: `run()` rejects with `err`, the socket closes, nothing more reaches the
   *  handler (a caller's overall deadline). Does nothing once the exchange has finished. */
  abort(err: unknown): void {
    this.fail(err);
  }

  // ---- body writer --------------------------------------------------------------------------

  /** Copies `bytes` to the socket, or into the pending buffer what does not fit now; false when
   *  the caller should await ready(). Writes larger than the buffer are split by the caller. */
  write(bytes: Uint8Array): boolean {
    if (this.finished) throw new LinkError("the connection closed while the request was being sent", this.target.url);
    let from = 0;
    if (this.pendingLen === 0) from = this.writeNow(bytes, 0);
    if (from < bytes.length) {
      const rest = bytes.length - from;
      if (this.pendingLen + rest > this.pending.length) throw new RangeError("HTTP body piece larger than the write buffer");
      this.pending.set(from === 0 ? bytes : bytes.subarray(from), this.pendingLen);
      this.pendingLen += rest;
    }
    return this.pendingLen === 0;
  }

  ready(): Promise<void> {
    if (this.pendingLen === 0 || this.finished) return Promise.resolve();
    return new Promise((resolve) => {
      this.readyWaiter = resolve;
    });
  }

  /** Writes what the socket takes of `bytes[from..]`; returns the new `from`. */
  private writeNow(bytes: Uint8Array, from: number): number {
    const socket = this.socket;
    if (socket === null || !this.connected) return from;
    while (from < bytes.length && this.writable > 0) {
      const n = Math.min(this.writable, bytes.length - from);
      try {
        this.writable = socket.write(from === 0 && n === bytes.length ? bytes : bytes.subarray(from, from + n)) ?? 0;
      } catch {
        this.writable = 0;
        break;
      }
      from += n;
      this.last = Date.now();
    }
    return from;
  }

  private async sendAll(bytes: Uint8Array): Promise<void> {
    const cap = this.pending.length;
    for (let at = 0; at < bytes.length; at += cap) {
      const piece = at === 0 && bytes.length <= cap ? bytes : bytes.subarray(at, Math.min(bytes.length, at + cap));
      if (!this.write(piece)) await this.ready();
    }
  }

  private async send(): Promise<void> {
    try {
      await this.sendAll(this.head);
      if (this.body !== null) await this.body(this);
      await this.ready();
    } catch (e) {
      this.fail(e);
    }
  }

  // ---- socket -------------------------------------------------------------------------------

  private resolveHost(): void {
    const host = this.target.host;
    if (isIPv4(host)) return this.open(host);
    if (host === "localhost") return this.open("127.0.0.1");
    const resolver = new Resolver({ socket: { io: UDP }, servers: this.o.dnsServers.slice() });
    resolver.resolve({
      host,
      onResolved: (_host: string, address: string) => {
        resolver.close();
        if (!this.finished) this.open(String(address));
      },
      onError: () => {
        resolver.close();
        this.fail(new LinkError(`cannot resolve ${host}`, this.target.url));
      },
    });
  }

  private open(address: string): void {
    const target = this.target;
    let tcp: TCP;
    try {
      // with https the TCP socket's events go to the TLS layer stacked on it below
      tcp = new TCP({
        address,
        port: target.port,
        nodelay: true,
        onWritable: (count: number) => {
          this.last = Date.now();
          const tap = this.tap;
          if (tap === null) return this.onWritable(count);
          this.tcpUp = true;
          tap.onWritable(count);
        },
        onReadable: (count: number) => {
          const tap = this.tap;
          if (tap === null) return this.onReadable(count);
          this.last = Date.now();
          tap.onReadable(count);
        },
        onError: () => {
          const tap = this.tap;
          if (tap === null) this.onError();
          else tap.onError();
        },
      });
    } catch (e) {
      return this.fail(new LinkError(`cannot open a connection to ${address}:${target.port}`, target.url, 0, e));
    }
    this.socket = tcp;
    const tls = this.tls;
    if (tls === null) return;
    const events: Events = {
      onReadable: (count: number) => this.onReadable(count),
      onWritable: (count: number) => this.onWritable(count),
      onError: (detail?: string) => this.onError(detail),
    };
    try {
      this.socket = this.tap = tls.wrap(tcp, 0, { host: target.host, port: target.port, path: "/", tls: this.o.tls }, events);
    } catch (e) {
      this.fail(new LinkError(`cannot set up TLS for ${target.host}:${target.port}: ${(e as Error).message}; check the link option tls`, target.url, 0, new TlsError(String((e as Error).message), "TLS_HANDSHAKE", e)));
    }
  }

  private onWritable(count: number): void {
    if (this.finished) return;
    this.writable = count;
    this.last = Date.now();
    if (!this.connected) {
      this.connected = true;
      void this.send();
      return;
    }
    if (this.pendingLen > 0) {
      const from = this.writeNow(this.pending.subarray(0, this.pendingLen), 0);
      if (from > 0) {
        this.pending.copyWithin(0, from, this.pendingLen);
        this.pendingLen -= from;
      }
    }
    if (this.pendingLen === 0 && this.readyWaiter !== null) {
      const w = this.readyWaiter;
      this.readyWaiter = null;
      w();
    }
  }

  private onReadable(count: number): void {
    const buf = this.rbuf;
    this.last = Date.now();
    while (count > 0 && !this.finished && this.socket !== null) {
      const n = Math.min(count, buf.length);
      const view = n === buf.length ? buf : buf.subarray(0, n);
      this.socket.read(view);
      count -= n;
      try {
        this.parse(view);
      } catch (e) {
        this.fail(e);
      }
    }
  }

  private onError(detail?: string): void {
    if (this.finished) return;
    if (this.tap !== null && this.tcpUp && !this.connected && detail !== undefined && detail !== "") {
      // the TLS layer's reason for a failed handshake: the same certificate on the next attempt
      // fails the same way, so this is not retried (the cause is a TlsError)
      const why = `the TLS handshake failed (${detail})`;
      return this.fail(
        new LinkError(
          `${why}; check the link option tls.ca against the file server's CA, that its certificate is valid now and names the host (or set tls.serverName)`,
          this.target.url,
          0,
          new TlsError(why, "TLS_HANDSHAKE"),
        ),
      );
    }
    if (this.state === R.UntilClose) return this.done();
    // status 0: no complete response, worth another attempt
    this.fail(new LinkError(this.state === R.Status ? "the connection closed before a response came" : "the connection closed before the response was complete", this.target.url, 0));
  }

  private close(): void {
    Timer.clear(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s !== null) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    const w = this.readyWaiter;
    this.readyWaiter = null;
    if (w !== null) w();
  }

  private done(): void {
    if (this.finished) return;
    this.finished = true;
    this.state = R.Done;
    this.close();
    this.resolve(this.res);
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.close();
    this.reject(err);
  }

  // ---- response -----------------------------------------------------------------------------

  private parse(b: Uint8Array): void {
    let i = 0;
    const n = b.length;
    while (i < n && !this.finished) {
      switch (this.state) {
        case R.Status:
        case R.Header:
        case R.ChunkSize:
        case R.ChunkEnd:
        case R.Trailer: {
          const c = b[i++];
          if (c === LF) {
            let len = this.lineLen;
            if (len > 0 && this.line[len - 1] === CR) len--;
            this.lineLen = 0;
            this.onLine(len);
          } else {
            if (this.lineLen >= LINE_BYTES) throw new LinkError("a response line is longer than 1024 bytes", this.target.url, this.res.status);
            this.line[this.lineLen++] = c;
          }
          break;
        }
        case R.Body:
        case R.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          this.handler.data(i === 0 && take === n ? b : b.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === R.Body) return this.done();
            this.state = R.ChunkEnd;
          }
          break;
        }
        case R.UntilClose:
          this.handler.data(i === 0 ? b : b.subarray(i));
          i = n;
          break;
        default:
          i = n;
      }
    }
  }

  private onLine(len: number): void {
    const line = this.line;
    switch (this.state) {
      case R.Status: {
        // HTTP/1.x SSS reason
        if (len < 12 || line[0] !== 72 || line[4] !== 47) throw new LinkError("the server did not answer with HTTP", this.target.url);
        let code = 0;
        for (let k = 9; k < 12; k++) {
          const d = line[k] - 48;
          if (d < 0 || d > 9) throw new LinkError("the server sent a bad status line", this.target.url);
          code = code * 10 + d;
        }
        if (code >= 100 && code < 200) return; // interim (100 Continue): the real status follows
        this.res.status = code;
        this.state = R.Header;
        return;
      }
      case R.Header: {
        if (len === 0) return this.onHeadEnd();
        if (++this.headers > MAX_HEADERS) throw new LinkError(`more than ${MAX_HEADERS} response headers`, this.target.url, this.res.status);
        const text = this.decoder.decode(line.subarray(0, len));
        const colon = text.indexOf(":");
        if (colon <= 0) return;
        const name = text.substring(0, colon).trim().toLowerCase();
        const value = text.substring(colon + 1).trim();
        const res = this.res;
        if (name === "content-length") {
          const v = Number(value);
          if (!Number.isInteger(v) || v < 0) throw new LinkError("the server sent a bad Content-Length", this.target.url, res.status);
          res.contentLength = v;
        } else if (name === "transfer-encoding") res.chunked = value.toLowerCase().indexOf("chunked") >= 0;
        else if (name === "content-type") res.contentType = value;
        else if (name === "content-range") {
          // bytes start-end/total
          const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value);
          if (m !== null) {
            res.rangeStart = Number(m[1]);
            res.rangeTotal = m[3] === "*" ? -1 : Number(m[3]);
          }
        }
        return;
      }
      case R.ChunkSize: {
        let size = 0;
        let digits = 0;
        for (let k = 0; k < len; k++) {
          const c = line[k];
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d < 0) break; // chunk extensions follow
          size = size * 16 + d;
          digits++;
        }
        if (digits === 0) throw new LinkError("the server sent a bad chunk size", this.target.url, this.res.status);
        if (size === 0) {
          this.state = R.Trailer;
          return;
        }
        this.remaining = size;
        this.state = R.ChunkData;
        return;
      }
      case R.ChunkEnd:
        this.state = R.ChunkSize;
        return;
      case R.Trailer:
        if (len === 0) this.done();
        return;
    }
  }

  private onHeadEnd(): void {
    const res = this.res;
    this.handler.head(res);
    if (res.status === 204 || res.status === 304) return this.done();
    if (res.chunked) {
      this.state = R.ChunkSize;
      return;
    }
    if (res.contentLength >= 0) {
      if (res.contentLength === 0) return this.done();
      this.remaining = res.contentLength;
      this.state = R.Body;
      return;
    }
    this.state = R.UntilClose;
  }
}
