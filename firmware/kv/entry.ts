/**
 * A KV entry (nats.js `KvEntry`): the value of one revision of one key. From get() and history the
 * value is a copy the caller may keep; a watch with a callback hands a view valid during the callback.
 */
import type TextDecoder from "text/decoder";
import { MAX_DEPTH } from "nats-xs/jetstream";
import { checkJson } from "nats-xs";
import { KvError } from "./errors.js";

/** What was done to the key at this revision. */
export type KvOperation = "PUT" | "DEL" | "PURGE";

export class KvEntry {
  readonly bucket: string;
  readonly key: string;
  readonly value: Uint8Array;
  /** The stream sequence of this revision. */
  readonly revision: number;
  readonly created: Date;
  readonly operation: KvOperation;
  /** Entries still to come after this one when a watch or history started (0: caught up). */
  readonly delta: number;
  /** True for entries a watch saw after its initial values. */
  readonly isUpdate: boolean;
  readonly #decoder: TextDecoder;

  constructor(decoder: TextDecoder, bucket: string, key: string, value: Uint8Array, revision: number, created: Date, operation: KvOperation, delta: number, isUpdate: boolean) {
    this.#decoder = decoder;
    this.bucket = bucket;
    this.key = key;
    this.value = value;
    this.revision = revision;
    this.created = created;
    this.operation = operation;
    this.delta = delta;
    this.isUpdate = isUpdate;
  }

  get length(): number {
    return this.value.length;
  }

  /** The value decoded as UTF-8. */
  string(): string {
    return this.#decoder.decode(this.value);
  }

  /** The value parsed as JSON; a value nested deeper than MAX_DEPTH is refused before parsing. */
  json<T = unknown>(): T {
    try {
      const n = this.value.length;
      checkJson(this.value, { maxDepth: MAX_DEPTH, maxBytes: n, maxValues: n });
    } catch {
      throw new KvError(`the value of ${this.key} nests deeper than ${MAX_DEPTH} levels`);
    }
    return JSON.parse(this.string()) as T;
  }
}

/** The operation named by a KV-Operation header value ("" or unknown: PUT). */
export function operationOf(v: string): KvOperation {
  return v === "DEL" ? "DEL" : v === "PURGE" ? "PURGE" : "PUT";
}

/** A Date from an RFC 3339 time with up to nanoseconds (XS's Date takes milliseconds only). */
export function parseTime(s: string): Date {
  const dot = s.indexOf(".");
  if (dot < 0) return new Date(s);
  let end = dot + 1;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end++;
  }
  const ms = (s.substring(dot, Math.min(end, dot + 4)) + "000").substring(0, 4);
  return new Date(s.substring(0, dot) + ms + s.substring(end));
}
