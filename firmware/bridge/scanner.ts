/**
 * The incremental envelope reader: a byte-level JSON state machine that takes an envelope in pieces
 * of any size (a whole message, or the chunks of a chunked subscription) and never holds it whole.
 *
 * Small values (ids, names, metadata, a link's URL) are copied into one bounded field buffer and
 * parsed with JSON.parse once complete, so their escapes follow JSON exactly. The `data` string of a
 * direct payload is never held: its characters go through the base64 decoder as they arrive, and
 * the decoded bytes reach the payload's sink through the decoder's fixed buffer, a view at a time.
 *
 * Memory per scanner: the field buffer (max_field_bytes, default 2048), the decode buffer (768),
 * a 64-byte key buffer, and the current envelope's small fields. Per chunk: no allocation unless a
 * value completes (then its string and parsed value) or decoded bytes are handed on (one view).
 *
 * Bounds per envelope (bounds.ts): nesting depth of every kept JSON value, checked while it is
 * captured and again before JSON.parse; the number of payloads; the number of JSON values kept;
 * the bytes held (kept field text and payloads collected without a sink).
 */
import TextDecoder from "text/decoder";
import TextEncoder from "text/encoder";
import { Base64Decoder } from "./base64.js";
import type { ByteSink } from "./base64.js";
import { EnvelopeFieldError, EnvelopeLimitError, EnvelopeSyntaxError, PayloadLimitError, PayloadSizeError } from "./errors.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_HELD_BYTES, DEFAULT_MAX_KEYS, DEFAULT_MAX_PAYLOADS, DEFAULT_MAX_VALUES, EnvelopeBudget, KeyRegistry, lookup } from "./bounds.js";
import {
  ENVELOPE_KEYS,
  EnvelopeKey,
  MessageEnvelope,
  MessagePayload,
  PAYLOAD_KEYS,
  PayloadKey,
  checkEnvelope,
  checkLimit,
  checkPayload,
  setEnvelopeField,
  setPayloadField,
} from "./envelope.js";
import { JsonDepth, putUtf8 } from "./rawjson.js";

/** Where a payload's bytes go instead of memory. `write` gets views valid during the call only. */
export interface PayloadSink {
  write(bytes: Uint8Array): void;
  /** All bytes were written and matched the declared size. */
  end?(payload: MessagePayload): void;
  /** The envelope turned out to be malformed, or the link failed: discard what was written. */
  abort?(error: Error): void;
}

/** Picks the sink of a payload when its bytes begin (type, size and name are known when the sender
 *  wrote them before `data`, as every NATSBridge writer does). Return nothing to collect the bytes
 *  into `payload.data` (bounded by max_size). */
export type SinkFactory = (payload: MessagePayload, envelope: MessageEnvelope) => PayloadSink | null | undefined | void;

export interface ScannerOptions {
  sink?: SinkFactory;
  /** Largest payload accepted, in bytes (declared or seen). */
  maxSize: number;
  /** Largest value other than a direct payload's data, in bytes of JSON. */
  maxFieldBytes: number;
  /** Deepest JSON nesting kept (metadata, dictionaries, JSON tables); default 32. */
  maxDepth?: number;
  /** Most payloads in one envelope; default 16. */
  maxPayloads?: number;
  /** Most JSON values kept from one envelope (fields, metadata, dictionaries); default 256. */
  maxValues?: number;
  /** Most bytes one envelope holds in memory: kept fields and payloads collected without a sink;
   *  default 16384. */
  maxHeldBytes?: number;
  /** Most distinct JSON property names this scanner lets through JSON.parse in its lifetime; default 128. */
  maxKeys?: number;
}

const enum S {
  Start,
  Key,
  KeyStr,
  Colon,
  Value,
  Capture,
  Next,
  Elem,
  ElemNext,
  Data,
  DataEsc,
  DataHex,
  Done,
  RawValue,
}

