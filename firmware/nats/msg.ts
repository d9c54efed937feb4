/**
 * A received message. By default its bytes are a copy the caller may keep, as in nats.js. A
 * `zeroCopy` or `chunks` subscription gets views of the client's receive memory instead, valid
 * until the callback returns: reading the message after that throws, and `msg.copy()` made inside
 * the callback keeps it. Headers are decoded only when read.
 */
import type TextDecoder from "text/decoder";
import type { MsgHdrs } from "./headers.js";
import { MsgHdrsImpl } from "./headers.js";
import { InvalidArgumentError } from "./errors.js";
import { checkJson } from "./json.js";

/** Deepest nesting msg.json() parses: JSON.parse recurses per level, and a peer's 3 KB of `[`
 *  overflowed XS's 512-slot stack. The values a payload holds are bounded by its bytes already. */
const JSON_DEPTH = 32;

/** What a message needs of its connection: answering and decoding. */
export interface MsgOwner {
  readonly decoder: TextDecoder;
  publish(subject: string, data?: Uint8Array | string, options?: PublishOptions): void;
}

export interface PublishOptions {
  reply?: string;
  headers?: MsgHdrs;
}

export class Msg {
  readonly subject: string;
  readonly sid: number;
  readonly reply: string;
  readonly data: Uint8Array;
  private raw: Uint8Array | null;
  private parsedHeaders: MsgHdrs | undefined = undefined;
  /** False once the callback that received a view has returned. */
  private live = true;
  /** @internal The connection the message came through. */
  readonly owner: MsgOwner;

  constructor(owner: MsgOwner, subject: string, sid: number, reply: string, raw: Uint8Array | null, data: Uint8Array) {
    this.owner = owner;
    this.subject = subject;
    this.sid = sid;
    this.reply = reply;
    this.raw = raw;
    this.data = data;
  }

  /** The headers, or undefined when the message has none. Decoded on first access: read them
   *  inside the callback (the raw bytes share the lifetime of `data`). */
  get headers(): MsgHdrs | undefined {
    if (this.parsedHeaders === undefined && this.raw !== null) {
      if (!this.live) throw expired();
      this.parsedHeaders = MsgHdrsImpl.parse(this.raw, this.owner.decoder);
      this.raw = null;
    }
    return this.parsedHeaders;
  }

  /** Publishes `data` to the reply subject; false when the message has no reply subject. */
  respond(data?: Uint8Array | string, options?: { headers?: MsgHdrs }): boolean {
    if (this.reply === "") return false;
    this.owner.publish(this.reply, data, options);
    return true;
  }

  /** The payload decoded as UTF-8. */
  string(): string {
    if (!this.live) throw expired();
    return this.owner.decoder.decode(this.data);
  }

  /** The payload parsed as JSON; `reviver` as JSON.parse takes it (nats.js's `json(reviver)`).
   *  A payload nested deeper than 32 levels throws JsonLimitError before parsing. */
  json<T = unknown>(reviver?: (this: unknown, key: string, value: unknown) => unknown): T {
    const text = this.string();
    checkJson(text, { maxDepth: JSON_DEPTH, maxBytes: text.length, maxValues: text.length, what: "the message payload" });
    return JSON.parse(text, reviver as ((this: unknown, key: string, value: unknown) => unknown) | undefined) as T;
  }

  /** Bytes this message holds: payload plus undecoded headers (what a queued copy costs). */
  get heldBytes(): number {
    return this.data.length + (this.raw === null ? 0 : this.raw.length);
  }

  /** @internal The callback that received this view has returned: its bytes are no longer its own. */
  expire(): void {
    this.live = false;
  }

  /** A copy whose bytes stay valid after the callback (used for request replies and iterators). */
  copy(): Msg {
    if (!this.live) throw expired();
    return new Msg(this.owner, this.subject, this.sid, this.reply, this.raw === null ? null : this.raw.slice(), this.data.slice());
  }
}

function expired(): InvalidArgumentError {
  return new InvalidArgumentError(
    "a message of a zeroCopy or chunks subscription was read after its callback returned; its bytes belong to the next message now: call msg.copy() inside the callback to keep it",
  );
}

/** One piece of a message delivered in chunks: `data` holds bytes [offset, offset+data.length)
 *  of a payload of `size` bytes; `last` is true on the final piece. Headers arrive with every piece. */
export class MsgChunk extends Msg {
  readonly offset: number;
  readonly size: number;
  readonly last: boolean;

  constructor(owner: MsgOwner, subject: string, sid: number, reply: string, raw: Uint8Array | null, data: Uint8Array, offset: number, size: number, last: boolean) {
    super(owner, subject, sid, reply, raw, data);
    this.offset = offset;
    this.size = size;
    this.last = last;
  }
}
