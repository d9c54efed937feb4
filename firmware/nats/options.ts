/**
 * Connection options: nats.js names where nats.js has the option, device names for the buffers.
 * Every buffer is bounded here, and the README lists what each one costs.
 */
import { checkNames } from "./check.js";
import type { Refusals } from "./check.js";
import { InvalidArgumentError } from "./errors.js";
import type { TlsOptions } from "./transport.js";

export interface ConnectionOptions {
  /** "host:port", "nats://[user:pass@]host:port", or a list of them. Default "127.0.0.1:4222". */
  servers?: string | string[];
  /** nats.js's shorthand for `servers: "127.0.0.1:<port>"`; not with `servers`. */
  port?: number;
  /** Client name shown by the server (monitoring, `nats server report connections`). */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Milliseconds between client PINGs (default 120000). */
  pingInterval?: number;
  /** Unanswered PINGs before the connection is declared stale (default 2). */
  maxPingOut?: number;
  /** Reconnect after losing the connection (default true). */
  reconnect?: boolean;
  /** Failed attempts per server before it leaves the pool; -1 for no limit (default 10). */
  maxReconnectAttempts?: number;
  /** Milliseconds between attempts to the same server (default 2000). */
  reconnectTimeWait?: number;
  /** Up to this many milliseconds are added at random to each wait (default 100). */
  reconnectJitter?: number;
  /** The same for servers reached over TLS (tls://, wss://, or with `tls` options; default 1000). */
  reconnectJitterTLS?: number;
  /** Milliseconds for one connection attempt, from dialing to the first PONG (default 20000). */
  timeout?: number;
  /** Do not receive your own publishes on your subscriptions (default false). */
  noEcho?: boolean;
  /** Keep the server list in the given order instead of shuffling it (default false). */
  noRandomize?: boolean;
  /** Keep trying the servers when the first connect fails, instead of rejecting (default false). */
  waitOnFirstConnect?: boolean;
  /** Do not add the servers the cluster announces (connect_urls) to the pool (default false). */
  ignoreClusterUpdates?: boolean;
  /** Prefix of request inboxes (default "_INBOX"). */
  inboxPrefix?: string;
  /** Called for every CONNECT with the server's nonce; what it returns (nkey and signature, JWT,
   *  user and password, token) is sent with it. The nkey, JWT and creds authenticators are in
   *  `nats-xs/auth`. Several are merged in order. */
  authenticator?: Authenticator | Authenticator[];
  /** TLS for every server (nats.js's shape; PEM text or bytes). Given, TLS is required even on
   *  nats:// URLs; `null` refuses TLS (a server that requires it is then a TlsError). Without it,
   *  tls:// and wss:// URLs verify against the device's trusted roots, and a nats:// server that
   *  requires TLS is upgraded. Needs `nats-xs/tls` in the build (see the README). */
  tls?: TlsOptions | null;
  /** Writes the protocol lines and the connection's decisions (dial, connect, reconnect, stale,
   *  drops) with the global `trace()` (Moddable's; the host simulator prints to stdout), as
   *  nats.js's `debug` prints them. Off by default; off, it costs a field test (see README, "Tracing"). */
  debug?: boolean;
  /** nats.js: do not stop reconnecting after the same authentication error twice. nats-xs never
   *  stops early (maxReconnectAttempts decides), so only `true` is accepted. */
  ignoreAuthErrorAbort?: boolean;
  /** nats.js: do not add the caller's stack to async errors. nats-xs never adds it: only `true`. */
  noAsyncTraces?: boolean;
  /** nats.js: resolve host names. nats-xs always resolves names that are not IPv4 literals: only `true`. */
  resolve?: boolean;