/** How a direct payload's `data` is read: not known yet (only whitespace so far), base64, or the
 *  JSON text itself (a string or value starting with `{` or `[`, which base64 never does). */
const enum Mode {
  Undecided,
  Base64,
  Json,
}
/** Bytes of JSON text that came through escapes, gathered before they go to the sink. */
const STAGE_BYTES = 64;

const QUOTE = 34;
const BACKSLASH = 92;
const KEY_BYTES = 64;
/** Decoded bytes per hand-off to a sink (1024 base64 characters). */
export const DECODE_CHUNK = 768;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Turns collected bytes into the value a caller expects of the payload's type. JSON is counted
 *  against the envelope's budget (depth and values) before it reaches JSON.parse. */
export function decodeValue(p: MessagePayload, bytes: Uint8Array, decoder: TextDecoder, budget: EnvelopeBudget): unknown {
  if (p.type === "text") return decoder.decode(bytes);
  if (p.type === "dictionary" || (p.type === "table" && p.format === "json")) {
    budget.json(bytes, 0, bytes.length);
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch {
      throw new EnvelopeFieldError("data", `of ${p.type} payload ${JSON.stringify(p.dataname)} is not JSON`);
    }
  }
  return bytes;
}

/** Collects a payload's bytes in memory when the caller gave no sink: exactly `size` bytes when
 *  the size came first, otherwise growing by doubling up to the limit. */
export class Collector implements PayloadSink {
  private buf: Uint8Array;
  private n = 0;
  private readonly limit: number;
  constructor(size: number, limit: number) {
    this.buf = new Uint8Array(size >= 0 ? size : Math.min(256, limit));
    this.limit = limit;
  }
  write(bytes: Uint8Array): void {
    const need = this.n + bytes.length;
    if (need > this.limit) throw new RangeError("Collector: more bytes than its limit"); // callers check first
    if (need > this.buf.length) {
      let cap = this.buf.length * 2 || 256;
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, Math.max(need, this.limit)));
      grown.set(this.buf.subarray(0, this.n));
      this.buf = grown;
    }
    this.buf.set(bytes, this.n);
    this.n = need;
  }
  /** The bytes collected (the caller now owns them). */
  bytes(): Uint8Array {
    return this.n === this.buf.length ? this.buf : this.buf.slice(0, this.n);
  }
}

export class EnvelopeScanner {
  private readonly o: ScannerOptions;
  private readonly decoder = new TextDecoder();
  private field: Uint8Array | null = null;
  private readonly key = new Uint8Array(KEY_BYTES);
  private readonly b64: Base64Decoder;
  private readonly fwd: ByteSink;

  private state = S.Start;
  /** 0: the envelope object; 1: a payload object. */
  private level = 0;
  /** No member yet in the current object or array (a closing bracket is allowed). */
  private first = true;
  /** Bytes of the message seen before the current piece (for error offsets). */
  private base = 0;

  private keyLen = 0;
  private keyEsc = false;
  private keyEscaped = false;
  private keyId = -1;

  private capLen = 0;
  private capStore = false;
  private capDepth = 0;
  private capStr = false;
  private capEsc = false;
  private capScalar = false;

  private hex = 0;
  private hexN = 0;
  /** Data of a payload whose transport was not known yet: held in the field buffer. */
  private holding = false;
  private holdLen = 0;

  private env = new MessageEnvelope();
  private readonly keys: KeyRegistry;
  private _budget: EnvelopeBudget;
  private sawPayloads = false;
  private p: MessagePayload | null = null;
  private sawType = false;
  private sawTransport = false;
  private sawData = false;
  /** `data` was a short string held before the transport was known: decode it at the end. */
  private heldData = false;
  private streamed = false;
  private sink: PayloadSink | null = null;
  private collector: Collector | null = null;
  private got = 0;
  private mode = Mode.Undecided;
  private json: JsonDepth | null = null;
  private stage: Uint8Array | null = null;
  private stageN = 0;
  /** A \u escape of a high surrogate waiting for its low half. */
  private hiSur = 0;
  private utf8: Uint8Array | null = null;

