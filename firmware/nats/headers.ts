/**
 * NATS message headers (`NATS/1.0[ code[ description]]\r\n` + `Key: Value\r\n`... + `\r\n`).
 *
 * Received headers stay as the raw bytes of the frame until the caller looks at them; only then are
 * they decoded, once. Outgoing headers are a flat list of alternating keys and values, encoded
 * straight into the outbound buffer after their exact size was computed. Keys keep their case and
 * may repeat; `Key:value` with no space (as MQTT-originated messages carry) is accepted.
 */
import type TextDecoder from "text/decoder";
import type TextEncoder from "text/encoder";
import { InvalidArgumentError } from "./errors.js";
import { utf8Length, writeAscii, writeString, writeUint, uintLength } from "./text.js";

/** How header keys are compared (names as in nats.js). */
export const Match = Object.freeze({ Exact: 0, CanonicalMIME: 1, IgnoreCase: 2 });

const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;
const COLON = 58;
/** "NATS/1.0" */
const PREFIX_LENGTH = 8;

/** The header API of nats.js v3 that nats-xs supports. */
export interface MsgHdrs extends Iterable<[string, string[]]> {
  readonly hasError: boolean;
  readonly status: string;
  readonly code: number;
  readonly description: string;
  get(key: string, match?: number): string;
  set(key: string, value: string, match?: number): void;
  append(key: string, value: string, match?: number): void;
  has(key: string, match?: number): boolean;
  keys(): string[];
  values(key: string, match?: number): string[];
  delete(key: string, match?: number): void;
  last(key: string, match?: number): string;
}

function sameKey(a: string, b: string, match: number): boolean {
  if (match === Match.Exact) return a === b;
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw new InvalidArgumentError("a header key must be a non-empty string");
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === COLON)
      throw new InvalidArgumentError(`header key ${JSON.stringify(key)} may hold only printable ASCII without spaces or ':'`);
  }
}

function checkValue(value: string): string {
  if (typeof value !== "string") value = String(value);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === CR || c === LF) throw new InvalidArgumentError("a header value may not contain CR or LF");
  }
  return value;
}

/** Status code of a raw header block (e.g. 503), or 0 when it has none. Allocates nothing. */
export function statusCode(raw: Uint8Array): number {
  let i = PREFIX_LENGTH;
  while (i < raw.length && (raw[i] === SP || raw[i] === TAB)) i++;
  let code = 0;
  let digits = 0;
  while (i < raw.length && raw[i] >= 48 && raw[i] <= 57 && digits < 3) {
    code = code * 10 + raw[i++] - 48;
    digits++;
  }
  return digits === 3 ? code : 0;
}

/** Headers of one message. Create outgoing ones with `headers()`. */
export class MsgHdrsImpl implements MsgHdrs {
  /** Alternating key, value. */
  private list: string[] = [];
  private statusCode = 0;
  private statusText = "";

  constructor(code = 0, description = "") {
    this.statusCode = code;
    this.statusText = description;
  }

  /** Decodes a received header block (from `NATS/1.0` through the blank line). */
  static parse(raw: Uint8Array, decoder: TextDecoder): MsgHdrsImpl {
    const h = new MsgHdrsImpl();
    const n = raw.length;
    let i = PREFIX_LENGTH;
    let lineEnd = i;
    while (lineEnd < n && raw[lineEnd] !== CR && raw[lineEnd] !== LF) lineEnd++;
    // status line: optional code and description after the version
    while (i < lineEnd && (raw[i] === SP || raw[i] === TAB)) i++;
    let code = 0;
    let start = i;
    while (i < lineEnd && raw[i] >= 48 && raw[i] <= 57) code = code * 10 + raw[i++] - 48;
    if (i > start) {
      h.statusCode = code;
      while (i < lineEnd && (raw[i] === SP || raw[i] === TAB)) i++;
      if (i < lineEnd) h.statusText = decoder.decode(raw.subarray(i, trimEnd(raw, i, lineEnd)));
    }
    i = skipEol(raw, lineEnd);
    while (i < n) {
      lineEnd = i;
      while (lineEnd < n && raw[lineEnd] !== CR && raw[lineEnd] !== LF) lineEnd++;
      if (lineEnd === i) break; // the blank line that ends the block
      let colon = i;
      while (colon < lineEnd && raw[colon] !== COLON) colon++;
      if (colon < lineEnd && colon > i) {
        let v = colon + 1;
        while (v < lineEnd && (raw[v] === SP || raw[v] === TAB)) v++;
        h.list.push(decoder.decode(raw.subarray(i, trimEnd(raw, i, colon))), decoder.decode(raw.subarray(v, trimEnd(raw, v, lineEnd))));
      }
      i = skipEol(raw, lineEnd);
    }
    return h;
  }