  /** Bytes taken from the socket per read; allocated once (default 1024). */
  readBufferBytes?: number;
  /** Largest message (headers + payload) delivered whole; frames split across reads are assembled
   *  here, allocated on first need. Larger messages go to chunked subscriptions or are skipped
   *  and reported (default 4096, at least 1024). */
  receiveBufferBytes?: number;
  /** Batch buffer for outgoing frames, written once per turn of the event loop; allocated once.
   *  Payloads larger than this are sent from the caller's array without a copy (default 2048). */
  outboundBufferBytes?: number;
  /** Copied bytes that may wait for the socket while connected before publish() throws
   *  BufferFullError (default 32768). */
  maxPendingBytes?: number;
  /** Bytes (copied or referenced) that publish() may queue while disconnected; beyond it publish()
   *  throws BufferFullError. 0 refuses publishing while disconnected (default 8192). */
  reconnectBufferBytes?: number;
  /** DNS servers for host names that are not IPv4 literals (default ["1.1.1.1", "8.8.8.8"]). */
  dnsServers?: string[];
  /** The server's control-line limit: a SUB or UNSUB line longer than this is refused before it
   *  is sent (default 4096, nats-server's max_control_line). */
  maxControlLine?: number;
  /** Milliseconds without a byte while a frame is partly read (a MSG announced and not complete);
   *  past it the connection is stale and is re-established. Checked once per such period, so a
   *  stall is caught after one to two periods (default 30000; 0 turns the check off). */
  receiveTimeout?: number;
}

/** What an authenticator adds to CONNECT (nats.js's `Auth`: NoAuth, UserPass, TokenAuth, NKeyAuth, JwtAuth). */
export interface Auth {
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
}

/** nats.js's Authenticator: called with the server's nonce (absent when the server sent none). */
export type Authenticator = (nonce?: string) => Auth;

/** Options with every default filled in. */
export interface ResolvedOptions {
  servers: string[];
  name: string;
  user: string;
  pass: string;
  token: string;
  pingInterval: number;
  maxPingOut: number;
  reconnect: boolean;
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
  reconnectJitter: number;
  reconnectJitterTLS: number;
  timeout: number;
  noEcho: boolean;
  noRandomize: boolean;
  waitOnFirstConnect: boolean;
  ignoreClusterUpdates: boolean;
  inboxPrefix: string;
  authenticators: Authenticator[];
  /** undefined: TLS when the URL or the server asks; null: never. */
  tls: TlsOptions | null | undefined;
  debug: boolean;
  readBufferBytes: number;
  receiveBufferBytes: number;
  outboundBufferBytes: number;
  maxPendingBytes: number;
  reconnectBufferBytes: number;
  dnsServers: string[];
  maxControlLine: number;
  receiveTimeout: number;
}

/** Largest time a device timer takes: Moddable's Timer converts intervals to a 32-bit signed
 *  integer, so 2^31 ms and more would wrap (to a negative interval, which fires at once). */
export const MAX_MS = 0x7fffffff;
/** Largest byte count an option may name: far above any device heap, and exact in a double. */
const MAX_BYTES = 0x40000000;

function num(value: unknown, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || Math.floor(value) !== value || value < min || value > max)
    throw new InvalidArgumentError(`option ${name} must be an integer from ${min} to ${max}, not ${String(value)}`);
  return value;
}

function str(value: unknown, name: string): string {
  if (value === undefined) return "";
  if (typeof value !== "string") throw new InvalidArgumentError(`option ${name} must be a string`);
  return value;
}

function bool(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidArgumentError(`option ${name} must be true or false`);
  return value;
}

function authenticators(value: unknown): Authenticator[] {
  if (value === undefined) return DEFAULTS.authenticators;
  const list = Array.isArray(value) ? value.slice() : [value];
  for (const a of list)
    if (typeof a !== "function")
      throw new InvalidArgumentError("option authenticator must be a function (nonce) => auth, or a list of them; see nats-xs/auth");
  return list as Authenticator[];
}

const TLS_KEYS = Object.freeze(["ca", "cert", "key", "serverName"]);

function pem(value: unknown, name: string): string | Uint8Array | undefined {
  if (value === undefined || typeof value === "string" || value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(`option tls.${name} must be PEM text or its bytes`);
}

function tlsOptions(value: unknown): TlsOptions | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== "object") throw new InvalidArgumentError("option tls must be an object { ca, cert, key, serverName }, or null");
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (TLS_KEYS.indexOf(key) < 0)
      throw new InvalidArgumentError(`option tls.${key} is not supported; give ca, cert and key as PEM text or bytes (a device has no files to name), and serverName`);
  const cert = pem(o.cert, "cert");
  const key = pem(o.key, "key");
  if ((cert === undefined) !== (key === undefined)) throw new InvalidArgumentError("option tls needs both cert and key for a client certificate, or neither");
  if (o.serverName !== undefined && (typeof o.serverName !== "string" || o.serverName === ""))
    throw new InvalidArgumentError("option tls.serverName must be a host name");
  return { ca: pem(o.ca, "ca"), cert, key, serverName: o.serverName as string | undefined };
}

