/**
 * The JetStream API as request/reply over the core connection: prefix and domain, timeouts, the
 * bounded parse of every reply, and the checks on names put into API subjects.
 */
import { InvalidArgumentError, NoRespondersError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { JetStreamNotEnabled } from "./errors.js";
import { parseApiReply } from "./json.js";
import type { Json } from "./json.js";
import type { OutboxStore } from "./store.js";

/** Options of `jetstream()` and `jetstreamManager()`. */
export interface JetStreamOptions {
  /** JetStream domain: the API becomes `$JS.<domain>.API`. */
  domain?: string;
  /** API subject prefix (default "$JS.API"); exclusive with `domain`. */
  apiPrefix?: string;
  /** Milliseconds to wait for an API reply or a publish ack (default 5000). */
  timeout?: number;
  /** Bytes of unacknowledged publishes the outbox may hold: subject + headers + payload of each, plus
   *  640 for what its entry costs; beyond it js.publish() rejects with OutboxFullError (default 16384). */
  outboxBytes?: number;
  /** Publishes sent and waiting for their ack at once (default 32). */
  maxInFlight?: number;
  /** Milliseconds of "no stream" answers (503) after which a publish fails with NoStreamError; in a
   *  cluster a stream answers 503 while it elects a leader (default 10000). */
  noStreamWait?: number;
  /** Largest API reply accepted, in bytes; larger ones are refused before parsing (default 16384).
   *  The connection's receiveBufferBytes bounds what reaches us too. */
  maxResponseBytes?: number;
  /** jetstreamManager(): check at once that JetStream answers (default true). */
  checkAPI?: boolean;
  /** Where the outbox keeps its entries so that they outlive a reboot (`fileStore()` of
   *  nats-xs/outbox-file). Entries it holds are restored by jetstream() and sent once connected;
   *  with a store, outboxBytes counts only what each entry costs in RAM (640 bytes; 192 restored). */
  outboxStore?: OutboxStore;
}

/** The options, checked and with defaults. */
export interface ResolvedJsOptions {
  apiPrefix: string;
  timeout: number;
  outboxBytes: number;
  maxInFlight: number;
  noStreamWait: number;
  maxResponseBytes: number;
  outboxStore: OutboxStore | null;
}

function int(v: unknown, fallback: number, what: string, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`option ${what} must be an integer >= ${min}, not ${String(v)}`);
  return v;
}

const KNOWN = Object.freeze(["domain", "apiPrefix", "timeout", "outboxBytes", "maxInFlight", "noStreamWait", "maxResponseBytes", "checkAPI", "outboxStore"]);

/** Checks the options of jetstream() and jetstreamManager() and fills in the defaults. */
export function resolveJsOptions(o: JetStreamOptions = {}): ResolvedJsOptions {
  if (o === null || typeof o !== "object") throw new InvalidArgumentError("jetstream() takes an options object");
  for (const k in o) if (KNOWN.indexOf(k) < 0) throw new InvalidArgumentError(`jetstream option ${JSON.stringify(k)} is not supported by nats-xs`);
  if (o.domain !== undefined && o.apiPrefix !== undefined) throw new InvalidArgumentError("give domain or apiPrefix, not both");
  let prefix = "$JS.API";
  if (o.domain !== undefined) {
    checkToken(o.domain, "domain");
    prefix = `$JS.${o.domain}.API`;
  } else if (o.apiPrefix !== undefined) {
    if (typeof o.apiPrefix !== "string" || o.apiPrefix.length === 0 || o.apiPrefix.endsWith(".")) throw new InvalidArgumentError("apiPrefix must be a subject prefix without a trailing '.'");
    prefix = o.apiPrefix;
  }
  return {
    apiPrefix: prefix,
    timeout: int(o.timeout, 5000, "timeout", 1),
    outboxBytes: int(o.outboxBytes, 16384, "outboxBytes", 0),
    maxInFlight: int(o.maxInFlight, 32, "maxInFlight", 1),
    noStreamWait: int(o.noStreamWait, 10000, "noStreamWait", 0),
    maxResponseBytes: int(o.maxResponseBytes, 16384, "maxResponseBytes", 64),
    outboxStore: store(o.outboxStore),
  };
}

function store(v: unknown): OutboxStore | null {
  if (v === undefined) return null;
  const s = v as Record<string, unknown> | null;
  if (s === null || typeof s !== "object" || typeof s.open !== "function" || typeof s.add !== "function" || typeof s.read !== "function" || typeof s.remove !== "function")
    throw new InvalidArgumentError("outboxStore must be a store such as fileStore() of nats-xs/outbox-file");
  return s as unknown as OutboxStore;
}

/** Refuses a stream, consumer or domain name that would change the API subject it is put in. */
export function checkToken(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > 255) throw new InvalidArgumentError(`${what} must be a non-empty name`);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 46 || c === 42 || c === 62 || c === 127) throw new InvalidArgumentError(`${what} ${JSON.stringify(v)} may not contain '.', '*', '>' or white space`);
  }
  return v;
}

/** Request/reply to the JetStream API of one connection. */
export class JetStreamApi {
  readonly nc: NatsConnection;
  readonly options: ResolvedJsOptions;
  readonly prefix: string;

  constructor(nc: NatsConnection, options: ResolvedJsOptions) {
    if (nc === null || typeof nc !== "object" || typeof nc.request !== "function") throw new InvalidArgumentError("jetstream() needs a connection made by connect()");
    this.nc = nc;
    this.options = options;
    this.prefix = options.apiPrefix;
  }

  /** Calls `<prefix>.<verb>` with `body` (JSON-encoded unless a string) and returns the checked reply. */
  async call(verb: string, body?: unknown, timeout = this.options.timeout): Promise<Json> {
    const subject = `${this.prefix}.${verb}`;
    const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    let msg;
    try {
      msg = await this.nc.request(subject, data, { timeout });
    } catch (e) {
      if (e instanceof NoRespondersError) throw new JetStreamNotEnabled(subject);
      throw e;
    }
    return parseApiReply(msg.data, this.nc.decoder, this.options.maxResponseBytes);
  }
}
