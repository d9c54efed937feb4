/**
 * The inbound half of the NATS protocol: a per-byte state machine over Uint8Array that survives any
 * split of the stream. It never concatenates strings and never decodes a payload.
 *
 * A frame that sits whole in the chunk being parsed is handed out as `subarray` views of that chunk
 * (zero copy). Only a frame split across chunks is assembled in the scratch buffer, which grows
 * to what split frames need, bounded by `capacity`; the same scratch holds a split control line.
 * Views handed to the sink are valid only during the call: the next chunk reuses the memory.
 */
import type TextDecoder from "text/decoder";
import { Empty, charCode } from "./text.js";

/** What the sink wants done with the message whose control line was just read. */
export const Delivery = Object.freeze({
  /** Deliver headers and payload in one call (the message fits `capacity`). */
  Whole: 0,
  /** Deliver the payload piece by piece as it arrives; headers are assembled first. */
  Chunks: 1,
  /** Skip the message's bytes. */
  Discard: 2,
});

/** Receives what the parser recognises. Views are valid only during the call. */
export interface ParserSink {
  onInfo(buf: Uint8Array, start: number, end: number): void;
  onPing(): void;
  onPong(): void;
  onOk(): void;
  onErr(buf: Uint8Array, start: number, end: number): void;
  /** A MSG or HMSG control line (hdrLen is 0 for MSG). Returns a Delivery. */
  onMsgHead(subject: string, sid: number, reply: string, hdrLen: number, total: number): number;
  /** Optional, called first for each MSG/HMSG: the subject every message of `sid` carries (a
   *  subscription without wildcards), or null; the parser then skips decoding the subject bytes.
   *  onMsgHead for the same sid follows at once, so a sink may keep what it looked up here. */
  literalSubject?(sid: number): string | null;
  /** A whole message. */
  onMsg(hdr: Uint8Array | null, data: Uint8Array): void;
  /** One piece of a chunked message: `offset` within the payload; `last` on the final piece; `size`
   *  the whole payload's bytes. */
  onChunk(hdr: Uint8Array | null, offset: number, bytes: Uint8Array, last: boolean, size: number): void;
  /** The stream is not NATS: the connection must be dropped. Parsing stops for this chunk. */
  onProtocolError(message: string): void;
}

/** Whether bytes [from, to) of `buf` are the ASCII string `s` (charCode.call: no garbage per
 *  character on XS, see text.ts). */
function sameAscii(buf: Uint8Array, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let i = 0; i < to - from; i++) if (buf[from + i] !== charCode.call(s, i)) return false;
  return true;
}

const enum State {
  OpStart,
  OpName, // matching the rest of an op name in literal
  OpP, // "P" seen: PING or PONG follows
  OpEnd, // op without arguments: skip to end of line
  ArgStart, // white space before the arguments
  Arg, // collecting the argument line
  Payload, // collecting a whole message in scratch
  HeaderCopy, // collecting the header block of a chunked message in scratch
  Stream, // streaming the payload of a chunked message
  Skip, // discarding payload bytes
  MsgEndCr,
  MsgEndLf,
}

const enum Op {
  None,
  Msg,
  Hmsg,
  Info,
  Ping,
  Pong,
  Ok,
  Err,
}

const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;

/** Op literals, lower case, indexed by Op. */
const LITERALS = Object.freeze(["", "msg", "hmsg", "info", "ping", "pong", "+ok", "-err"]);
/** Their lengths, read per byte of an op name (a string's length would cost a wrapper on XS). */
const LENGTHS = Object.freeze([0, 3, 4, 4, 4, 4, 3, 4]);

