/**
 * What a connection holds while it lives: its servers, socket and layers, parser, outbound queue,
 * timers, PINGs in flight, the message being parsed, the request inbox. `close()` lets go of the
 * whole record at once, so that a closed `NatsConnection` the app still holds keeps only what its
 * public API answers (options, info, stats, closed()). One record, not fields of the connection:
 * every field of an object is a slot of the heap for as long as the object lives.
 */
import type { TimerId } from "timer";
import type { StreamHook } from "./connection.js";
import type { RequestMux } from "./mux.js";
import type { Outbound } from "./outbound.js";
import type { Parser } from "./parser.js";
import type { Server, ServerPool } from "./servers.js";
import type { Subscription } from "./subscription.js";
import type { Layer, LayerModule, Socket } from "./transport.js";

export class Link {
  pool: ServerPool | null = null;
  server: Server | null = null;
  maxPayload = 1048576;
  /** What the connection reads and writes: the plain TCP socket, or the top layer stacked on it. */
  socket: Socket | null = null;
  /** The layer that takes the plain socket's events once stacked on it (TLS or WebSocket). */
  tap: Layer | null = null;
  /** Layer modules, loaded by import() on first need (kept per connection: modules hold no state). */
  layerModules: { tls: LayerModule | null; ws: LayerModule | null } | null = null;
  writable = 0;
  /** Made when a socket opens, let go when it closes. */
  readBuf: Uint8Array | null = null;
  /** The parser, the outbound queue and the per-turn flush timer. */
  parser: Parser | null = null;
  out: Outbound | null = null;
  flushTimer: TimerId | null = null;
  pingTimer: TimerId | null = null;
  /** While connected: fires every receiveTimeout ms to catch a message that stopped arriving. */
  rxTimer: TimerId | null = null;
  /** The longest SUB line sent on this connection and its sid: the one to blame when the server
   *  closes the connection for its control-line limit. */
  longestSub = 0;
  longestSubSid = 0;
  /** Control-line limit in force: the option, lowered when the server proved its own lower. */
  controlLimit = 0;
  /** The wait before the next dial, or the handshake's deadline once dialed (never both). */
  dialTimer: TimerId | null = null;
  pingsOut = 0;
  /** Two entries per PING in flight, in one array: the flush() to resolve (null for a keepalive
   *  PING), then stats.outMsgs when it was queued; its PONG proves the server processed that many
   *  (the queue is in order). */
  pongs: (((err?: Error) => void) | null | number)[] = [];
  /** Messages the server is known to have processed (see pongs). */
  confirmed = 0;
  /** flush() calls made while disconnected: their PINGs go out after the next handshake. */
  flushWaiting: ((err?: Error) => void)[] | null = null;
  /** The subscription and subject of the message being parsed. */
  cur: Subscription | null = null;
  curSubject = "";
  curReply = "";
  muxSub: Subscription | null = null;
  /** The request inbox, made by the first request(). */
  mux: RequestMux | null = null;
  /** The open streamed message (nats-xs/stream), if any. */
  stream: StreamHook | null = null;
}