/** The options connect() honours. */
const KNOWN = Object.freeze([
  "servers", "port", "name", "user", "pass", "token", "authenticator", "debug", "pingInterval", "maxPingOut",
  "reconnect", "maxReconnectAttempts", "reconnectTimeWait", "reconnectJitter", "timeout", "noEcho",
  "noRandomize", "waitOnFirstConnect", "ignoreClusterUpdates", "inboxPrefix", "ignoreAuthErrorAbort", "reconnectJitterTLS",
  "noAsyncTraces", "resolve", "tls", "readBufferBytes", "receiveBufferBytes", "outboundBufferBytes",
  "maxPendingBytes", "reconnectBufferBytes", "dnsServers", "maxControlLine", "receiveTimeout",
]);

/** nats.js ConnectionOptions that nats-xs refuses, with what to do instead. */
const REFUSED: Refusals = Object.freeze({
  pedantic: "nats-xs checks subjects before sending; leave it out",
  verbose: "an +OK per operation costs a device bytes and wakeups; leave it out (flush() confirms what was sent)",
  reconnectDelayHandler: "set reconnectTimeWait and reconnectJitter instead",
  reconnectToServer: "order the pool with servers and noRandomize instead",
});

function onlyTrue(value: unknown, name: string, why: string): void {
  if (value !== undefined && value !== true) throw new InvalidArgumentError(`connect(): option ${name} can only be true in nats-xs: ${why}`);
}

/** Every option's default. A resolved options object holds as its own only the options the caller
 *  set and inherits the others from here: with default options that is a slot per option saved on
 *  the device, where this table sits in flash. */
const DEFAULTS: ResolvedOptions = Object.freeze({
  servers: Object.freeze(["127.0.0.1:4222"]) as string[],
  name: "",
  user: "",
  pass: "",
  token: "",
  pingInterval: 120000,
  maxPingOut: 2,
  reconnect: true,
  maxReconnectAttempts: 10,
  reconnectTimeWait: 2000,
  reconnectJitter: 100,
  reconnectJitterTLS: 1000,
  timeout: 20000,
  noEcho: false,
  noRandomize: false,
  waitOnFirstConnect: false,
  ignoreClusterUpdates: false,
  inboxPrefix: "_INBOX",
  authenticators: Object.freeze([] as Authenticator[]) as Authenticator[],
  tls: undefined,
  debug: false,
  readBufferBytes: 1024,
  receiveBufferBytes: 4096,
  outboundBufferBytes: 2048,
  maxPendingBytes: 32768,
  reconnectBufferBytes: 8192,
  dnsServers: Object.freeze(["1.1.1.1", "8.8.8.8"]) as string[],
  maxControlLine: 4096,
  receiveTimeout: 30000,
});

/** Checks the caller's options and fills in the defaults; throws InvalidArgumentError. The result
 *  is read-only: it holds the options the caller set and inherits the others from the frozen
 *  defaults. */
