/**
 * A message delivered by a consumer. `data` is the core message's view: valid during the callback
 * for consume({ callback }), a copy the caller may keep for fetch(), next() and iterators. The
 * delivery info is parsed from the ack subject only when asked for.
 *
 * Ack subjects: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>` (server
 * 2.9), and `$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>[.<token>]`
 * (later servers; domain "_" means none). Both are accepted.
 */
import { InvalidArgumentError, TimeoutError } from "nats-xs";
import type { Msg, MsgHdrs, NatsConnection } from "nats-xs";
import { JetStreamResponseError } from "./errors.js";

/** Where a message sits in its stream and consumer (nats.js `DeliveryInfo`). */
export interface DeliveryInfo {
  domain: string;
  account_hash?: string;
  stream: string;
  consumer: string;
  deliveryCount: number;
  streamSequence: number;
  deliverySequence: number;
  timestampNanos: number;
  pending: number;
  redelivered: boolean;
}

/** Most tokens an ack subject has (the newest layout, with its random token). */
const MAX_TOKENS = 12;

/** Where token `t` ends (its starts are in `starts`). */
function tokenEnd(reply: string, starts: number[], t: number): number {
  return t + 1 < starts.length ? starts[t + 1] - 1 : reply.length;
}

function token(reply: string, starts: number[], t: number): string {
  return reply.substring(starts[t], tokenEnd(reply, starts, t));
}

function numberToken(reply: string, starts: number[], t: number): number {
  return num(reply, starts[t], tokenEnd(reply, starts, t));
}

function num(s: string, from: number, to: number): number {
  if (to <= from || to - from > 20) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Parses an ack subject; throws JetStreamResponseError when it is not one. */
export function parseInfo(reply: string): DeliveryInfo {
  // token boundaries found by scanning, without splitting the string
  const starts: number[] = [0];
  for (let i = 0; i < reply.length; i++) {
    if (reply.charCodeAt(i) === 46) {
      if (starts.length === MAX_TOKENS) throw new JetStreamResponseError("the ack subject has too many tokens");
      starts.push(i + 1);
    }
  }
  const n = starts.length;
  if ((n !== 9 && n < 11) || token(reply, starts, 0) !== "$JS" || token(reply, starts, 1) !== "ACK") throw new JetStreamResponseError(`${JSON.stringify(reply.substring(0, 64))} is not a JetStream ack subject`);
  const b = n === 9 ? 2 : 4;
  let domain = "";
  let hash: string | undefined;
  if (n !== 9) {
    domain = token(reply, starts, 2) === "_" ? "" : token(reply, starts, 2);
    hash = token(reply, starts, 3);
  }
  const delivered = numberToken(reply, starts, b + 2);
  const sseq = numberToken(reply, starts, b + 3);
  const cseq = numberToken(reply, starts, b + 4);
  const ts = numberToken(reply, starts, b + 5);
  const pending = numberToken(reply, starts, b + 6);
  if (delivered < 0 || sseq < 0 || cseq < 0 || ts < 0 || pending < 0) throw new JetStreamResponseError("the ack subject carries a token that is not a number");
  const info: DeliveryInfo = {
    domain,
    stream: token(reply, starts, b),
    consumer: token(reply, starts, b + 1),
    deliveryCount: delivered,
    streamSequence: sseq,
    deliverySequence: cseq,
    timestampNanos: ts,
    pending,
    redelivered: delivered > 1,
  };
  if (hash !== undefined) info.account_hash = hash;
  return info;
}

/** True when the server is 2.10 or later (the version from its INFO). */
function termTakesReason(nc: NatsConnection): boolean {
  const v = nc.info?.version ?? "";
  const dot = v.indexOf(".");
  const major = Number(v.substring(0, dot));
  const minor = parseInt(v.substring(dot + 1), 10);
  return major > 2 || (major === 2 && minor >= 10);
}

/** A JetStream message with its acknowledgements (nats.js JsMsg). */
export class JsMsg {
  readonly #msg: Msg;
  readonly #nc: NatsConnection;
  readonly #timeout: number;
  #info: DeliveryInfo | null = null;
  #acked = false;

  constructor(nc: NatsConnection, msg: Msg, timeout: number) {
    this.#nc = nc;
    this.#msg = msg;
    this.#timeout = timeout;
  }

  get subject(): string {
    return this.#msg.subject;
  }
  get sid(): number {
    return this.#msg.sid;
  }
  get reply(): string {
    return this.#msg.reply;
  }
  get data(): Uint8Array {
    return this.#msg.data;
  }
  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }
  get info(): DeliveryInfo {
    if (this.#info === null) this.#info = parseInfo(this.#msg.reply);
    return this.#info;
  }
  get redelivered(): boolean {
    return this.info.deliveryCount > 1;
  }
  /** The stream sequence. */
  get seq(): number {
    return this.info.streamSequence;
  }
  get time(): Date {
    return new Date(Math.floor(this.info.timestampNanos / 1e6));
  }
  get timestamp(): string {
    return this.time.toISOString();
  }

  string(): string {
    return this.#msg.string();
  }
  json<T = unknown>(): T {
    return this.#msg.json<T>();
  }

  #send(body: string, final: boolean): void {
    if (this.#acked) return;
    if (final) this.#acked = true;
    if (this.#msg.reply === "") return;
    this.#nc.publish(this.#msg.reply, body);
  }

  /** Acknowledges the message (once; later acks, naks and terms are ignored). */
  ack(): void {
    this.#send("+ACK", true);
  }
  /** Asks for redelivery, after `millis` when given. */
  nak(millis?: number): void {
    if (millis !== undefined && (!Number.isFinite(millis) || millis < 0)) throw new InvalidArgumentError("nak delay must be a non-negative number of milliseconds");
    this.#send(millis === undefined || millis === 0 ? "-NAK" : `-NAK {"delay":${Math.floor(millis * 1e6)}}`, true);
  }
  /** Resets the ack timer: still working on it. */
  working(): void {
    this.#send("+WPI", false);
  }
  /** Stops redelivery for good; `reason` goes to the advisory on servers that record it. */
  term(reason?: string): void {
    // servers before 2.10 only know a bare +TERM: a reason would make them ignore the term
    this.#send(reason === undefined || reason === "" || !termTakesReason(this.#nc) ? "+TERM" : `+TERM ${reason}`, true);
  }
  /** Acknowledges and waits for the server to confirm it stored the ack; false when already acked.
   *  Rejects with TimeoutError when the confirmation does not come in time. */
  async ackAck(opts?: { timeout?: number }): Promise<boolean> {
    if (this.#acked || this.#msg.reply === "") return false;
    this.#acked = true;
    try {
      await this.#nc.request(this.#msg.reply, "+ACK", { timeout: opts?.timeout ?? this.#timeout });
    } catch (e) {
      if (e instanceof TimeoutError) throw new TimeoutError("the server did not confirm the ack in time; the message may be delivered again");
      throw e;
    }
    return true;
  }
}