  get code(): number {
    return this.statusCode;
  }
  get description(): string {
    return this.statusText;
  }
  get hasError(): boolean {
    return this.statusCode >= 300;
  }
  get status(): string {
    return this.statusCode === 0 ? this.statusText : this.statusText === "" ? String(this.statusCode) : `${this.statusCode} ${this.statusText}`;
  }

  get(key: string, match: number = Match.Exact): string {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (sameKey(l[i], key, match)) return l[i + 1];
    return "";
  }
  last(key: string, match: number = Match.Exact): string {
    const l = this.list;
    for (let i = l.length - 2; i >= 0; i -= 2) if (sameKey(l[i], key, match)) return l[i + 1];
    return "";
  }
  has(key: string, match: number = Match.Exact): boolean {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (sameKey(l[i], key, match)) return true;
    return false;
  }
  values(key: string, match: number = Match.Exact): string[] {
    const out: string[] = [];
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (sameKey(l[i], key, match)) out.push(l[i + 1]);
    return out;
  }
  keys(): string[] {
    const out: string[] = [];
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (out.indexOf(l[i]) < 0) out.push(l[i]);
    return out;
  }
  set(key: string, value: string, match: number = Match.Exact): void {
    this.delete(key, match);
    this.append(key, value);
  }
  append(key: string, value: string): void {
    checkKey(key);
    this.list.push(key, checkValue(value));
  }
  delete(key: string, match: number = Match.Exact): void {
    const l = this.list;
    let w = 0;
    for (let i = 0; i < l.length; i += 2) {
      if (sameKey(l[i], key, match)) continue;
      l[w++] = l[i];
      l[w++] = l[i + 1];
    }
    l.length = w;
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    // an array iterator rather than a generator: nothing extra to freeze when preloaded
    return this.keys()
      .map((k): [string, string[]] => [k, this.values(k)])
      [Symbol.iterator]();
  }

  /** Exact encoded size in bytes, CRLFCRLF included (the header length HPUB announces). */
  encodedLength(): number {
    let n = PREFIX_LENGTH + 2 + 2;
    if (this.statusCode !== 0) {
      n += 1 + uintLength(this.statusCode);
      if (this.statusText !== "") n += 1 + utf8Length(this.statusText);
    }
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) n += utf8Length(l[i]) + 2 + utf8Length(l[i + 1]) + 2;
    return n;
  }

  /** Writes the block at `pos` (encodedLength() bytes must be free); returns the new position. */
  encode(out: Uint8Array, pos: number, encoder: TextEncoder): number {
    pos = writeAscii(out, pos, "NATS/1.0");
    if (this.statusCode !== 0) {
      out[pos++] = SP;
      pos = writeUint(out, pos, this.statusCode);
      if (this.statusText !== "") {
        out[pos++] = SP;
        pos = writeString(out, pos, this.statusText, encoder);
      }
    }
    out[pos++] = CR;
    out[pos++] = LF;
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      pos = writeString(out, pos, l[i], encoder);
      out[pos++] = COLON;
      out[pos++] = SP;
      pos = writeString(out, pos, l[i + 1], encoder);
      out[pos++] = CR;
      out[pos++] = LF;
    }
    out[pos++] = CR;
    out[pos++] = LF;
    return pos;
  }
}

function trimEnd(raw: Uint8Array, start: number, end: number): number {
  while (end > start && (raw[end - 1] === SP || raw[end - 1] === TAB)) end--;
  return end;
}

function skipEol(raw: Uint8Array, i: number): number {
  if (i < raw.length && raw[i] === CR) i++;
  if (i < raw.length && raw[i] === LF) i++;
  return i;
}

/** New, empty outgoing headers; `code` and `description` make a status line (rarely needed). The
 *  code is 0 (none) or a three-digit status; the description is text without CR or LF. */
export function headers(code = 0, description = ""): MsgHdrs {
  if (typeof code !== "number" || !Number.isInteger(code) || (code !== 0 && (code < 100 || code > 999)))
    throw new InvalidArgumentError(`headers(code): the status code must be 0 or a whole number from 100 to 999, not ${String(code)}`);
  if (typeof description !== "string") throw new InvalidArgumentError("headers(code, description): the description must be a string");
  if (code === 0 && description !== "") throw new InvalidArgumentError("headers(code, description): a description needs a status code");
  return new MsgHdrsImpl(code, checkValue(description));
}