  constructor(options: ScannerOptions) {
    this.o = options;
    this.fwd = { write: (bytes: Uint8Array) => this.onBytes(bytes) };
    this.b64 = new Base64Decoder(new Uint8Array(DECODE_CHUNK), this.fwd);
    this.keys = new KeyRegistry(options.maxKeys ?? DEFAULT_MAX_KEYS);
    this._budget = this.newBudget();
  }

  private newBudget(): EnvelopeBudget {
    const o = this.o;
    return new EnvelopeBudget(o.maxDepth ?? DEFAULT_MAX_DEPTH, o.maxValues ?? DEFAULT_MAX_VALUES, o.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES, this.keys);
  }

  /** What the current envelope has taken of its bounds (link downloads go on counting in it). */
  get budget(): EnvelopeBudget {
    return this._budget;
  }

  /** Starts a new envelope (the first piece of a message). */
  begin(): void {
    this.state = S.Start;
    this.level = 0;
    this.first = true;
    this.base = 0;
    this.env = new MessageEnvelope();
    this._budget = this.newBudget();
    this.sawPayloads = false;
    this.p = null;
    this.sink = null;
    this.collector = null;
  }

  /** The envelope being read (complete after end()). */
  get envelope(): MessageEnvelope {
    return this.env;
  }

  /** Gives up the current envelope: the sink of a payload in progress is aborted. */
  abort(err: Error): void {
    const sink = this.sink;
    this.sink = null;
    this.collector = null;
    this.p = null;
    if (sink !== null && sink.abort !== undefined) {
      try {
        sink.abort(err);
      } catch {
        // the sink's own trouble; the caller already gets `err`
      }
    }
  }

  /** The message ended: checks it was one whole envelope and returns it. */
  end(): MessageEnvelope {
    if (this.state !== S.Done) throw new EnvelopeSyntaxError(this.state === S.Start ? "the message is empty" : "the message ends inside the envelope", this.base);
    return this.env;
  }

