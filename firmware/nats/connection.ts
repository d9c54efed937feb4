/**
 * The NATS connection: handshake, keepalive, reconnect, subscriptions by sid, and the muxed
 * request inbox. The socket is reached only through the device module `embedded:io/socket/tcp`;
 * bytes go in through the Parser and out through the Outbound queue.
 *
 * Hot path: a publish encodes one frame straight into the outbound batch (no allocation for
 * ASCII subjects and payloads that fit); an incoming message costs the subject string, the Msg
 * object and a view of its bytes.
 */
import TCP from "embedded:io/socket/tcp";
import UDP from "embedded:io/socket/udp";
import Resolver from "embedded:network/dns/resolver/udp";
import Timer from "timer";
import type { TimerId } from "timer";
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import {
  AuthorizationError,
  BufferFullError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  MaxPayloadError,
  MessageTooLargeError,
  MessagesDiscardedError,
  NatsError,
  PermissionViolationError,
  ProtocolError,
  ProtocolLimitError,
  ServerError,
  SlowConsumerError,
  StaleConnectionError,
  StreamBusyError,
  TlsError,
  TransportUnavailableError,
} from "./errors.js";
import { MsgHdrsImpl } from "./headers.js";
import { checkNames } from "./check.js";
import { frameFields, redactedConnect, traceLine } from "./trace.js";
import { checkJson } from "./json.js";
import type { MsgHdrs } from "./headers.js";
import { Msg, MsgChunk } from "./msg.js";
import type { PublishOptions } from "./msg.js";
import { Nuid } from "./nuid.js";
import { MAX_MS, resolveOptions } from "./options.js";
import type { ConnectionOptions, ResolvedOptions } from "./options.js";
import { Link } from "./link.js";
import { Outbound } from "./outbound.js";
import { Delivery, Parser } from "./parser.js";
import { Server, ServerPool } from "./servers.js";
import type { Status, StatusListener } from "./status.js";
import { checkPublishSubject, checkQueue, checkSubscribeSubject, publishSubjectBytes } from "./subjects.js";
import { Enqueued, Subscription } from "./subscription.js";
import { Relay, Scheme, SCHEMES } from "./transport.js";
import type { Events, LayerModule, LayerOptions, Socket } from "./transport.js";
import type { ChunkSubscriptionOptions, MsgCallback, SubscriptionOptions } from "./subscription.js";
import { RequestMux } from "./mux.js";
import { utf8Length, writeAscii, writeString } from "./text.js";
import { encodePub, encodeSub, encodeUnsub, pubLineLength, subLength, unsubLength } from "./writer.js";

/** Version sent in CONNECT. */
export const VERSION = "0.1.0";

const enum State {
  /** Resolving or dialing; no socket yet, or no INFO yet. */
  Connecting,
  /** CONNECT and PING sent; waiting for the PONG that confirms them. */
  Handshake,
  Connected,
  /** Waiting before the next dial. */
  Reconnecting,
  Draining,
  Closing,
  Closed,
}

/** Flags of a connection (its bits). */
const enum Bit {
  /** The plain socket has connected (its first onWritable came). */
  TcpUp = 1,
  /** A TLS handshake is under way on this link: a failure now is a TlsError. */
  TlsPending = 2,
  /** The first writable count of this socket came (it is the whole send buffer). */
  SawWritable = 4,
  /** The per-turn flush timer is scheduled (or the connection is closed: no more flushes). */
  FlushScheduled = 8,
  EverConnected = 16,
  /** The socket was read since the last tick of the receive timer. */
  ReadSinceTick = 64,
  /** Option debug: trace protocol lines and decisions (tested before any line is built). */
  Debug = 32,
}

/** The first PONG arms the connection; unsent data is flushed at most this long on close(). */
const CLOSE_FLUSH_MS = 2000;
/** CONNECT fields an authenticator may set. */
const AUTH_FIELDS = Object.freeze(["user", "pass", "auth_token", "nkey", "sig", "jwt"] as const);
/** Interval of the idle per-turn flush timer (it is rescheduled to 0 when there is work). */
const IDLE = 0x3fffffff;
/** INFO is parsed only within these bounds (a real one nests 2 deep and holds a few dozen values). */
const INFO_LIMITS = Object.freeze({ maxDepth: 4, maxValues: 512, what: "the server's INFO" });
/** flush() calls that may wait at once (each holds a PING in flight and a callback). */
const MAX_FLUSHES = 64;
/** Servers the cluster may add to the pool from connect_urls. */
const MAX_DISCOVERED = 32;
/** Options of publish(), subscribe() and request(): honoured, and nats.js's that are refused. */
const PUBLISH_OPTIONS = Object.freeze(["reply", "headers"]);
const REQUEST_OPTIONS = Object.freeze(["timeout", "headers"]);
const SUBSCRIBE_OPTIONS = Object.freeze(["queue", "max", "callback", "chunks", "maxPending", "maxPendingBytes", "zeroCopy"]);
const NO_TRACING = "message tracing needs nats-server 2.11 and is not in nats-xs; leave it out";
const PUBLISH_REFUSED = Object.freeze({ traceDestination: NO_TRACING, traceOnly: NO_TRACING });
const MUXED = "requests share one muxed inbox; for replies on a subject of your own, subscribe to it and publish with { reply }";
const REQUEST_REFUSED = Object.freeze({
  noMux: MUXED,
  reply: MUXED,
  traceDestination: NO_TRACING,
  traceOnly: NO_TRACING,
});
const SUBSCRIBE_REFUSED = Object.freeze({
  timeout: "use Timer.set() and sub.unsubscribe(), or request() for one reply",
  slow: "iterator queues are bounded by maxPending and maxPendingBytes (overflow: a slowConsumer status)",
});

/** What the server told us in INFO (the fields nats-xs uses; the rest are kept too). */
export interface ServerInfo {
  server_id: string;
  server_name: string;
  version: string;
  proto: number;
  headers: boolean;
  max_payload: number;
  host: string;
  port: number;
  jetstream?: boolean;
  client_id?: number;
  auth_required?: boolean;
  tls_required?: boolean;
  nonce?: string;
  connect_urls?: string[];
  ldm?: boolean;
  cluster?: string;
  domain?: string;
  [key: string]: unknown;
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply (default 1000). */
  timeout?: number;
  headers?: MsgHdrs;
}

/** Traffic counters. `dropped` counts messages the client had to drop, each also reported. */
export interface Stats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  reconnects: number;
  dropped: number;
}

/** closed()'s promise and, until the connection closes, the function that settles it. */
interface Closing {
  promise: Promise<Error | undefined>;
  resolve: ((err: Error | undefined) => void) | null;
}

