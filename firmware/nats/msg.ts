/**
 * A received message. `data` is a view into the client's receive memory, valid until the callback
 * returns: copy it (`msg.data.slice()`) to keep the bytes. Headers are decoded only when read.
 */
import type TextDecoder from "text/decoder";
import type { MsgHdrs } from "./headers.js";
import { MsgHdrsImpl } from "./headers.js";

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
  #raw: Uint8Array | null;
  #headers: MsgHdrs | undefined = undefined;
  readonly #owner: MsgOwner;

  constructor(owner: MsgOwner, subject: string, sid: number, reply: string, raw: Uint8Array | null, data: Uint8Array) {
    this.#owner = owner;
    this.subject = subject;
    this.sid = sid;
    this.reply = reply;
    this.#raw = raw;
    this.data = data;
  }

  /** The headers, or undefined when the message has none. Decoded on first access: read them
   *  inside the callback (the raw bytes share the lifetime of `data`). */
  get headers(): MsgHdrs | undefined {
    if (this.#headers === undefined && this.#raw !== null) {
      this.#headers = MsgHdrsImpl.parse(this.#raw, this.#owner.decoder);
      this.#raw = null;
    }
    return this.#headers;
  }

  /** Publishes `data` to the reply subject; false when the message has no reply subject. */
  respond(data?: Uint8Array | string, options?: { headers?: MsgHdrs }): boolean {
    if (this.reply === "") return false;
    this.#owner.publish(this.reply, data, options);
    return true;
  }

  /** The payload decoded as UTF-8. */
  string(): string {
    return this.#owner.decoder.decode(this.data);
  }

  /** The payload parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.string()) as T;
  }

  /** Bytes this message holds: payload plus undecoded headers (what a queued copy costs). */
  get heldBytes(): number {
    return this.data.length + (this.#raw === null ? 0 : this.#raw.length);
  }

  /** A copy whose bytes stay valid after the callback (used for request replies and iterators). */
  copy(): Msg {
    return new Msg(this.#owner, this.subject, this.sid, this.reply, this.#raw === null ? null : this.#raw.slice(), this.data.slice());
  }
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