  /** Reads the next piece. Throws a BridgeError when the envelope is malformed. */
  push(buf: Uint8Array): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const c = buf[i];
      switch (this.state) {
        case S.Start:
          if (c === 123) {
            this.state = S.Key;
            this.first = true;
          } else if (!isSpace(c) && !(c === 0xef || c === 0xbb || c === 0xbf)) this.syntax(`expected '{' to open the envelope, found ${this.describe(c)}`, i);
          i++;
          break;
        case S.Key:
          if (c === QUOTE) {
            this.state = S.KeyStr;
            this.keyLen = 0;
            this.keyEsc = this.keyEscaped = false;
          } else if (c === 125 && this.first) this.closeObject();
          else if (!isSpace(c)) this.syntax(`expected a key, found ${this.describe(c)}`, i);
          i++;
          break;
        case S.KeyStr:
          if (this.keyEsc) this.keyEsc = false;
          else if (c === BACKSLASH) this.keyEsc = this.keyEscaped = true;
          else if (c === QUOTE) {
            this.keyId = this.resolveKey();
            this.state = S.Colon;
            i++;
            break;
          } else if (c < 32) this.syntax("a control character inside a key", i);
          if (this.keyLen < KEY_BYTES) this.key[this.keyLen] = c;
          this.keyLen++;
          i++;
          break;
        case S.Colon:
          if (c === 58) this.state = S.Value;
          else if (!isSpace(c)) this.syntax(`expected ':' after a key, found ${this.describe(c)}`, i);
          i++;
          break;
        case S.Value:
          if (isSpace(c)) {
            i++;
            break;
          }
          this.first = false;
          if (this.startValue(c, i)) i++;
          break;
        case S.Capture:
          i = this.capture(buf, i, n);
          break;
        case S.Next:
          if (c === 44) {
            this.state = S.Key;
            this.first = false;
          } else if (c === 125) this.closeObject();
          else if (!isSpace(c)) this.syntax(`expected ',' or '}', found ${this.describe(c)}`, i);
          i++;
          break;
        case S.Elem:
          if (c === 123) this.openPayload();
          else if (c === 93 && this.first) this.state = S.Next;
          else if (!isSpace(c)) {
            if (c === 93 || c === 44) this.syntax(`unexpected ${this.describe(c)} in payloads`, i);
            throw new EnvelopeFieldError("payloads", "must hold JSON objects");
          }
          i++;
          break;
        case S.ElemNext:
          if (c === 44) {
            this.state = S.Elem;
            this.first = false;
          } else if (c === 93) this.state = S.Next;
          else if (!isSpace(c)) this.syntax(`expected ',' or ']' in payloads, found ${this.describe(c)}`, i);
          i++;
          break;
        case S.Data: {
          // the longest run of plain characters goes to the decoder (or the hold) in one call
          let j = i;
          while (j < n && buf[j] !== QUOTE && buf[j] !== BACKSLASH) j++;
          if (j > i) this.dataRun(buf, i, j);
          if (j < n) {
            if (buf[j] === QUOTE) this.endData();
            else this.state = S.DataEsc;
            j++;
          }
          i = j;
          break;
        }
        case S.DataEsc:
          if (c === 117) {
            this.state = S.DataHex;
            this.hex = this.hexN = 0;
          } else {
            this.state = S.Data;
            this.dataChar(c === 110 ? 10 : c === 114 ? 13 : c === 116 ? 9 : c === 98 ? 8 : c === 102 ? 12 : c, i);
          }
          i++;
          break;
        case S.DataHex: {
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d < 0) this.syntax("a bad \\u escape", i);
          this.hex = this.hex * 16 + d;
          if (++this.hexN === 4) {
            this.state = S.Data;
            this.dataUnit(this.hex, i);
          }
          i++;
          break;
        }
        case S.RawValue: {
          // a JSON value as `data`: its bytes go to the sink as they are, up to its closing bracket
          const json = this.json as JsonDepth;
          const end = json.feed(buf, i, n);
          this.onBytes(buf.subarray(i, end));
          if (json.closed) this.state = S.Next;
          i = end;
          break;
        }
        case S.Done:
          if (!isSpace(c)) this.syntax(`${this.describe(c)} after the end of the envelope`, i);
          i++;
          break;
      }
    }
    this.base += n;
  }

  // ---- keys and values ------------------------------------------------------------------------

  private resolveKey(): number {
    let name = "";
    if (this.keyLen > KEY_BYTES) return -1;
    const raw = this.key.subarray(0, this.keyLen);
    if (this.keyEscaped) {
      try {
        name = JSON.parse(`"${this.decoder.decode(raw)}"`) as string;
      } catch {
        this.syntax("a bad escape in a key", 0);
      }
    } else name = this.decoder.decode(raw);
    // never `name in table`: on XS that would keep the peer's name forever (bounds.ts)
    const id = lookup(this.level === 0 ? ENVELOPE_KEYS : PAYLOAD_KEYS, name);
    return id === undefined ? -1 : id;
  }

  /** Begins the value whose first byte is `c`; true when that byte was consumed. */
  private startValue(c: number, i: number): boolean {
    const key = this.keyId;
    if (this.level === 0 && key === EnvelopeKey.Payloads) {
      if (this.sawPayloads) throw new EnvelopeFieldError("payloads", "appears twice");
      if (c !== 91) throw new EnvelopeFieldError("payloads", "must be a JSON array");
      this.state = S.Elem;
      this.first = true;
      this.sawPayloads = true;
      return true;
    }
    if (this.level === 1 && key === PayloadKey.Data) {
      if (this.sawData) throw new EnvelopeFieldError("data", "appears twice in one payload");
      this.sawData = true;
      const link = this.sawTransport && (this.p as MessagePayload).transport === "link";
      if (c === QUOTE && !link) {
        this.state = S.Data;
        this.holding = !this.sawTransport;
        this.holdLen = 0;
        this.mode = Mode.Undecided;
        this.hiSur = 0;
        if (!this.holding) this.openSink();
        return true;
      }
      if ((c === 123 || c === 91) && !link) {
        // the JSON value itself (never a URL: a link's data is a string)
        this.openSink();
        this.mode = Mode.Json;
        this.json = new JsonDepth((this.p as MessagePayload).dataname);
        this.state = S.RawValue;
        return false;
      }
    }
    this.state = S.Capture;
    this.capLen = 0;
    this.capStore = key >= 0;
    this.capDepth = 0;
    this.capStr = this.capEsc = this.capScalar = false;
    if (c !== QUOTE && c !== 123 && c !== 91) {
      if (c === 125 || c === 93 || c === 44 || c === 58) this.syntax(`expected a value, found ${this.describe(c)}`, i);
      this.capScalar = true;
    }
    return false;
  }

  /** Copies a small value; returns where the caller goes on. */
  private capture(buf: Uint8Array, i: number, n: number): number {
    for (; i < n; i++) {
      const c = buf[i];
      if (this.capScalar) {
        if (c === 44 || c === 125 || c === 93 || isSpace(c)) {
          this.value();
          return i; // the delimiter belongs to the object
        }
      } else if (this.capStr) {
        if (this.capEsc) this.capEsc = false;
        else if (c === BACKSLASH) this.capEsc = true;
        else if (c === QUOTE) {
          this.capStr = false;
          if (this.capDepth === 0) {
            this.keep(c, i);
            this.value();
            return i + 1;
          }
        }
      } else if (c === QUOTE) this.capStr = true;
      else if (c === 123 || c === 91) {
        if (++this.capDepth > this._budget.maxDepth && this.capStore)
          throw new EnvelopeLimitError(`nests JSON deeper than ${this._budget.maxDepth} levels`, "max_depth", this._budget.maxDepth);
      } else if (c === 125 || c === 93) {
        if (--this.capDepth === 0) {
          this.keep(c, i);
          this.value();
          return i + 1;
        }
      }
      this.keep(c, i);
    }
    return i;
  }

  private keep(c: number, i: number): void {
    if (!this.capStore) return;
    const limit = this.o.maxFieldBytes;
    if (this.capLen >= limit) {
      throw new PayloadLimitError(`an envelope field`, this.capLen + 1, limit, "raise max_field_bytes in the receive options");
    }
    if (this.field === null) this.field = new Uint8Array(limit);
    this.field[this.capLen++] = c;
    void i;
  }

  /** A captured value is complete: parse and store it. */
  private value(): void {
    this.state = S.Next;
    if (!this.capStore) return;
    let value: unknown;
    const field = this.field as Uint8Array;
    this._budget.hold(this.capLen, "envelope fields");
    // objects and arrays (metadata) are counted; a string or number of a known field is one value
    if (field[0] === 123 || field[0] === 91) this._budget.json(field, 0, this.capLen);
    const text = this.decoder.decode(field.subarray(0, this.capLen));
    try {
      value = JSON.parse(text);
    } catch {
      this.syntax(`a bad value ${text.length > 40 ? text.substring(0, 40) + "..." : text}`, 0);
    }
    if (this.level === 0) setEnvelopeField(this.env, this.keyId, value);
    else {
      const p = this.p as MessagePayload;
      setPayloadField(p, this.keyId, value, this.o.maxSize);
      if (this.keyId === PayloadKey.Type) this.sawType = true;
      else if (this.keyId === PayloadKey.Transport) this.sawTransport = true;
    }
  }

  private closeObject(): void {
    if (this.level === 1) {
      this.finishPayload();
      this.level = 0;
      this.state = S.ElemNext;
    } else {
      checkEnvelope(this.env, this.sawPayloads);
      this.state = S.Done;
    }
  }

  // ---- payloads -------------------------------------------------------------------------------

  private openPayload(): void {
    const most = this.o.maxPayloads ?? DEFAULT_MAX_PAYLOADS;
    if (this.env.payloads.length >= most) throw new EnvelopeLimitError(`carries more than ${most} payloads`, "max_payloads", most);
    this.p = new MessagePayload();
    this.level = 1;
    this.state = S.Key;
    this.first = true;
    this.sawType = this.sawTransport = this.sawData = this.heldData = this.streamed = false;
    this.sink = null;
    this.collector = null;
    this.got = 0;
    this.mode = Mode.Undecided;
    this.json = null;
    this.stageN = 0;
    this.hiSur = 0;
  }

  private openSink(): void {
    const p = this.p as MessagePayload;
    this.streamed = true;
    this.b64.reset();
    this.got = 0;
    let sink: PayloadSink | null | undefined | void = null;
    if (this.o.sink !== undefined) sink = this.o.sink(p, this.env);
    if (sink === null || sink === undefined) {
      const room = this._budget.room;
      if (p.size > room) this._budget.hold(p.size, `payload ${JSON.stringify(p.dataname)} without a sink`);
      this.collector = new Collector(p.size, Math.min(this.o.maxSize, room));
      sink = this.collector;
    }
    this.sink = sink;
  }

  private dataRun(buf: Uint8Array, i: number, j: number): void {
    if (this.holding) {
      for (; i < j; i++) this.dataChar(buf[i], i);
      return;
    }
    if (this.mode === Mode.Undecided) {
      while (i < j && isSpace(buf[i])) i++;
      if (i === j) return;
      this.decide(buf[i]);
    }
    if (this.mode === Mode.Base64) return this.b64.decode(buf, i, j);
    this.flushStage();
    (this.json as JsonDepth).feed(buf, i, j);
    this.onBytes(buf.subarray(i, j));
  }

  /** The first character of direct data says how it is read: `{` or `[` is JSON text itself. */
  private decide(c: number): void {
    if (c === 123 || c === 91) {
      this.mode = Mode.Json;
      this.json = new JsonDepth((this.p as MessagePayload).dataname);
    } else this.mode = Mode.Base64;
  }

  /** One byte of JSON text that came through an escape. */
  private rawByte(c: number): void {
    if (this.stage === null) this.stage = new Uint8Array(STAGE_BYTES);
    this.stage[this.stageN++] = c;
    if (this.stageN === STAGE_BYTES) this.flushStage();
  }

  private flushStage(): void {
    const n = this.stageN;
    if (n === 0) return;
    this.stageN = 0;
    const bytes = (this.stage as Uint8Array).subarray(0, n);
    (this.json as JsonDepth).feed(bytes, 0, n);
    this.onBytes(bytes);
  }

  /** A \uXXXX escape in data: its UTF-8 bytes (surrogate pairs joined; a lone half is U+FFFD). */
  private dataUnit(u: number, i: number): void {
    if (this.hiSur !== 0) {
      const hi = this.hiSur;
      this.hiSur = 0;
      if (u >= 0xdc00 && u < 0xe000) return this.dataCode(0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00), i);
      this.dataCode(0xfffd, i);
    }
    if (u >= 0xd800 && u < 0xdc00) this.hiSur = u;
    else this.dataCode(u >= 0xdc00 && u < 0xe000 ? 0xfffd : u, i);
  }

  private dataCode(cp: number, i: number): void {
    if (cp < 0x80) return this.dataChar(cp, i);
    if (this.utf8 === null) this.utf8 = new Uint8Array(4);
    const b = this.utf8;
    const n = putUtf8(b, 0, cp);
    for (let k = 0; k < n; k++) this.dataChar(b[k], i);
  }

  private dataChar(c: number, i: number): void {
    if (!this.holding) {
      if (this.mode === Mode.Undecided) {
        if (isSpace(c)) return;
        this.decide(c);
      }
      return this.mode === Mode.Base64 ? this.b64.decodeChar(c) : this.rawByte(c);
    }
    const limit = this.o.maxFieldBytes;
    if (this.holdLen < limit) {
      if (this.field === null) this.field = new Uint8Array(limit);
      this.field[this.holdLen++] = c;
      return;
    }
    // longer than any URL: this is direct data whose transport comes later
    this.holding = false;
    (this.p as MessagePayload).transport = "direct";
    this.openSink();
    this.dataRun(this.field as Uint8Array, 0, this.holdLen);
    this.dataChar(c, i);
  }

  private endData(): void {
    this.state = S.Next;
    if (this.hiSur !== 0) {
      this.hiSur = 0;
      this.dataCode(0xfffd, 0);
    }
    if (this.holding) {
      this.holding = false;
      this.heldData = true;
      this._budget.hold(this.holdLen, "a link URL");
      (this.p as MessagePayload).url = this.decoder.decode((this.field as Uint8Array).subarray(0, this.holdLen));
      return;
    }
    if (this.mode === Mode.Json) this.flushStage();
    else this.b64.finish();
  }

  /** Decoded bytes on their way to the sink: checked against the declared size and the limit. */
  private onBytes(bytes: Uint8Array): void {
    const p = this.p as MessagePayload;
    const got = this.got + bytes.length;
    // JSON carried as itself is counted as it arrives, not against `size` (see #finishPayload)
    if (p.size >= 0 && got > p.size && this.mode !== Mode.Json) throw new PayloadSizeError(p.dataname, p.size, got);
    if (got > this.o.maxSize) checkLimit(p, got, this.o.maxSize);
    if (this.collector !== null) this._budget.hold(bytes.length, `payload ${JSON.stringify(p.dataname)} without a sink`);
    this.got = got;
    (this.sink as PayloadSink).write(bytes);
  }

  private finishPayload(): void {
    const p = this.p as MessagePayload;
    checkPayload(p, this.sawType, this.sawData);
    if (this.heldData) {
      if (p.transport === "direct") {
        const text = new TextEncoder().encode(p.url);
        p.url = "";
        this.openSink();
        this.dataRun(text, 0, text.length);
        if (this.mode === Mode.Json) this.flushStage();
        else this.b64.finish();
      }
    }
    if (this.streamed) {
      if (this.mode === Mode.Json) {
        // the JSON itself: only where JSON belongs, whole; its size is the bytes it arrived as
        // (a writer that re-serialized the value may have counted other whitespace)
        if (p.type !== "dictionary" && !(p.type === "table" && p.format === "json"))
          throw new EnvelopeFieldError("data", `of ${p.type} payload ${JSON.stringify(p.dataname)} is JSON text, not base64; only dictionary and jsontable payloads carry JSON as itself`);
        if (!(this.json as JsonDepth).closed) throw new EnvelopeFieldError("data", `of payload ${JSON.stringify(p.dataname)} holds JSON that does not close`);
        p.size = this.got;
      }
      if (p.size >= 0 && this.got !== p.size) throw new PayloadSizeError(p.dataname, p.size, this.got);
      if (p.size < 0) p.size = this.got;
      const sink = this.sink as PayloadSink;
      if (this.collector !== null) p.data = decodeValue(p, this.collector.bytes(), this.decoder, this._budget);
      else if (sink.end !== undefined) sink.end(p);
    }
    this.sink = null;
    this.collector = null;
    this.env.payloads.push(p);
    this.p = null;
  }

  // ---- errors ---------------------------------------------------------------------------------

  private describe(c: number): string {
    return c >= 33 && c <= 126 ? `'${String.fromCharCode(c)}'` : `byte ${c}`;
  }

  private syntax(why: string, i: number): never {
    throw new EnvelopeSyntaxError(why, this.base + i);
  }
}