/** A connection to a NATS server. Create it with `connect()`. */
// no `implements ParserSink, MsgOwner, SubscriptionOwner`: those hooks are internal and left out
// of the published declarations, where the clause would no longer hold
// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class NatsConnection {
  /** The options in force, read-only: those given to connect() and the defaults of the others. */
  readonly options: Readonly<ResolvedOptions>;
  /** @internal */
  readonly decoder: TextDecoder = new TextDecoder();
  /** @internal */
  readonly encoder: TextEncoder = new TextEncoder();
  private state = State.Connecting;
  /** Everything the connection holds while it lives (link.ts); null once closed. */
  private link: Link | null = null;
  /** Bit flags (Bit): one slot for what would take one each. */
  private bits = 0;
  private serverInfo: ServerInfo | undefined = undefined;
  /** Bumped for every dial: callbacks of an older socket or resolver see a different number. */
  private generation = 0;
  private readonly subs = new Map<number, Subscription>();
  private sid = 0;
  /** Made by the first listener (nats-xs/status): most devices never have one. */
  private statusStreams: StatusListener[] | null = null;
  private lastError: Error | null = null;
  private connectWaiter: { resolve(nc: NatsConnection): void; reject(err: Error): void } | null = null;
  private closeWaiter: (() => void) | null = null;
  /** closed(): made on first call (most devices never ask), settled by finishClose. */
  private closedPromise: Closing | null = null;
  private closeError: Error | undefined = undefined;
  /** The Stats counters, kept as fields (an object for them would cost its own slots). */
  private inMsgs = 0;
  private outMsgs = 0;
  private inBytes = 0;
  private outBytes = 0;
  private reconnects = 0;
  private dropped = 0;

  constructor(options: ConnectionOptions) {
    this.options = resolveOptions(options);
    if (this.options.debug) this.bits |= Bit.Debug;
    const l = new Link();
    const pool = new ServerPool(this.options.servers, !this.options.noRandomize);
    if (this.options.tls === null)
      for (const s of pool.servers)
        if (s.scheme === Scheme.Tls || s.scheme === Scheme.Wss)
          throw new InvalidArgumentError(`${SCHEMES[s.scheme]}://${s.key} asks for TLS, which tls: null refuses; remove one of them`);
    l.pool = pool;
    l.parser = new Parser(this, this.decoder, this.options.receiveBufferBytes);
    l.out = new Outbound(this.options.outboundBufferBytes);
    l.controlLimit = this.options.maxControlLine;
    l.flushTimer = ownTimer(Timer.set(flushTick, IDLE, IDLE), this);
    Timer.schedule(l.flushTimer);
    this.link = l;
  }

  /** Dials the servers; resolves once connected. Used by connect(). */
  start(): Promise<NatsConnection> {
    return new Promise((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      this.next();
    });
  }

  // ---- public API ---------------------------------------------------------------------------

  /** The server's INFO, once connected. */
  get info(): ServerInfo | undefined {
    return this.serverInfo;
  }

  isClosed(): boolean {
    return this.state === State.Closed;
  }

  isDraining(): boolean {
    return this.state === State.Draining;
  }

  /** host:port of the server in use, or "" when not connected. */
  getServer(): string {
    const l = this.link;
    return l !== null && l.server !== null && (this.state === State.Connected || this.state === State.Draining) ? l.server.key : "";
  }

  stats(): Stats {
    return { inMsgs: this.inMsgs, outMsgs: this.outMsgs, inBytes: this.inBytes, outBytes: this.outBytes, reconnects: this.reconnects, dropped: this.dropped };
  }

  /** Bytes the connection's buffers hold now: read buffer, receive buffer, outbound queue (0
   *  once closed). What each costs and how it grows is in the README, "Memory". */
  bufferBytes(): number {
    const l = this.link;
    if (l === null) return 0;
    const parser = l.parser;
    const out = l.out;
    return (l.readBuf === null ? 0 : l.readBuf.length) + (parser === null ? 0 : parser.scratchBytes) + (out === null ? 0 : out.bufferBytes);
  }

  /** nats.js's status iterator is a module of its own: `status(nc)` of nats-xs/status. */
  status(): never {
    throw new InvalidArgumentError('status events come from nats-xs/status: import { status } from "nats-xs/status"; for await (const s of status(nc))');
  }

  /** @internal Adds a status listener (nats-xs/status); false when the connection is closed. */
  listen(l: StatusListener): boolean {
    if (this.state === State.Closed) return false;
    if (this.statusStreams === null) this.statusStreams = [];
    this.statusStreams.push(l);
    return true;
  }

  /** @internal */
  unlisten(l: StatusListener): void {
    const i = this.statusStreams === null ? -1 : this.statusStreams.indexOf(l);
    if (i >= 0) (this.statusStreams as StatusListener[]).splice(i, 1);
  }

  /** Resolves when the connection is closed: with the error that closed it, if any. */
  closed(): Promise<Error | undefined> {
    let c = this.closedPromise;
    if (c === null) {
      if (this.state === State.Closed) c = { promise: Promise.resolve(this.closeError), resolve: null };
      else {
        let settle: Closing["resolve"] = null;
        c = { promise: new Promise((resolve) => (settle = resolve)), resolve: null };
        c.resolve = settle;
      }
      this.closedPromise = c;
    }
    return c.promise;
  }

  /** Publishes `data` (bytes or a UTF-8 string) on `subject`. Throws at once on misuse, when the
   *  message exceeds max_payload, or when the outbound or reconnect buffer is full. Returns false
   *  when more than one batch is waiting for the socket: a fast publisher should let the event
   *  loop turn before publishing more (nats.js returns nothing, so `=== false` suits both). */
  publish(subject: string, data?: Uint8Array | string, options?: PublishOptions): boolean {
    // the caller's option names (about 3 µs on XS, paid only by a publish that passes options)
    if (options !== undefined && options !== null) checkNames(options, PUBLISH_OPTIONS, "publish()", PUBLISH_REFUSED);
    return this.publishFrame(subject, data, options);
  }

  /** @internal */
  private publishFrame(subject: string, data: Uint8Array | string | undefined, options: PublishOptions | undefined): boolean {
    const l = this.link as Link;
    const state = this.state;
    if (state >= State.Closing) throw new ClosedConnectionError();
    const subjectLen = publishSubjectBytes(subject);
    let reply = "";
    let replyLen = 0;
    let hdrs: MsgHdrsImpl | null = null;
    if (options !== undefined) {
      if (options.reply !== undefined && options.reply !== "") {
        replyLen = publishSubjectBytes(options.reply);
        reply = options.reply;
      }
      if (options.headers !== undefined) {
        if (!(options.headers instanceof MsgHdrsImpl)) throw new InvalidArgumentError("headers must come from headers()");
        hdrs = options.headers;
      }
    }
    let size = 0;
    if (data !== undefined) {
      if (typeof data === "string") size = utf8Length(data);
      else if (data instanceof Uint8Array) size = data.length;
      else throw new InvalidArgumentError("data must be a Uint8Array or a string");
    }
    const hdrLen = hdrs === null ? 0 : hdrs.encodedLength();
    const total = hdrLen + size;
    if (total > l.maxPayload) throw new MaxPayloadError(total, l.maxPayload);
    const line = pubLineLength(subjectLen, replyLen, hdrs === null ? -1 : hdrLen, total);
    if (line > l.controlLimit) throw new ProtocolLimitError("the PUB line", line, l.controlLimit);
    const frame = line + total + 2;
    const out = l.out as Outbound;
    // a payload larger than the batch is never copied: only its frame head is held
    const byReference = typeof data !== "string" && data !== undefined && size > out.capacity;
    this.checkRoom(frame, byReference ? frame - size : frame);
    let pos = out.reserve(frame);
    // a full batch is written out to make room (while a stream is open, frames wait behind it anyway)
    if (pos < 0 && !out.streaming && this.pump()) pos = out.reserve(frame);
    if (pos >= 0) {
      encodePub(out.buffer, pos, subject, reply, hdrs, hdrLen, total, data, false, this.encoder);
    } else if (!byReference && (pos = out.reserveSpill(frame)) >= 0) {
      // behind a full batch, small frames share pages rather than taking an array each
      encodePub(out.page, pos, subject, reply, hdrs, hdrLen, total, data, false, this.encoder);
    } else if (byReference) {
      // too large to copy into the batch: the caller's array is sent as it is, by reference
      const head = new Uint8Array(line + hdrLen);
      encodePub(head, 0, subject, reply, hdrs, hdrLen, total, undefined, true, this.encoder);
      out.push(head.subarray(0, line + hdrLen), true, false, false);
      out.push(data, false, false, true);
      out.push(Uint8Array.of(13, 10), false, false, false);
    } else {
      const copy = new Uint8Array(frame);
      encodePub(copy, 0, subject, reply, hdrs, hdrLen, total, data, false, this.encoder);
      out.push(copy, true, false, false);
    }
    this.outMsgs++;
    this.outBytes += size;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> ${hdrs === null ? "PUB" : "HPUB"} ${frameFields(subject, "", reply, hdrs === null ? -1 : hdrLen, total)}`);
    this.scheduleFlush();
    return out.held < out.capacity;
  }

  /** @internal nats-xs/stream: opens a message of `size` payload bytes on `subject`, checked by
   *  the caller, whose payload follows in pieces (streamWrite, streamEnd, streamAbort). */
  openStream(w: StreamHook, subject: string, reply: string, hdrs: MsgHdrsImpl | null, size: number): void {
    const l = this.link as Link;
    if (this.state >= State.Closing) throw new ClosedConnectionError();
    if (l.stream !== null) throw new StreamBusyError();
    const hdrLen = hdrs === null ? 0 : hdrs.encodedLength();
    const total = hdrLen + size;
    if (total > l.maxPayload) throw new MaxPayloadError(total, l.maxPayload);
    const line = pubLineLength(utf8Length(subject), reply === "" ? 0 : utf8Length(reply), hdrs === null ? -1 : hdrLen, total);
    if (line > l.controlLimit) throw new ProtocolLimitError("the PUB line", line, l.controlLimit);
    this.checkRoom(line + hdrLen, line + hdrLen);
    const head = new Uint8Array(line + hdrLen);
    encodePub(head, 0, subject, reply, hdrs, hdrLen, total, undefined, true, this.encoder);
    (l.out as Outbound).beginStream(head);
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> ${hdrs === null ? "PUB" : "HPUB"} ${frameFields(subject, "", reply, hdrs === null ? -1 : hdrLen, total)} (payload streamed)`);
    l.stream = w;
    this.scheduleFlush();
  }

  /** @internal A piece of the open streamed message; returns the copied bytes now queued. */
  streamWrite(w: StreamHook, bytes: Uint8Array): number {
    const l = this.link;
    if (l === null || l.stream !== w) throw new ClosedConnectionError();
    this.checkRoom(bytes.length, bytes.length);
    (l.out as Outbound).streamPiece(bytes.slice());
    this.scheduleFlush();
    return (l.out as Outbound).held;
  }

  /** @internal Ends the open streamed message. */
  streamEnd(w: StreamHook): void {
    const l = this.link;
    if (l === null || l.stream !== w) throw new ClosedConnectionError();
    l.stream = null;
    (l.out as Outbound).endStream(Uint8Array.of(13, 10));
    this.outMsgs++;
    this.outBytes += w.size;
    this.scheduleFlush();
  }

  /** @internal Withdraws the open streamed message (see MessageWriter.abort). */
  streamAbort(w: StreamHook): void {
    const l = this.link;
    if (l === null || l.stream !== w) return;
    l.stream = null;
    if (!(l.out as Outbound).abortStream()) {
      // part of the frame is on the wire: only a new connection drops it cleanly
      this.dropSocket(new ConnectionError("a streamed message was aborted after part of it was sent; reconnecting to drop it"));
    }
    this.scheduleFlush();
  }

  /** @internal The open streamed message, if any. */
  get streaming(): StreamHook | null {
    const l = this.link;
    return l === null ? null : l.stream;
  }

  /** Subscribes to `subject` (wildcards allowed). With `chunks: true` the callback gets each
   *  message in pieces (`MsgChunk`). */
  subscribe(subject: string, options: ChunkSubscriptionOptions): Subscription;
  subscribe(subject: string, options?: SubscriptionOptions): Subscription;
  subscribe(subject: string, opts: SubscriptionOptions | ChunkSubscriptionOptions = {}): Subscription {
    const l = this.link as Link;
    const options = opts as SubscriptionOptions;
    if (this.state >= State.Closing) throw new ClosedConnectionError();
    if (this.state === State.Draining) throw new DrainingConnectionError();
    checkSubscribeSubject(subject);
    if (options === null || typeof options !== "object") throw new InvalidArgumentError("subscribe() takes an options object");
    checkNames(options, SUBSCRIBE_OPTIONS, "subscribe()", SUBSCRIBE_REFUSED);
    if (options.queue !== undefined) checkQueue(options.queue);
    if (options.max !== undefined && (typeof options.max !== "number" || !Number.isSafeInteger(options.max) || options.max < 0))
      throw new InvalidArgumentError("max must be a whole number of messages");
    for (const bound of [options.maxPending, options.maxPendingBytes])
      if (bound !== undefined && (typeof bound !== "number" || !Number.isSafeInteger(bound) || bound < 1))
        throw new InvalidArgumentError("maxPending and maxPendingBytes must be whole numbers of at least 1");
    if (options.callback !== undefined && typeof options.callback !== "function") throw new InvalidArgumentError("callback must be a function");
    if (options.chunks === true && options.callback === undefined) throw new InvalidArgumentError("a subscription with chunks needs a callback");
    const sid = this.sid + 1;
    const n = subLength(subject, options.queue ?? "", sid);
    if (n > l.controlLimit) throw new ProtocolLimitError("the SUB line", n, l.controlLimit);
    if (this.state === State.Connected && !this.hasRoom(n + (options.max !== undefined && options.max > 0 ? unsubLength(sid, options.max) : 0)))
      throw new BufferFullError("outbound queue", this.options.maxPendingBytes);
    this.sid = sid;
    const sub = new Subscription(this, sid, subject, options);
    this.subs.set(sid, sub);
    if (this.state === State.Connected) {
      this.sendSub(sub);
      if (sub.max > 0) this.sendUnsub(sub.sid, sub.max);
      this.scheduleFlush();
    }
    return sub;
  }

  /** Sends a request and resolves with the first reply; rejects with TimeoutError or
   *  NoRespondersError. The reply's bytes are a copy the caller may keep. */
  request(subject: string, data?: Uint8Array | string, options: RequestOptions = {}): Promise<Msg> {
    const l = this.link as Link;
    if (this.state >= State.Closing) return Promise.reject(new ClosedConnectionError());
    if (this.state === State.Draining) return Promise.reject(new DrainingConnectionError());
    try {
      if (options === null || typeof options !== "object") throw new InvalidArgumentError("request() takes an options object");
      checkNames(options, REQUEST_OPTIONS, "request()", REQUEST_REFUSED);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeout = options.timeout ?? 1000;
    if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_MS)
      return Promise.reject(new InvalidArgumentError(`timeout must be a positive number of milliseconds up to ${MAX_MS}`));
    try {
      checkPublishSubject(subject);
    } catch (e) {
      return Promise.reject(e);
    }
    if (l.mux === null) l.mux = new RequestMux(`${this.options.inboxPrefix}.${new Nuid().next()}.`);
    const mux = l.mux;
    if (l.muxSub === null) {
      // settle() copies the one reply it keeps; the callback is one function for every connection
      l.muxSub = this.subscribe(`${mux.prefix}*`, { zeroCopy: true, callback: onReply });
    }
    return new Promise((resolve, reject) => {
      const reply = mux.add(subject, timeout, resolve, reject);
      try {
        this.publishFrame(subject, data, { reply, headers: options.headers });
      } catch (e) {
        mux.cancel(reply);
        reject(e);
      }
    });
  }

  /** Resolves when the server has processed everything sent before this call. */
  flush(): Promise<void> {
    const l = this.link as Link;
    if (this.state >= State.Closing) return Promise.reject(new ClosedConnectionError());
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => (err === undefined ? resolve() : reject(err));
      if (this.state === State.Connected || this.state === State.Draining) {
        // flush() is how a caller waits for a full queue to drain, so its PING is not refused for
        // bytes; the number of flushes in flight is bounded instead
        if (l.pongs.length >= 2 * MAX_FLUSHES) return reject(new BufferFullError(`list of flush() calls in flight (${MAX_FLUSHES})`, MAX_FLUSHES));
        this.ping(done);
      } else {
        if (l.flushWaiting === null) l.flushWaiting = [];
        if (l.flushWaiting.length >= MAX_FLUSHES) reject(new BufferFullError(`list of flush() calls waiting for a connection (${MAX_FLUSHES})`, MAX_FLUSHES));
        else l.flushWaiting.push(done);
      }
    });
  }

  /** Unsubscribes everything, delivers what the server already sent, flushes, then closes. */
  async drain(): Promise<void> {
    const l = this.link as Link;
    if (this.state >= State.Closing) throw new ClosedConnectionError();
    if (this.state === State.Draining) throw new DrainingConnectionError();
    this.state = this.state === State.Connected ? State.Draining : this.state;
    const subs = [...this.subs.values()].filter((s) => s !== l.muxSub);
    if (this.state === State.Draining) for (const s of subs) this.sendUnsub(s.sid, 0);
    try {
      await this.flush();
    } catch {
      // the connection went away while draining: close below reports it
    }
    for (const s of subs) this.removeSub(s, null);
    await this.close();
  }

  /** Closes the connection: unsent data gets a short chance to go out, pending requests fail. */
  async close(): Promise<void> {
    const l = this.link as Link;
    if (this.state === State.Closed) return;
    if (this.state === State.Closing) {
      await this.closed();
      return;
    }
    const wasConnected = this.state === State.Connected || this.state === State.Draining;
    this.state = State.Closing;
    this.clearTimers();
    if (wasConnected && l.socket !== null) {
      this.pump();
      if (!(l.out as Outbound).empty) {
        await new Promise<void>((resolve) => {
          const t = Timer.set(() => {
            this.closeWaiter = null;
            resolve();
          }, CLOSE_FLUSH_MS);
          this.closeWaiter = () => {
            Timer.clear(t);
            this.closeWaiter = null;
            resolve();
          };
        });
      }
    }
    this.finishClose(null);
  }

  /** Drops the current connection and reconnects (for tests and for moving off a server). */
  reconnect(): void {
    const l = this.link as Link;
    if (this.state >= State.Closing) throw new ClosedConnectionError();
    if (l.socket !== null) this.dropSocket(null);
  }

  // ---- SubscriptionOwner ------------------------------------------------------------------

  /** @internal */
  /** @internal Called by Subscription.unsubscribe(). */
  unsubscribe(sub: Subscription, max: number): void {
    if (sub.done) return;
    if (max > 0 && max > sub.received) {
      sub.max = max;
      if (this.state === State.Connected || this.state === State.Draining) {
        this.sendUnsub(sub.sid, max);
        this.scheduleFlush();
      }
      return;
    }
    this.removeSub(sub, null);
    if (this.state === State.Connected || this.state === State.Draining) {
      this.sendUnsub(sub.sid, 0);
      this.scheduleFlush();
    }
  }

  /** @internal */
  /** @internal Called by Subscription.drain(). */
  async drainSubscription(sub: Subscription): Promise<void> {
    if (this.state === State.Connected || this.state === State.Draining) {
      this.sendUnsub(sub.sid, 0);
      try {
        await this.flush();
      } catch {
        // disconnected: nothing more will arrive for it anyway
      }
    }
    this.removeSub(sub, null);
  }

  // ---- ParserSink -------------------------------------------------------------------------

  /** @internal */
  onInfo(buf: Uint8Array, start: number, end: number): void {
    const l = this.link as Link;
    // close() inside a callback of this chunk: the rest of it is for nobody
    if (this.state === State.Closed) return;
    const first = this.state === State.Connecting;
    let info: ServerInfo;
    try {
      const text = buf.subarray(start, end);
      if ((this.bits & Bit.Debug) !== 0) traceLine(`< INFO ${this.decoder.decode(text)}`);
      checkJson(text, INFO_LIMITS);
      info = JSON.parse(this.decoder.decode(text)) as ServerInfo;
      if (info === null || typeof info !== "object" || Array.isArray(info)) throw new ProtocolError("INFO is not a JSON object");
    } catch (e) {
      const err = e instanceof NatsError ? e : new ProtocolError(`INFO is not valid JSON: ${(e as Error).message}`);
      // a bad first INFO fails this attempt; a bad update is reported and the connection goes on
      if (first) {
        this.lastError = err;
        this.emit({ type: "error", error: err });
        return this.dropSocket(err);
      }
      this.emit({ type: "error", error: err });
      return;
    }
    this.serverInfo = info;
    if (typeof info.max_payload === "number" && Number.isSafeInteger(info.max_payload) && info.max_payload > 0) l.maxPayload = info.max_payload;
    if (!this.options.ignoreClusterUpdates && Array.isArray(info.connect_urls)) {
      const urls = info.connect_urls.filter((u) => typeof u === "string").slice(0, MAX_DISCOVERED);
      const change = (l.pool as ServerPool).update(urls, l.server);
      if (!first && (change.added.length > 0 || change.deleted.length > 0))
        this.emit({ type: "update", added: change.added, deleted: change.deleted });
    }
    if (info.ldm === true) {
      this.emit({ type: "ldm", server: l.server?.key });
      // the server will close its clients once its grace period ends: move to another server of
      // the pool now, while the connection still works, rather than be cut off later
      if (!first && this.state === State.Connected && (l.pool as ServerPool).servers.length > 1) return this.dropSocket(null);
    }
    if (!first) return;
    const server = l.server as Server;
    if (server.scheme <= Scheme.Tls && l.tap === null) {
      // nats-server 2.9 sends INFO in clear; TLS then starts on the same connection
      if (info.tls_required === true) {
        if (this.options.tls === null)
          return this.linkFailed(new TlsError(`${server.key} requires TLS and this connection was made with tls: null; drop that option (or connect to a listener without TLS)`, "TLS_REQUIRED"));
        return this.startTls(server);
      }
      if (server.scheme === Scheme.Tls || this.options.tls !== undefined)
        return this.linkFailed(
          new TlsError(`${server.key} does not offer TLS, which this connection requires (a tls:// URL or tls options); configure tls on the server, or use nats:// without tls options`, "TLS_NOT_OFFERED"),
        );
    }
    this.sendConnect();
  }

  /** CONNECT and the PING whose PONG confirms it, ahead of anything queued. */
  /** @internal */
  private sendConnect(): void {
    const l = this.link as Link;
    let connect: string;
    try {
      connect = this.connectJson();
    } catch (e) {
      // an authenticator that cannot sign (a bad seed, unreadable creds) fails this attempt; its
      // message never carries the secret
      this.lastError = new AuthorizationError((e as Error).message, e);
      return this.dropSocket(this.lastError);
    }
    this.state = State.Handshake;
    if ((this.bits & Bit.Debug) !== 0) traceLine("> PING");
    (l.out as Outbound).setFront(this.encodeText(`CONNECT ${connect}\r\nPING\r\n`));
    this.pump();
  }

  /** @internal */
  onPing(): void {
    if ((this.bits & Bit.Debug) !== 0) traceLine("< PING");
    // a server that sends PINGs but does not read our PONGs would fill memory: past the bound the
    // connection is stale
    if (!this.control("PONG\r\n")) this.stale("the server does not read what the client sends (its PONGs fill the outbound queue)");
  }

  /** @internal */
  onPong(): void {
    const l = this.link as Link;
    if ((this.bits & Bit.Debug) !== 0) traceLine("< PONG");
    l.pingsOut = 0;
    if (this.state === State.Handshake) return this.onConnected();
    const done = l.pongs.shift() as ((err?: Error) => void) | null | undefined;
    const mark = l.pongs.shift() as number | undefined;
    if (mark !== undefined && mark > l.confirmed) l.confirmed = mark;
    if (done) done();
  }

  /** @internal */
  onOk(): void {
    if ((this.bits & Bit.Debug) !== 0) traceLine("< +OK");
  }

  /** @internal */
  onErr(buf: Uint8Array, start: number, end: number): void {
    let text = this.decoder.decode(buf.subarray(start, end)).trim();
    if ((this.bits & Bit.Debug) !== 0) traceLine(`< -ERR ${text}`);
    if (text.length >= 2 && text.charCodeAt(0) === 39 && text.charCodeAt(text.length - 1) === 39) text = text.substring(1, text.length - 1);
    const lower = text.toLowerCase();
    if (lower.startsWith("permissions violation")) return this.permissionError(text);
    if (lower.startsWith("invalid subject") || lower.startsWith("maximum subscriptions exceeded")) {
      this.emit({ type: "error", error: new ServerError(text) });
      return;
    }
    if (lower.startsWith("maximum control line exceeded")) this.refuseLongestSub();
    let err: NatsError;
    if (lower.indexOf("authorization") >= 0 || lower.indexOf("authentication") >= 0) err = new AuthorizationError(text);
    else if (lower.startsWith("stale connection")) err = new StaleConnectionError(0);
    else err = new ServerError(text);
    this.lastError = err;
    this.emit({ type: "error", error: err });
    this.dropSocket(err);
  }

  /** @internal */
  onMsgHead(subject: string, sid: number, reply: string, hdrLen: number, total: number): number {
    const l = this.link as Link;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`< ${hdrLen > 0 ? "HMSG" : "MSG"} ${frameFields(subject, String(sid), reply, hdrLen > 0 ? hdrLen : -1, total)}`);
    this.inMsgs++;
    this.inBytes += total - hdrLen;
    const cur = l.cur;
    const sub = cur !== null && cur.sid === sid ? cur : this.subs.get(sid);
    if (sub === undefined || sub.done) return Delivery.Discard; // unsubscribed; the server had sent it already
    l.cur = sub;
    l.curSubject = subject;
    l.curReply = reply;
    const limit = (l.parser as Parser).capacity;
    if (sub.chunks ? hdrLen > limit : total > limit) {
      sub.received++;
      sub.dropped++;
      this.dropped++;
      this.deliverError(sub, new MessageTooLargeError(subject, total, limit));
      this.checkMax(sub);
      return Delivery.Discard;
    }
    return sub.chunks ? Delivery.Chunks : Delivery.Whole;
  }

  /** @internal */
  literalSubject(sid: number): string | null {
    const l = this.link as Link;
    // kept for the onMsgHead that follows at once: one lookup per message
    const sub = this.subs.get(sid);
    l.cur = sub ?? null;
    return sub !== undefined && sub.literal ? sub.subject : null;
  }

  /** @internal */
  onMsg(hdr: Uint8Array | null, data: Uint8Array): void {
    const l = this.link as Link;
    const sub = l.cur as Subscription;
    sub.received++;
    const cb = sub.callback;
    if (cb !== null) {
      // the parser's views die with this call: a callback gets copies to keep, as in nats.js,
      // unless its subscription asked for the views (zeroCopy)
      const view = sub.zeroCopy;
      const msg = view
        ? new Msg(this, l.curSubject, sub.sid, l.curReply, hdr, data)
        : new Msg(this, l.curSubject, sub.sid, l.curReply, hdr === null ? null : hdr.slice(), data.slice());
      try {
        cb(null, msg);
      } catch (e) {
        this.emit({ type: "error", error: e as Error });
      }
      if (view) msg.expire();
    } else {
      // the iterator keeps the message: it gets a copy, made only once there is room for it
      const full = sub.room(data.length + (hdr === null ? 0 : hdr.length));
      if (full === Enqueued.Ok) sub.enqueue(new Msg(this, l.curSubject, sub.sid, l.curReply, hdr === null ? null : hdr.slice(), data.slice()));
      else {
        sub.dropped++;
        this.dropped++;
        if (sub.firstDrop()) {
          const err = new SlowConsumerError(sub.subject, sub.sid, full === Enqueued.FullBytes ? "its iterator queue is full (maxPendingBytes)" : "its iterator queue is full (maxPending)");
          sub.lastError = err;
          this.emit({ type: "slowConsumer", error: err });
        }
      }
    }
    this.checkMax(sub);
  }

  /** @internal */
  onChunk(hdr: Uint8Array | null, offset: number, bytes: Uint8Array, last: boolean, size: number): void {
    const l = this.link as Link;
    const sub = l.cur as Subscription;
    if (sub.done) return; // unsubscribed in the middle of the message
    if (last) sub.received++;
    const msg = new MsgChunk(this, l.curSubject, sub.sid, l.curReply, hdr, bytes, offset, size, last);
    try {
      (sub.callback as unknown as MsgCallback<MsgChunk>)(null, msg);
    } catch (e) {
      this.emit({ type: "error", error: e as Error });
    }
    msg.expire();
    if (last) this.checkMax(sub);
  }

  /** @internal */
  onProtocolError(message: string): void {
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- protocol error: ${message}`);
    const err = new ProtocolError(message);
    this.lastError = err;
    this.emit({ type: "error", error: err });
    this.dropSocket(err);
  }

  // ---- connection lifecycle -----------------------------------------------------------------

  /** Dials the next server of the pool, or gives up. */
  /** @internal */
  private next(): void {
    const l = this.link;
    if (l === null) return;
    l.dialTimer = null;
    if (this.state >= State.Closing) return;
    const servers = (l.pool as ServerPool).servers;
    if (servers.length === 0) return this.giveUp();
    // the first server (in pool order) whose wait is over, else the one whose wait ends first: a
    // server just lost must not hold up the others the cluster announced
    const o = this.options;
    const now = Date.now();
    let server = servers[0];
    let wait = MAX_MS;
    for (const candidate of servers) {
      const w = candidate.lastAttempt === 0 ? 0 : candidate.lastAttempt + o.reconnectTimeWait - now;
      if (w < wait) {
        wait = w;
        server = candidate;
        if (w <= 0) break;
      }
    }
    if ((this.bits & Bit.EverConnected) === 0 && !o.waitOnFirstConnect && server.lastAttempt !== 0) return this.giveUp();
    const jitter = server.scheme === Scheme.Tls || server.scheme === Scheme.Wss || (o.tls !== undefined && o.tls !== null) ? o.reconnectJitterTLS : o.reconnectJitter;
    if (wait > 0) wait += Math.floor(Math.random() * (jitter + 1));
    if (wait > 0) {
      if ((this.bits & Bit.Debug) !== 0) traceLine(`- waiting ${wait} ms before dialing ${server.key}`);
      this.state = State.Reconnecting;
      l.dialTimer = Timer.set(() => this.next(), wait < MAX_MS ? wait : MAX_MS);
      return;
    }
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- dialing ${server.key}`);
    this.dial(server);
  }

  /** @internal */
  private dial(server: Server): void {
    const l = this.link as Link;
    this.state = State.Connecting;
    l.server = server;
    server.lastAttempt = Date.now();
    (l.pool as ServerPool).rotate(server);
    const generation = ++this.generation;
    if ((this.bits & Bit.EverConnected) !== 0) this.emit({ type: "reconnecting", server: server.key });
    l.dialTimer = Timer.set(() => {
      if (generation !== this.generation) return;
      (this.link as Link).dialTimer = null;
      this.lastError = new ConnectionError(`${server.key} did not complete the handshake within ${this.options.timeout} ms`);
      this.dropSocket(this.lastError);
    }, this.options.timeout);
    const host = server.host;
    if (isIPv4(host)) return this.open(server, host, generation);
    if (host === "localhost") return this.open(server, "127.0.0.1", generation);
    const resolver = new Resolver({ socket: { io: UDP }, servers: this.options.dnsServers });
    resolver.resolve({
      host,
      onResolved: (_host: string, address: string) => {
        resolver.close();
        if (generation === this.generation) this.open(server, String(address), generation);
      },
      onError: () => {
        resolver.close();
        if (generation !== this.generation) return;
        this.attemptFailed(new ConnectionError(`cannot resolve ${host}; check the name or use an IPv4 address`));
      },
    });
  }

  /** @internal */
  private open(server: Server, address: string, generation: number): void {
    const l = this.link as Link;
    const scheme = server.scheme;
    // the layers a WebSocket URL needs are loaded before dialing
    if (scheme === Scheme.Wss && (l.layerModules?.tls ?? null) === null) return this.load(Scheme.Tls, generation, () => this.open(server, address, generation));
    if (scheme >= Scheme.Ws && (l.layerModules?.ws ?? null) === null) return this.load(Scheme.Ws, generation, () => this.open(server, address, generation));
    (l.parser as Parser).reset();
    if (l.readBuf === null) l.readBuf = new Uint8Array(this.options.readBufferBytes);
    // a control-line refusal during the handshake (a long CONNECT) is no subscription's fault
    l.longestSub = 0;
    l.writable = 0;
    this.bits &= ~Bit.SawWritable;
    l.tap = null;
    this.bits &= ~Bit.TcpUp;
    this.bits &= ~Bit.TlsPending;
    let tcp: TCP;
    try {
      // the same three module-level functions serve every socket (the socket is their `this`);
      // closures here would cost about 36 slots per connection
      tcp = new TCP({ address, port: server.port, nodelay: true, onReadable: tcpReadable, onWritable: tcpWritable, onError: tcpError });
    } catch (e) {
      return this.attemptFailed(new ConnectionError(`cannot open a socket to ${server.key}`, e));
    }
    // callbacks come from the event loop, never inside the constructor: these are set in time
    const owned = tcp as unknown as OwnedSocket;
    owned.owner = this;
    owned.generation = generation;
    l.socket = tcp;
    if (scheme < Scheme.Ws) return;
    const events = this.layerEvents(generation);
    const options = this.layerOptions(server);
    const ws = l.layerModules?.ws as LayerModule;
    if (scheme === Scheme.Ws) {
      l.socket = l.tap = ws.wrap(tcp, 0, options, events);
      return;
    }
    // wss: TLS first (no INFO in clear on a websocket listener), then WebSocket over it
    const relay = new Relay();
    const tls = (l.layerModules?.tls as LayerModule).wrap(tcp, 0, options, relay);
    l.tap = tls;
    this.bits |= Bit.TlsPending;
    relay.onUp = () => {
      if (generation === this.generation) this.bits &= ~Bit.TlsPending;
    };
    relay.target = l.socket = ws.wrap(tls, 0, options, events);
  }

  /** The events the top layer hands the connection; made only when a layer is stacked (a plain
   *  TCP link calls the handlers directly). */
  /** @internal The plain socket's events (tcpReadable, tcpWritable, tcpError): they go to the
   *  layer stacked on it once there is one; a socket of an older dial is ignored. */
  socketEvent(generation: number, event: SocketEvent, count: number): void {
    if (generation !== this.generation) return;
    const tap = (this.link as Link).tap;
    if (event === SocketEvent.Readable) {
      if (tap !== null) tap.onReadable(count);
      else this.onReadable(count);
    } else if (event === SocketEvent.Writable) {
      this.bits |= Bit.TcpUp;
      if (tap !== null) tap.onWritable(count);
      else this.onWritable(count);
    } else if (tap !== null) tap.onError();
    else this.onSocketError();
  }

  /** @internal */
  private layerEvents(generation: number): Events {
    return {
      onReadable: (count: number) => {
        if (generation === this.generation) this.onReadable(count);
      },
      onWritable: (count: number) => {
        if (generation === this.generation) this.onWritable(count);
      },
      onError: (detail?: string) => {
        if (generation === this.generation) this.onSocketError(detail);
      },
    };
  }

  /** @internal */
  private layerOptions(server: Server): LayerOptions {
    return { host: server.host, port: server.port, path: server.path, tls: this.options.tls ?? undefined };
  }

  /** Loads the module of a layer, then runs `then` (unless the dial it belongs to is over). */
  /** @internal */
  private load(which: Scheme.Tls | Scheme.Ws, generation: number, then: () => void): void {
    const l = this.link as Link;
    const loaded = (m: LayerModule) => {
      if (l.layerModules === null) l.layerModules = { tls: null, ws: null };
      if (which === Scheme.Tls) l.layerModules.tls = m;
      else l.layerModules.ws = m;
      if (generation === this.generation) then();
    };
    const failed = (e: unknown) => {
      if (generation !== this.generation) return;
      const server = l.server as Server;
      const need = server.scheme === Scheme.Nats ? `TLS (${server.key} requires it)` : `${SCHEMES[server.scheme]}://`;
      const err =
        which === Scheme.Tls
          ? new TransportUnavailableError(need, "nats-xs/tls", "manifests/nats-xs-tls/manifest.json", e)
          : new TransportUnavailableError(need, "nats-xs/ws", "manifests/nats-xs-ws/manifest.json", e);
      this.linkFailed(err);
    };
    // each specifier is written out so that bundlers and manifests see it
    if (which === Scheme.Tls) import("nats-xs/tls").then(loaded, failed);
    else import("nats-xs/ws").then(loaded, failed);
  }

  /** INFO said TLS: stacks the TLS layer on the open plain socket, then sends CONNECT through it. */
  /** @internal */
  private startTls(server: Server): void {
    const l = this.link as Link;
    const tls = l.layerModules?.tls ?? null;
    if (tls === null) return this.load(Scheme.Tls, this.generation, () => this.startTls(server));
    const layer = tls.wrap(l.socket as Socket, l.writable, this.layerOptions(server), this.layerEvents(this.generation));
    l.socket = l.tap = layer;
    l.writable = 0;
    this.bits &= ~Bit.SawWritable;
    this.bits |= Bit.TlsPending;
    this.sendConnect();
  }

  /** The socket on top failed or closed. During a TLS handshake that is a TlsError, with the
   *  layer's detail (the alert, the certificate check) when it gave one; a layer's detail at any
   *  other time is a ConnectionError; a plain close is a plain drop and reconnect. */
  /** @internal */
  private onSocketError(detail?: string): void {
    const l = this.link as Link;
    if ((this.bits & Bit.TlsPending) !== 0 && (this.bits & Bit.TcpUp) !== 0) {
      const key = (l.server as Server).key;
      const why = detail !== undefined && detail !== "" ? detail : "the server closed the connection";
      return this.linkFailed(
        new TlsError(
          `the TLS handshake with ${key} failed (${why}); check tls.ca against the server's CA, that the server's certificate is valid now and names the host (or set tls.serverName), and the client certificate if the server verifies clients`,
          "TLS_HANDSHAKE",
        ),
      );
    }
    // a layer's reason (a WebSocket close code, a TLS alert after the handshake) is reported
    if (detail !== undefined && detail !== "") return this.linkFailed(new ConnectionError(`the link to ${(l.server as Server).key} failed: ${detail}`));
    this.dropSocket(null);
  }

  /** A typed failure of this attempt: reported, then the reconnect loop goes on. */
  /** @internal */
  private linkFailed(err: Error): void {
    this.lastError = err;
    this.emit({ type: "error", error: err });
    this.dropSocket(err);
  }

  /** @internal */
  private onReadable(count: number): void {
    const l = this.link as Link;
    const buf = l.readBuf as Uint8Array;
    const socket = l.socket;
    try {
      while (count > 0 && socket !== null && l.socket === socket) {
        const n = count < buf.length ? count : buf.length;
        socket.read(n === buf.length ? buf : buf.subarray(0, n));
        count -= n;
        this.bits |= Bit.ReadSinceTick;
        (l.parser as Parser).parse(buf, 0, n);
      }
    } catch (e) {
      // nothing thrown here may escape into the socket's callback, where it would stop the device:
      // the stream is dropped and the connection re-established instead
      if (l.socket === socket) this.onProtocolError(`reading the socket failed: ${(e as Error).message}`);
    }
  }

  /** @internal */
  private onWritable(count: number): void {
    const l = this.link as Link;
    this.bits &= ~Bit.TlsPending;
    if ((this.bits & Bit.SawWritable) === 0) {
      // the first count after connecting is the whole send buffer
      this.bits |= Bit.SawWritable;
      (l.out as Outbound).limitTo(count);
    }
    l.writable = count;
    this.pump();
    (l.out as Outbound).settle();
  }

  /** The first PONG after CONNECT: the connection is up. */
  /** @internal */
  private onConnected(): void {
    const l = this.link as Link;
    const server = l.server as Server;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- connected to ${server.key}${this.subs.size > 0 ? `; restoring ${this.subs.size} subscription(s)` : ""}`);
    this.state = State.Connected;
    Timer.clear(l.dialTimer);
    l.dialTimer = null;
    server.failures = 0;
    this.lastError = null;
    // subscriptions go out before anything queued while disconnected
    const subs = this.encodeSubscriptions();
    if (subs !== null) (l.out as Outbound).setFront(subs);
    l.pingTimer = ownTimer(Timer.repeat(pingTick, this.options.pingInterval), this);
    if (this.options.receiveTimeout > 0) {
      this.bits &= ~Bit.ReadSinceTick;
      l.rxTimer = ownTimer(Timer.repeat(receiveTick, this.options.receiveTimeout), this);
    }
    const waiting = l.flushWaiting;
    l.flushWaiting = null;
    if (waiting !== null) for (const done of waiting) this.ping(done);
    if ((this.bits & Bit.EverConnected) === 0) {
      this.bits |= Bit.EverConnected;
      const w = this.connectWaiter;
      this.connectWaiter = null;
      if (w !== null) w.resolve(this);
    } else {
      this.reconnects++;
      this.emit({ type: "reconnect", server: server.key });
    }
    this.pump();
    this.scheduleFlush();
  }

  /** A connection attempt failed before the socket opened. */
  /** @internal */
  private attemptFailed(err: Error): void {
    this.lastError = err;
    this.dropSocket(err);
  }

  /** Drops the socket (if any) and moves on: reconnect, give up, or finish closing. */
  /** @internal */
  private dropSocket(err: Error | null): void {
    const l = this.link as Link;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- dropping the connection${l.server !== null ? ` to ${l.server.key}` : ""}: ${err === null ? "closed by the server or the network" : err.message}`);
    const socket = l.socket;
    l.socket = l.tap = null;
    l.readBuf = null;
    this.generation++;
    // whatever follows in the chunk being parsed belongs to the dropped stream
    if (l.parser !== null) (l.parser as Parser).reset();
    Timer.clear(l.dialTimer);
    l.dialTimer = null;
    Timer.clear(l.pingTimer);
    l.pingTimer = null;
    Timer.clear(l.rxTimer);
    l.rxTimer = null;
    if (socket !== null) {
      try {
        socket.close();
      } catch {
        // already closed by the peer
      }
    }
    const state = this.state;
    if (state === State.Closed) return;
    if (state === State.Closing) return this.finishClose(null);
    const server = l.server;
    const wasConnected = state === State.Connected || state === State.Draining;
    const lost = err ?? new ConnectionError(`connection to ${server?.key} lost before the server answered`);
    this.failPings(lost);
    l.pingsOut = 0;
    const lostBefore = (l.out as Outbound).lostStreams;
    (l.out as Outbound).rewind();
    // messages handed to the dead socket after the last PONG: TCP cannot tell whether they arrived
    const handed = this.outMsgs - (l.out as Outbound).messages();
    const unconfirmed = wasConnectedBefore(state) ? Math.max(0, handed - l.confirmed) : 0;
    l.confirmed = handed;
    const open = l.stream;
    if (open !== null) {
      l.stream = null;
      open.fail(new ConnectionError("the connection was lost in the middle of a streamed message; send it again after reconnecting", err ?? undefined));
    }
    const cut = (l.out as Outbound).lostStreams - lostBefore;
    if (cut > 0) {
      this.dropped += cut;
      this.emit({ type: "error", error: new ConnectionError(`${cut} streamed message(s) cut by the disconnect were dropped`) });
    }
    if (wasConnected) {
      this.emit({ type: "disconnect", server: server?.key, unconfirmed });
      if (state === State.Draining || !this.options.reconnect) return this.finishClose(lost);
    } else if (server !== null) {
      server.failures++;
      const max = this.options.maxReconnectAttempts;
      if (((this.bits & Bit.EverConnected) !== 0 || this.options.waitOnFirstConnect) && max >= 0 && server.failures >= max) (l.pool as ServerPool).remove(server);
    }
    this.state = State.Reconnecting;
    this.next();
  }

  /** @internal */
  private giveUp(): void {
    const tried = this.options.servers.join(", ");
    const err = (this.bits & Bit.EverConnected) !== 0
      ? new ConnectionError(`gave up reconnecting after ${this.options.maxReconnectAttempts} attempts per server (${tried})`, this.lastError ?? undefined)
      : this.lastError instanceof AuthorizationError || this.lastError instanceof TlsError || this.lastError instanceof TransportUnavailableError
        ? this.lastError
        : new ConnectionError(`could not connect to ${tried}: ${this.lastError?.message ?? "no server answered"}; check that nats-server runs there`, this.lastError ?? undefined);
    this.finishClose(err);
  }

  /** @internal */
  private finishClose(err: Error | null): void {
    const l = this.link as Link;
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    (l.parser as Parser).reset();
    // a closed connection keeps only what its public API still answers (options, info, stats):
    // the parser, the queue, the servers, the request inbox and the timers go now
    l.parser = null;
    l.pool = null;
    l.server = null;
    l.readBuf = null;
    this.clearTimers();
    Timer.clear(l.flushTimer);
    l.flushTimer = null;
    // scheduleFlush() is a no-op from now on
    this.bits |= Bit.FlushScheduled;
    const socket = l.socket;
    l.socket = l.tap = null;
    this.generation++;
    if (socket !== null) {
      try {
        socket.close();
      } catch {
        // already gone
      }
    }
    const closedErr = new ClosedConnectionError(undefined, err ?? undefined);
    this.failPings(closedErr);
    // from here on the connection holds no link: its record goes with what is left in it below
    this.link = null;
    const waiting = l.flushWaiting;
    l.flushWaiting = null;
    if (waiting !== null) for (const done of waiting) done(closedErr);
    if (l.mux !== null) l.mux.rejectAll(closedErr);
    l.mux = null;
    l.muxSub = null;
    for (const s of this.subs.values()) s.finish(err);
    this.subs.clear();
    const discarded = (l.out as Outbound).messages();
    (l.out as Outbound).clear();
    l.out = null;
    if (discarded > 0) {
      this.dropped += discarded;
      this.emit({
        type: "error",
        error: new MessagesDiscardedError(discarded, err === null ? "the connection was closed before the server took them" : `the connection closed (${err.message})`),
      });
    }
    if (l.stream !== null) {
      l.stream.fail(closedErr);
      l.stream = null;
    }
    const w = this.connectWaiter;
    this.connectWaiter = null;
    if (w !== null) w.reject(err ?? closedErr);
    this.emit({ type: "close", error: err ?? undefined });
    const listeners = this.statusStreams;
    this.statusStreams = null;
    if (listeners !== null) for (const s of listeners) s.end();
    if (this.closeWaiter !== null) this.closeWaiter();
    this.closeError = err ?? undefined;
    const c = this.closedPromise;
    if (c !== null && c.resolve !== null) {
      c.resolve(this.closeError);
      c.resolve = null;
    }
  }

  /** @internal */
  private clearTimers(): void {
    const l = this.link as Link;
    Timer.clear(l.dialTimer);
    Timer.clear(l.pingTimer);
    Timer.clear(l.rxTimer);
    l.dialTimer = l.pingTimer = l.rxTimer = null;
  }

  /** @internal */
  onPingTimer(): void {
    const l = this.link as Link;
    if (this.state !== State.Connected && this.state !== State.Draining) return;
    if (l.pingsOut >= this.options.maxPingOut) {
      const err = new StaleConnectionError(l.pingsOut);
      this.lastError = err;
      this.emit({ type: "staleConnection", error: err });
      return this.dropSocket(err);
    }
    l.pingsOut++;
    this.emit({ type: "ping", pendingPings: l.pingsOut });
    if (!this.hasRoom(6)) return this.stale("the server does not read what the client sends (the outbound queue is full)");
    this.ping(null);
  }

  /** A message stopped arriving half-way: no byte came for a whole receiveTimeout. */
  /** @internal */
  onRxTimer(): void {
    const l = this.link as Link;
    if ((this.bits & Bit.ReadSinceTick) === 0 && !(l.parser as Parser).idle && (this.state === State.Connected || this.state === State.Draining))
      return this.stale(`the server sent part of a frame and then nothing for ${this.options.receiveTimeout} ms`);
    this.bits &= ~Bit.ReadSinceTick;
    (l.parser as Parser).shrink();
  }

  /** Drops a connection that no longer carries traffic both ways; it is re-established. */
  /** @internal */
  private stale(why: string): void {
    const l = this.link as Link;
    const err = new StaleConnectionError(l.pingsOut, `${why}; the connection is considered stale and is being re-established`);
    this.lastError = err;
    this.emit({ type: "staleConnection", error: err });
    this.dropSocket(err);
  }

  /** The server closed the connection for its control-line limit: the longest SUB line sent on it
   *  is the cause (our PUB lines are refused before sending). That subscription ends with the
   *  error instead of being sent again on every reconnect, and the lower limit holds from now on. */
  /** @internal */
  private refuseLongestSub(): void {
    const l = this.link as Link;
    const sub = this.subs.get(l.longestSubSid);
    if (l.longestSub === 0 || sub === undefined) return;
    const err = new ProtocolLimitError("the SUB line", l.longestSub, l.longestSub - 1);
    l.controlLimit = Math.min(l.controlLimit, l.longestSub - 1);
    this.deliverError(sub, err);
    this.removeSub(sub, err);
    this.emit({ type: "error", error: err });
  }

  // ---- outbound -----------------------------------------------------------------------------

  /** Throws BufferFullError unless a frame of `bytes`, of which `held` would be copies, fits the
   *  bound for the current state: copies while connected, everything while disconnected. */
  /** @internal */
  private checkRoom(bytes: number, held: number): void {
    const l = this.link as Link;
    const out = l.out as Outbound;
    const s = this.state;
    if (s === State.Connected || s === State.Draining) {
      if (out.held + held > this.options.maxPendingBytes && out.held > 0) {
        this.pump();
        if (out.held + held > this.options.maxPendingBytes) throw new BufferFullError("outbound queue", this.options.maxPendingBytes);
      }
    } else if (out.held + out.referenced + bytes > this.options.reconnectBufferBytes) {
      throw new BufferFullError("reconnect buffer", this.options.reconnectBufferBytes);
    }
  }

  /** Writes what the socket takes now; true when something was written. */
  /** @internal */
  private pump(): boolean {
    const l = this.link as Link;
    const socket = l.socket;
    if (socket === null || l.writable <= 0) return false;
    const before = l.writable;
    const s = this.state;
    try {
      l.writable = (l.out as Outbound).drain(socket, l.writable, s !== State.Connected && s !== State.Draining && s !== State.Closing);
    } catch {
      // the socket's count moved under us; onWritable will report the new one
      l.writable = 0;
    }
    if (this.closeWaiter !== null && (l.out as Outbound).empty) this.closeWaiter();
    if (l.stream !== null) l.stream.drained((l.out as Outbound).held);
    return l.writable !== before;
  }

  /** @internal */
  private scheduleFlush(): void {
    const l = this.link as Link;
    if ((this.bits & Bit.FlushScheduled) !== 0) return;
    this.bits |= Bit.FlushScheduled;
    Timer.schedule(l.flushTimer as TimerId, 0, IDLE);
  }

  /** @internal */
  onFlushTimer(): void {
    const l = this.link as Link;
    this.bits &= ~Bit.FlushScheduled;
    Timer.schedule(l.flushTimer as TimerId);
    this.pump();
    // a batch grown by this turn goes once written (if the socket lags, when onWritable wrote it)
    (l.out as Outbound).settle();
  }

  /** Queues a PING; `done` runs on its PONG (null for keepalive). */
  /** @internal */
  private ping(done: ((err?: Error) => void) | null): void {
    const l = this.link as Link;
    l.pongs.push(done, this.outMsgs);
    this.control("PING\r\n", true);
  }

  /** Fails the flush() calls whose PINGs were in flight, and forgets those PINGs. */
  /** @internal */
  private failPings(err: Error): void {
    const l = this.link as Link;
    const pongs = l.pongs;
    for (let i = 0; i < pongs.length; i += 2) {
      const done = pongs[i] as ((err?: Error) => void) | null;
      if (done !== null) done(err);
    }
    pongs.length = 0;
  }

  /** True when `n` more copied bytes fit the outbound bound (after writing what the socket takes). */
  /** @internal */
  private hasRoom(n: number): boolean {
    const l = this.link as Link;
    const out = l.out as Outbound;
    if (out.held + n <= this.options.maxPendingBytes || out.held === 0) return true;
    this.pump();
    return out.held + n <= this.options.maxPendingBytes;
  }

  /** Queues a protocol line with no subject (PING, PONG); false when the outbound bound is hit
   *  (control traffic counts against maxPendingBytes like messages). */
  /** @internal */
  private control(text: string, force = false): boolean {
    const l = this.link as Link;
    if (l.socket === null) return true;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> ${text.substring(0, text.length - 2)}`);
    if (!force && !this.hasRoom(text.length)) return false;
    const out = l.out as Outbound;
    let pos = out.reserve(text.length);
    if (pos >= 0) writeAscii(out.buffer, pos, text);
    else if ((pos = out.reserveSpill(text.length)) >= 0) writeAscii(out.page, pos, text);
    else out.push(this.encodeText(text), true, true, false);
    this.scheduleFlush();
    return true;
  }

  /** @internal */
  private sendSub(sub: Subscription): void {
    const l = this.link as Link;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> SUB ${sub.subject}${sub.queue === "" ? "" : ` ${sub.queue}`} ${sub.sid}`);
    const n = subLength(sub.subject, sub.queue, sub.sid);
    if (n > l.longestSub) {
      l.longestSub = n;
      l.longestSubSid = sub.sid;
    }
    const out = l.out as Outbound;
    let pos = out.reserve(n);
    if (pos >= 0) encodeSub(out.buffer, pos, sub.subject, sub.queue, sub.sid, this.encoder);
    else if ((pos = out.reserveSpill(n)) >= 0) encodeSub(out.page, pos, sub.subject, sub.queue, sub.sid, this.encoder);
    else {
      const b = new Uint8Array(n);
      encodeSub(b, 0, sub.subject, sub.queue, sub.sid, this.encoder);
      out.push(b, true, true, false);
    }
  }

  /** @internal */
  private sendUnsub(sid: number, max: number): void {
    const l = this.link as Link;
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> UNSUB ${sid}${max > 0 ? ` ${max}` : ""}`);
    const n = unsubLength(sid, max);
    // the server must hear it, or it keeps sending: past the bound, a new connection (which
    // restores only live subscriptions) is the way to tell it
    if (!this.hasRoom(n)) return this.stale("the server does not read what the client sends (an UNSUB does not fit the outbound queue)");
    const out = l.out as Outbound;
    let pos = out.reserve(n);
    let b = out.buffer;
    if (pos < 0 && (pos = out.reserveSpill(n)) >= 0) b = out.page;
    else if (pos < 0) {
      b = new Uint8Array(n);
      pos = 0;
    }
    const end = encodeUnsub(b, pos, sid, max);
    if (b !== out.buffer && b !== out.page) out.push(b.subarray(0, end), true, true, false);
  }

  /** SUB (and UNSUB for the remaining max) of every subscription, for a reconnect. */
  /** @internal */
  private encodeSubscriptions(): Uint8Array | null {
    const l = this.link as Link;
    let n = 0;
    for (const s of this.subs.values()) n += subLength(s.subject, s.queue, s.sid) + (s.max > 0 ? unsubLength(s.sid, s.max) : 0);
    if (n === 0) return null;
    const b = new Uint8Array(n);
    let pos = 0;
    for (const s of this.subs.values()) {
      if ((this.bits & Bit.Debug) !== 0) traceLine(`> SUB ${s.subject}${s.queue === "" ? "" : ` ${s.queue}`} ${s.sid}${s.max > 0 ? ` (and UNSUB ${s.sid} ${s.max})` : ""}`);
      const start = pos;
      pos = encodeSub(b, pos, s.subject, s.queue, s.sid, this.encoder);
      if (pos - start > l.longestSub) {
        l.longestSub = pos - start;
        l.longestSubSid = s.sid;
      }
      if (s.max > 0) pos = encodeUnsub(b, pos, s.sid, s.max);
    }
    return b.subarray(0, pos);
  }

  /** @internal */
  private encodeText(text: string): Uint8Array {
    const b = new Uint8Array(utf8Length(text));
    writeString(b, 0, text, this.encoder);
    return b;
  }

  /** @internal */
  private connectJson(): string {
    const l = this.link as Link;
    const o = this.options;
    const s = l.server as Server;
    const c: Record<string, unknown> = {
      verbose: false,
      pedantic: false,
      tls_required: false,
      lang: "nats-xs",
      version: VERSION,
      protocol: 1,
      headers: true,
      no_responders: true,
      echo: !o.noEcho,
    };
    if (o.name !== "") c.name = o.name;
    // credentials in a server URL are for that server only; the options' credentials are for
    // every server, those the cluster announces included (see README, "Credentials")
    const fromUrl = s.user !== "" || s.token !== "";
    const user = fromUrl ? s.user : o.user;
    const pass = fromUrl ? s.pass : o.pass;
    const token = fromUrl ? s.token : o.token;
    if (user !== "") {
      c.user = user;
      c.pass = pass;
    }
    if (token !== "") c.auth_token = token;
    const nonce = this.serverInfo?.nonce;
    // an indexed loop: a for-of keeps its iterator on the stack, and signing (nacl) runs deep below
    // this frame on a 512-slot stack
    const authenticators = o.authenticators;
    for (let i = 0; i < authenticators.length; i++) {
      const auth = authenticators[i](typeof nonce === "string" ? nonce : undefined);
      if (auth === null || typeof auth !== "object") continue;
      for (const key of AUTH_FIELDS) {
        const value = auth[key];
        if (value === undefined || value === "") continue;
        if (typeof value !== "string") throw new InvalidArgumentError(`an authenticator returned a non-string ${key}`);
        c[key] = value;
      }
    }
    if ((this.bits & Bit.Debug) !== 0) traceLine(`> CONNECT ${redactedConnect(c)}`);
    return JSON.stringify(c);
  }

  // ---- delivery -----------------------------------------------------------------------------

  /** @internal A reply on the request inbox (onReply). */
  settleReply(msg: Msg): void {
    const l = this.link;
    if (l !== null && l.mux !== null) l.mux.settle(msg);
  }

  /** @internal */
  private checkMax(sub: Subscription): void {
    const max = sub.max;
    if (max > 0 && sub.received >= max) this.removeSub(sub, null);
  }

  /** @internal */
  private removeSub(sub: Subscription, err: Error | null): void {
    // also after a callback closed the connection (the link is gone then)
    const l = this.link;
    this.subs.delete(sub.sid);
    if (l !== null && sub === l.muxSub) l.muxSub = null;
    sub.finish(err);
  }

  /** @internal */
  private deliverError(sub: Subscription, err: Error): void {
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- subscription ${sub.sid} (${sub.subject}): ${err.message}`);
    if (sub.callback === null) {
      this.emit({ type: "error", error: err });
      return;
    }
    try {
      sub.callback(err, null);
    } catch (e) {
      this.emit({ type: "error", error: e as Error });
    }
  }

  /** @internal */
  private permissionError(text: string): void {
    // "Permissions Violation for Subscription to <subject>[ using queue <queue>]" or "... Publish to <subject>"
    const lower = text.toLowerCase();
    const isSub = lower.indexOf("for subscription to") >= 0;
    const at = lower.indexOf(" to ");
    let subject = at >= 0 ? text.substring(at + 4).trim() : "";
    let queue = "";
    const q = subject.toLowerCase().indexOf(" using queue ");
    if (q >= 0) {
      queue = subject.substring(q + 13).trim();
      subject = subject.substring(0, q).trim();
    }
    if (subject.length > 1 && subject.charCodeAt(0) === 34) subject = subject.substring(1, subject.length - 1);
    const err = new PermissionViolationError(text, isSub ? "subscription" : "publish", subject, queue);
    if (isSub) {
      for (const s of [...this.subs.values()]) {
        if (s.subject === subject && (queue === "" || s.queue === queue)) {
          this.deliverError(s, err);
          this.removeSub(s, err);
        }
      }
    }
    this.emit({ type: "error", error: err });
  }

  /** @internal */
  private emit(event: Status): void {
    if ((this.bits & Bit.Debug) !== 0) traceLine(`- status ${event.type}${event.server !== undefined ? ` ${event.server}` : ""}${event.error !== undefined ? `: ${event.error.message}` : ""}`);
    if (this.statusStreams !== null) for (const s of this.statusStreams) s.push(event);
  }
}