/** Per-byte NATS protocol parser; one per connection, reset for every new socket. */
// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class Parser {
  private readonly sink: ParserSink;
  private readonly decoder: TextDecoder;
  /** Largest frame (control line, or headers plus payload) that can be assembled when split. */
  readonly capacity: number;
  private scratch: Uint8Array | null = null;
  private state = State.OpStart;
  private op = Op.None;
  private literalPos = 0;
  /** Bytes of the current control line (or message) already copied into scratch. */
  private have = 0;
  /** Token bounds of the argument line: start, end pairs. */
  private readonly tok = new Int32Array(12);
  private hdrLen = 0;
  private total = 0;
  /** Payload bytes still to skip or stream. */
  private remaining = 0;
  private offset = 0;
  private hdr: Uint8Array | null = null;
  /** A whole message sits in scratch, waiting for its line end. */
  private pendingWhole = false;
  /** Bumped by reset(): a parse() in progress stops when its sink dropped the stream. */
  private epoch = 0;

  constructor(sink: ParserSink, decoder: TextDecoder, capacity: number) {
    this.sink = sink;
    this.decoder = decoder;
    this.capacity = capacity;
  }

  /** Forget any partial frame and let the receive buffer go (a new socket starts a new stream). */
  reset(): void {
    this.epoch++;
    this.scratch = null;
    this.state = State.OpStart;
    this.op = Op.None;
    this.have = 0;
    this.hdr = null;
    this.pendingWhole = false;
  }

  /** True between frames: nothing is partly read. */
  get idle(): boolean {
    return this.state === State.OpStart;
  }

  /** Bytes of heap the scratch buffer holds (0 until a split frame needed it). */
  get scratchBytes(): number {
    return this.scratch === null ? 0 : this.scratch.length;
  }

  /** Lets a grown receive buffer go between frames (traffic that needed it has calmed down); the
   *  next split frame starts a small one. */
  shrink(): void {
    if (this.state === State.OpStart && this.scratch !== null && this.scratch.length > 256) this.scratch = null;
  }

  /** The scratch, grown to hold `need` bytes (never beyond capacity): small split frames cost a
   *  small buffer, and only a large message pays for a large one. Bytes already held are kept. */
  /** @internal */
  private scratchBuffer(need: number): Uint8Array {
    const s = this.scratch;
    if (s !== null && s.length >= need) return s;
    const size = Math.min(this.capacity, Math.max(need, s === null ? 256 : s.length * 2));
    const grown = new Uint8Array(size);
    if (s !== null && this.have > 0) grown.set(s.subarray(0, this.have));
    this.scratch = grown;
    return grown;
  }

  /** @internal */
  private fail(message: string): void {
    this.reset();
    this.sink.onProtocolError(message);
  }

  /** Parses buf[start, end). */
  parse(buf: Uint8Array, start: number, end: number): void {
    let i = start;
    const epoch = this.epoch;
    while (i < end && this.epoch === epoch) {
      switch (this.state) {
        case State.OpStart: {
          const b = buf[i];
          if (b === CR || b === LF) {
            i++;
            continue;
          }
          const c = b | 0x20;
          let op = Op.None;
          if (c === 0x6d) op = Op.Msg;
          else if (c === 0x68) op = Op.Hmsg;
          else if (c === 0x69) op = Op.Info;
          else if (c === 0x2b) op = Op.Ok;
          else if (c === 0x2d) op = Op.Err;
          else if (c === 0x70) {
            this.state = State.OpP;
            i++;
            continue;
          } else return this.fail(`unknown protocol operation starting with byte ${buf[i]}`);
          this.op = op;
          this.literalPos = 1;
          this.state = State.OpName;
          i++;
          break;
        }
        case State.OpP: {
          const c = buf[i] | 0x20;
          if (c === 0x69) this.op = Op.Ping;
          else if (c === 0x6f) this.op = Op.Pong;
          else return this.fail("unknown protocol operation starting with P");
          this.literalPos = 2;
          this.state = State.OpName;
          i++;
          break;
        }
        case State.OpName: {
          const literal = LITERALS[this.op];
          if (this.literalPos < LENGTHS[this.op]) {
            if ((buf[i] | 0x20) !== charCode.call(literal, this.literalPos))
              return this.fail(`malformed protocol operation (expected ${literal.toUpperCase()})`);
            this.literalPos++;
            i++;
            break;
          }
          const op = this.op;
          if (op === Op.Ping || op === Op.Pong || op === Op.Ok) {
            this.state = State.OpEnd;
            break;
          }
          if (buf[i] !== SP && buf[i] !== TAB) return this.fail(`${literal.toUpperCase()} without arguments`);
          this.state = State.ArgStart;
          i++;
          break;
        }
        case State.OpEnd: {
          // PING, PONG and +OK: the rest of the line carries nothing
          while (i < end && buf[i] !== LF) i++;
          if (i === end) break;
          i++;
          this.state = State.OpStart;
          const op = this.op;
          if (op === Op.Ping) this.sink.onPing();
          else if (op === Op.Pong) this.sink.onPong();
          else this.sink.onOk();
          break;
        }
        case State.ArgStart:
          if (buf[i] === SP || buf[i] === TAB) {
            i++;
            break;
          }
          this.have = 0;
          this.state = State.Arg;
          break;
        case State.Arg: {
          const lineStart = i;
          while (i < end && buf[i] !== LF) i++;
          if (i === end) {
            // the line continues in the next chunk: keep what we have
            if (!this.append(buf, lineStart, end)) return;
            break;
          }
          let lineEnd = i;
          i++; // past LF
          if (this.have === 0) {
            // the same limit as a split line, so that behaviour never depends on where reads cut
            if (lineEnd - lineStart > this.capacity) return this.fail(`protocol line longer than ${this.capacity} bytes`);
            if (lineEnd > lineStart && buf[lineEnd - 1] === CR) lineEnd--;
            if (!this.parseArguments(buf, lineStart, lineEnd)) return;
          } else {
            if (!this.append(buf, lineStart, lineEnd)) return;
            const s = this.scratch as Uint8Array;
            let n = this.have;
            if (n > 0 && s[n - 1] === CR) n--;
            this.have = 0;
            if (!this.parseArguments(s, 0, n)) return;
          }
          // parseArguments() chose the next state; a whole message in this chunk, with the line end
          // that proves its size right, is delivered at once from the chunk
          if ((this.state as State) === State.Payload && end - i >= this.total + 2) {
            const t = i + this.total;
            const eol = buf[t] === CR && buf[t + 1] === LF ? 2 : buf[t] === LF ? 1 : 0;
            if (eol === 0) return this.fail("message payload longer than its announced size");
            const h = this.hdrLen;
            this.state = State.OpStart;
            this.sink.onMsg(h > 0 ? buf.subarray(i, i + h) : null, buf.subarray(i + h, t));
            i = t + eol;
          }
          break;
        }
        case State.Payload: {
          const take = Math.min(end - i, this.total - this.have);
          const s = this.scratchBuffer(this.total);
          s.set(buf.subarray(i, i + take), this.have);
          this.have += take;
          i += take;
          if (this.have === this.total) {
            // delivered once the line end confirms the size
            this.pendingWhole = true;
            this.state = State.MsgEndCr;
          }
          break;
        }
        case State.HeaderCopy: {
          const take = Math.min(end - i, this.hdrLen - this.have);
          const s = this.scratchBuffer(this.hdrLen);
          s.set(buf.subarray(i, i + take), this.have);
          this.have += take;
          i += take;
          if (this.have === this.hdrLen) {
            this.hdr = s.subarray(0, this.hdrLen);
            this.have = 0;
            this.state = State.Stream;
            if (this.remaining === 0) {
              this.state = State.MsgEndCr;
              this.sink.onChunk(this.hdr, 0, buf.subarray(i, i), true, this.total - this.hdrLen);
              this.hdr = null;
            }
          }
          break;
        }
        case State.Stream: {
          const take = Math.min(end - i, this.remaining);
          const offset = this.offset;
          this.remaining -= take;
          this.offset += take;
          const last = this.remaining === 0;
          if (last) this.state = State.MsgEndCr;
          const hdr = this.hdr;
          if (last) this.hdr = null;
          this.sink.onChunk(hdr, offset, buf.subarray(i, i + take), last, this.total - this.hdrLen);
          i += take;
          break;
        }
        case State.Skip: {
          const take = Math.min(end - i, this.remaining);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.MsgEndCr;
          break;
        }
        case State.MsgEndCr:
        case State.MsgEndLf:
          // CRLF after the payload; a bare LF is tolerated
          if (buf[i] === CR && this.state === State.MsgEndCr) this.state = State.MsgEndLf;
          else if (buf[i] === LF) {
            this.state = State.OpStart;
            if (this.pendingWhole) {
              this.pendingWhole = false;
              const h = this.hdrLen;
              this.have = 0;
              if (this.total === 0) this.sink.onMsg(null, Empty);
              else {
                const s = this.scratch as Uint8Array;
                this.sink.onMsg(h > 0 ? s.subarray(0, h) : null, s.subarray(h, this.total));
              }
            }
          } else return this.fail("message payload longer than its announced size");
          i++;
          break;
      }
    }
  }

  /** Copies part of a control line into scratch; false (after failing) when the line is too long. */
  /** @internal */
  private append(buf: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (this.have + n > this.capacity) {
      this.fail(`protocol line longer than ${this.capacity} bytes`);
      return false;
    }
    this.scratchBuffer(this.have + n).set(buf.subarray(start, end), this.have);
    this.have += n;
    return true;
  }

  /** Acts on a complete argument line buf[start, end); false after a failure. */
  /** @internal */
  private parseArguments(buf: Uint8Array, start: number, end: number): boolean {
    const op = this.op;
    this.state = State.OpStart;
    if (op === Op.Info) {
      this.sink.onInfo(buf, start, end);
      return true;
    }
    if (op === Op.Err) {
      this.sink.onErr(buf, start, end);
      return true;
    }
    // MSG <subject> <sid> [reply] <size>  |  HMSG <subject> <sid> [reply] <hdrLen> <totalLen>
    const tok = this.tok;
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
      if (i === end) break;
      if (count === 6) {
        this.fail("too many arguments in MSG");
        return false;
      }
      tok[count * 2] = i;
      while (i < end && buf[i] !== SP && buf[i] !== TAB) i++;
      tok[count * 2 + 1] = i;
      count++;
    }
    const numbers = op === Op.Hmsg ? 2 : 1;
    if (count !== 2 + numbers && count !== 3 + numbers) {
      this.fail(`malformed ${op === Op.Hmsg ? "HMSG" : "MSG"} arguments`);
      return false;
    }
    const sid = parseUint(buf, tok[2], tok[3]);
    const total = parseUint(buf, tok[(count - 1) * 2], tok[(count - 1) * 2 + 1]);
    const hdrLen = numbers === 2 ? parseUint(buf, tok[(count - 2) * 2], tok[(count - 2) * 2 + 1]) : 0;
    if (sid < 0 || total < 0 || hdrLen < 0 || hdrLen > total || (numbers === 2 && hdrLen < 10)) {
      this.fail("malformed number in MSG arguments");
      return false;
    }
    const decoder = this.decoder;
    // a literal subscription's subject is reused only when the bytes are that subject: JetStream
    // push consumers deliver under each message's own subject, not the one subscribed to
    const lit = this.sink.literalSubject?.(sid) ?? null;
    const subject = lit !== null && sameAscii(buf, tok[0], tok[1], lit) ? lit : decoder.decode(buf.subarray(tok[0], tok[1]));
    const reply = count === 3 + numbers ? decoder.decode(buf.subarray(tok[4], tok[5])) : "";
    this.total = total;
    this.hdrLen = hdrLen;
    this.have = 0;
    const delivery = this.sink.onMsgHead(subject, sid, reply, hdrLen, total);
    if ((delivery === Delivery.Whole && total > this.capacity) || (delivery === Delivery.Chunks && hdrLen > this.capacity)) {
      // the sink checks sizes against capacity first; this guards the scratch against a sink that did not
      this.fail(`a message of ${total} bytes cannot be assembled in ${this.capacity} bytes`);
      return false;
    }
    if (delivery === Delivery.Whole) {
      this.state = State.Payload;
      if (total === 0) {
        this.state = State.MsgEndCr;
        this.pendingWhole = true;
      }
    } else if (delivery === Delivery.Chunks) {
      this.remaining = total - hdrLen;
      this.offset = 0;
      this.hdr = null;
      if (hdrLen > 0) this.state = State.HeaderCopy;
      else if (this.remaining > 0) this.state = State.Stream;
      else {
        this.state = State.MsgEndCr;
        this.sink.onChunk(null, 0, buf.subarray(end, end), true, this.total - this.hdrLen);
      }
    } else {
      this.remaining = total;
      this.state = total === 0 ? State.MsgEndCr : State.Skip;
    }
    return true;
  }
}

/** Parses ASCII digits buf[start, end) as a non-negative integer; -1 when not a number. */
export function parseUint(buf: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