export function resolveOptions(o: ConnectionOptions = {}): ResolvedOptions {
  if (o === null || typeof o !== "object") throw new InvalidArgumentError("connect() takes an options object");
  checkNames(o, KNOWN, "connect()", REFUSED);
  onlyTrue(o.ignoreAuthErrorAbort, "ignoreAuthErrorAbort", "maxReconnectAttempts alone stops reconnecting");
  onlyTrue(o.noAsyncTraces, "noAsyncTraces", "async errors never carry the caller's stack");
  onlyTrue(o.resolve, "resolve", "host names are always resolved (dnsServers); give an IPv4 address to avoid DNS");
  let servers: unknown[];
  if (o.port !== undefined) {
    if (o.servers !== undefined) throw new InvalidArgumentError("connect(): options port and servers exclude each other; use servers");
    servers = [`127.0.0.1:${num(o.port, 0, "port", 1, 65535)}`];
  } else servers = o.servers === undefined ? DEFAULTS.servers : Array.isArray(o.servers) ? o.servers.slice() : [o.servers];
  for (const s of servers)
    if (typeof s !== "string" || s.length === 0) throw new InvalidArgumentError(`option servers must hold non-empty strings, not ${String(s)}`);
  if (servers.length === 0) throw new InvalidArgumentError("option servers must name at least one server");
  const dns: unknown[] = o.dnsServers === undefined ? DEFAULTS.dnsServers : Array.isArray(o.dnsServers) ? o.dnsServers.slice() : [o.dnsServers];
  for (const d of dns)
    if (typeof d !== "string" || d.length === 0) throw new InvalidArgumentError("option dnsServers must be a list of IPv4 addresses");
  const d = DEFAULTS;
  const all: ResolvedOptions = {
    servers: servers as string[],
    name: str(o.name, "name"),
    user: str(o.user, "user"),
    pass: str(o.pass, "pass"),
    token: str(o.token, "token"),
    pingInterval: num(o.pingInterval, d.pingInterval, "pingInterval", 1, MAX_MS),
    maxPingOut: num(o.maxPingOut, d.maxPingOut, "maxPingOut", 1, 1000),
    reconnect: bool(o.reconnect, d.reconnect, "reconnect"),
    maxReconnectAttempts: num(o.maxReconnectAttempts, d.maxReconnectAttempts, "maxReconnectAttempts", -1, 0x7fffffff),
    reconnectTimeWait: num(o.reconnectTimeWait, d.reconnectTimeWait, "reconnectTimeWait", 0, MAX_MS),
    reconnectJitter: num(o.reconnectJitter, d.reconnectJitter, "reconnectJitter", 0, MAX_MS),
    reconnectJitterTLS: num(o.reconnectJitterTLS, d.reconnectJitterTLS, "reconnectJitterTLS", 0, MAX_MS),
    timeout: num(o.timeout, d.timeout, "timeout", 1, MAX_MS),
    noEcho: bool(o.noEcho, d.noEcho, "noEcho"),
    noRandomize: bool(o.noRandomize, d.noRandomize, "noRandomize"),
    waitOnFirstConnect: bool(o.waitOnFirstConnect, d.waitOnFirstConnect, "waitOnFirstConnect"),
    ignoreClusterUpdates: bool(o.ignoreClusterUpdates, d.ignoreClusterUpdates, "ignoreClusterUpdates"),
    inboxPrefix: o.inboxPrefix === undefined ? d.inboxPrefix : str(o.inboxPrefix, "inboxPrefix"),
    authenticators: authenticators(o.authenticator),
    tls: tlsOptions(o.tls),
    debug: bool(o.debug, d.debug, "debug"),
    readBufferBytes: num(o.readBufferBytes, d.readBufferBytes, "readBufferBytes", 64, MAX_BYTES),
    receiveBufferBytes: num(o.receiveBufferBytes, d.receiveBufferBytes, "receiveBufferBytes", 1024, MAX_BYTES),
    outboundBufferBytes: num(o.outboundBufferBytes, d.outboundBufferBytes, "outboundBufferBytes", 256, MAX_BYTES),
    maxPendingBytes: num(o.maxPendingBytes, d.maxPendingBytes, "maxPendingBytes", 256, MAX_BYTES),
    reconnectBufferBytes: num(o.reconnectBufferBytes, d.reconnectBufferBytes, "reconnectBufferBytes", 0, MAX_BYTES),
    dnsServers: dns as string[],
    maxControlLine: num(o.maxControlLine, d.maxControlLine, "maxControlLine", 256, MAX_BYTES),
    receiveTimeout: num(o.receiveTimeout, d.receiveTimeout, "receiveTimeout", 0, MAX_MS),
  };
  // read-only like the inherited defaults (a frozen prototype's property cannot be assigned over)
  const own: PropertyDescriptorMap = {};
  for (const key of Object.keys(all) as (keyof ResolvedOptions)[]) if (all[key] !== DEFAULTS[key]) own[key] = { value: all[key], enumerable: true };
  return Object.create(DEFAULTS, own) as ResolvedOptions;
}
