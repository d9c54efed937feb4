/**
 * One endpoint of a service: its subscription, its handler (or the iterator that reads it) and its
 * ADR-32 counters. The counters are bounded: they stop at Number.MAX_SAFE_INTEGER rather than lose
 * exactness, and the last error is kept to LAST_ERROR_MAX characters, whatever a handler threw.
 */
import { InvalidArgumentError, MessageTooLargeError } from "nats-xs";
import type { Msg, Subscription } from "nats-xs";
import { ServiceError } from "./errors.js";
import { ServiceMsg } from "./msg.js";

/** Longest `last_error` kept, and longest description sent for an error a handler threw. */
export const LAST_ERROR_MAX = 128;

const MAX = Number.MAX_SAFE_INTEGER;

/** A request handler (nats.js `ServiceHandler`). It is called with a request (`err` null: the
 *  errors a subscription can meet are handled by the endpoint, see Endpoint.handle); an async
 *  handler's rejection is answered and counted as a throw is. */
export type ServiceHandler = (err: Error | null, msg: ServiceMsg) => void;

/** An endpoint as INFO lists it. */
export interface EndpointInfo {
  name: string;
  subject: string;
  queue_group: string;
  metadata: Readonly<Record<string, string>>;
}

/** An endpoint as STATS lists it; times in nanoseconds. */
export interface NamedEndpointStats {
  name: string;
  subject: string;
  queue_group: string;
  num_requests: number;
  num_errors: number;
  last_error: string;
  processing_time: number;
  average_processing_time: number;
  data?: unknown;
}

/** What an endpoint needs of its service. */
export interface EndpointOwner {
  stop(err?: Error): Promise<Error | null>;
}

/** `text` on one line and at most LAST_ERROR_MAX characters: it goes into a header and into STATS. */
export function clip(text: string): string {
  if (text.length > LAST_ERROR_MAX) text = text.substring(0, LAST_ERROR_MAX);
  return text.replace(/[\r\n]/g, " ");
}

/**
 * An endpoint; `addEndpoint()` returns it. Without a handler it is read with `for await`
 * (requests queue in its subscription, bounded as the core bounds an iterator: 64 messages, 16 KB),
 * and ending the loop stops the service, as in nats.js.
 */
export class Endpoint implements AsyncIterable<ServiceMsg> {
  readonly name: string;
  readonly subject: string;
  /** "" when the endpoint is not in a queue group. */
  readonly queue: string;
  /** Frozen; undefined when the endpoint has none (INFO says `{}`). */
  readonly metadata: Readonly<Record<string, string>> | undefined;
  private readonly handler: ServiceHandler | null;
  private readonly owner: EndpointOwner;
  /** @internal */
  sub: Subscription | null = null;
  private requests = 0;
  private errors = 0;
  private lastError = "";
  /** Milliseconds spent in the handler (or between an iterator's steps). */
  private ms = 0;
  /** @internal What the service's statsHandler returned for this endpoint. */
  data: unknown = undefined;

  /** @internal Made by addEndpoint(). */
  constructor(owner: EndpointOwner, name: string, subject: string, queue: string, metadata: Readonly<Record<string, string>> | undefined, handler: ServiceHandler | null) {
    this.owner = owner;
    this.name = name;
    this.subject = subject;
    this.queue = queue;
    this.metadata = metadata;
    this.handler = handler;
  }

  /** @internal The subscription callback of a handler endpoint. */
  handle(err: Error | null, msg: Msg | null): void {
    if (err !== null) {
      // a request larger than the receive buffer is skipped by the core (its requester times out):
      // counted here; any other error ended the subscription, and the service with it
      if (err instanceof MessageTooLargeError) {
        this.count();
        this.countError(err.message);
      } else void this.owner.stop(err);
      return;
    }
    const start = Date.now();
    const sm = new ServiceMsg(msg as Msg, this);
    try {
      const r = (this.handler as ServiceHandler)(null, sm) as unknown;
      // an async handler's rejection is answered and counted as a throw is
      if (r instanceof Promise) r.then(undefined, (e: unknown) => this.failed(sm, e));
    } catch (e) {
      this.failed(sm, e);
    }
    this.count();
    this.took(Date.now() - start);
  }

  /** A handler threw: count it, and answer with its code (500 unless a ServiceError) and message. */
  private failed(sm: ServiceMsg, e: unknown): void {
    const text = clip(e instanceof Error ? e.message : String(e));
    const code = e instanceof ServiceError && Number.isSafeInteger(e.code) ? e.code : 500;
    try {
      // respondError counts the error
      sm.respondError(code, text);
    } catch {
      // no room to answer (outbound buffer full, connection closing): the error is counted all the same
      this.countError(`${code}:${text}`);
    }
  }

  private count(): void {
    if (this.requests < MAX) this.requests++;
  }

  private took(ms: number): void {
    if (ms > 0 && this.ms + ms <= MAX) this.ms += ms;
  }

  /** @internal */
  countError(text: string): void {
    if (this.errors < MAX) this.errors++;
    this.lastError = clip(text);
  }

  /** Requests this endpoint has taken since the start or the last reset(). */
  getProcessed(): number {
    return this.requests;
  }

  /** Stops the service (nats.js: stopping an endpoint's iterator stops its service). */
  stop(): Promise<Error | null> {
    return this.owner.stop();
  }

  /** @internal */
  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.lastError = "";
    this.ms = 0;
    this.data = undefined;
  }

  /** @internal */
  info(): EndpointInfo {
    return { name: this.name, subject: this.subject, queue_group: this.queue, metadata: this.metadata ?? {} };
  }

  /** @internal */
  stats(): NamedEndpointStats {
    const ns = Math.min(this.ms * 1_000_000, MAX);
    const s: NamedEndpointStats = {
      name: this.name,
      subject: this.subject,
      queue_group: this.queue,
      num_requests: this.requests,
      num_errors: this.errors,
      last_error: this.lastError,
      processing_time: ns,
      average_processing_time: this.requests === 0 ? 0 : Math.round(ns / this.requests),
    };
    if (this.data !== undefined) s.data = this.data;
    return s;
  }

  [Symbol.asyncIterator](): AsyncIterator<ServiceMsg> {
    if (this.handler !== null || this.sub === null) throw new InvalidArgumentError(`endpoint ${this.name} has a handler: it cannot also be read with for await`);
    const it = this.sub[Symbol.asyncIterator]();
    // time between handing a request out and being asked for the next counts as processing
    let since = 0;
    return {
      next: async (): Promise<IteratorResult<ServiceMsg>> => {
        if (since !== 0) this.took(Date.now() - since);
        since = 0;
        const r = await it.next();
        if (r.done === true) return { value: undefined, done: true };
        this.count();
        since = Date.now();
        return { value: new ServiceMsg(r.value, this), done: false };
      },
      return: async (): Promise<IteratorResult<ServiceMsg>> => {
        if (since !== 0) this.took(Date.now() - since);
        since = 0;
        await this.owner.stop();
        return { value: undefined, done: true };
      },
    };
  }
}
