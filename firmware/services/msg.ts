/**
 * A request to a service endpoint (nats.js `ServiceMsg`): the message, plus `respondError()` that
 * answers with the ADR-32 error headers. Made per request, a few slots; its bytes are the
 * message's (a copy the handler may keep, as in nats.js).
 */
import { headers, InvalidArgumentError } from "nats-xs";
import type { Msg, MsgHdrs, PublishOptions } from "nats-xs";
import { ServiceErrorCodeHeader, ServiceErrorHeader } from "./errors.js";

/** What a ServiceMsg reports to its endpoint: an error answer counts as the endpoint's error. */
export interface ErrorSink {
  countError(text: string): void;
}

export class ServiceMsg {
  readonly #msg: Msg;
  readonly #sink: ErrorSink;

  /** @internal Made by the endpoint for each request. */
  constructor(msg: Msg, sink: ErrorSink) {
    this.#msg = msg;
    this.#sink = sink;
  }

  get subject(): string {
    return this.#msg.subject;
  }
  get reply(): string {
    return this.#msg.reply;
  }
  get sid(): number {
    return this.#msg.sid;
  }
  get data(): Uint8Array {
    return this.#msg.data;
  }
  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }

  /** Answers the request; false when it has no reply subject. */
  respond(data?: Uint8Array | string, opts?: PublishOptions): boolean {
    return this.#msg.respond(data, opts);
  }

  /**
   * Answers with the headers `Nats-Service-Error-Code: <code>` and `Nats-Service-Error:
   * <description>` (added to `opts.headers` when given), and counts an error on the endpoint
   * (`num_errors`, `last_error` "<code>:<description>", as nats.go counts it).
   */
  respondError(code: number, description: string, data?: Uint8Array | string, opts?: PublishOptions): boolean {
    if (typeof code !== "number" || !Number.isSafeInteger(code)) throw new InvalidArgumentError("respondError(code): the code must be a whole number");
    if (typeof description !== "string") throw new InvalidArgumentError("respondError(description): the description must be a string");
    const h = opts?.headers ?? headers();
    h.set(ServiceErrorCodeHeader, `${code}`);
    h.set(ServiceErrorHeader, description);
    this.#sink.countError(`${code}:${description}`);
    return this.#msg.respond(data, opts === undefined ? { headers: h } : { ...opts, headers: h });
  }

  /** The payload as UTF-8 text. */
  string(): string {
    return this.#msg.string();
  }

  /** The payload parsed as JSON, nesting bounded as the core's `msg.json()` bounds it (a peer's
   *  deep payload is refused with JsonLimitError before parsing). */
  json<T = unknown>(reviver?: (this: unknown, key: string, value: unknown) => unknown): T {
    return this.#msg.json<T>(reviver);
  }
}