/** @internal What the connection tells the open streamed message (nats-xs/stream's MessageWriter). */
export interface StreamHook {
  /** Payload bytes announced. */
  readonly size: number;
  /** The connection cut the message (a disconnect, close): later writes throw `err`. */
  fail(err: Error): void;
  /** The outbound queue was written out down to `held` copied bytes. */
  drained(held: number): void;
}

const enum SocketEvent {
  Readable,
  Writable,
  Error,
}

/** What a connection hangs on its plain socket for the three functions below. */
interface OwnedSocket {
  owner: NatsConnection;
  generation: number;
}

// ECMA-419 calls a socket's callbacks with the socket as `this`
function tcpReadable(this: TCP, count: number): void {
  const s = this as unknown as OwnedSocket;
  s.owner.socketEvent(s.generation, SocketEvent.Readable, count);
}
function tcpWritable(this: TCP, count: number): void {
  const s = this as unknown as OwnedSocket;
  s.owner.socketEvent(s.generation, SocketEvent.Writable, count);
}
function tcpError(this: TCP): void {
  const s = this as unknown as OwnedSocket;
  s.owner.socketEvent(s.generation, SocketEvent.Error, 0);
}

/** What a connection hangs on its long-lived timers for the tick functions below: a timer's
 *  callback gets its id (an object on Moddable, in the host simulator and on the XS host), so one
 *  function serves the timers of every connection, where a closure each would cost about 11 slots. */
interface OwnedTimer {
  owner: NatsConnection;
}
function ownTimer(id: TimerId, nc: NatsConnection): TimerId {
  (id as unknown as OwnedTimer).owner = nc;
  return id;
}
function flushTick(id: TimerId): void {
  (id as unknown as OwnedTimer).owner.onFlushTimer();
}
function pingTick(id: TimerId): void {
  (id as unknown as OwnedTimer).owner.onPingTimer();
}
function receiveTick(id: TimerId): void {
  (id as unknown as OwnedTimer).owner.onRxTimer();
}

/** The request inbox's callback: one function for every connection, no closure per connection. */
function onReply(_err: Error | null, msg: Msg | null): void {
  if (msg !== null) (msg.owner as NatsConnection).settleReply(msg);
}

function wasConnectedBefore(state: State): boolean {
  return state === State.Connected || state === State.Draining;
}

function isIPv4(host: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = value = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48;
      digits++;
    } else return false;
  }
  return parts === 4;
}

/** Connects to NATS; resolves once the server accepted CONNECT. */
export function connect(options: ConnectionOptions = {}): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = new NatsConnection(options);
  } catch (e) {
    return Promise.reject(e);
  }
  return nc.start();
}
