/**
 * nats-xs/ws: the WebSocket layer of the transport seam (RFC 6455 client), loaded by the connection
 * with `import()` only for `ws://` and `wss://` URLs. It stacks on the plain TCP socket (ws://) or on
 * the TLS layer (wss://) and presents the same ECMA-419 shape, so the NATS code above it reads a
 * byte stream as over TCP.
 *
 * Our own rather than Moddable's `embedded:network/websocket/client`: that client returns a new
 * ArrayBuffer from every read (it has no read into a caller's view), a read never crosses a message,
 * every write is a message of its own, and it dials its own socket from a host and a resolver, so
 * stacking it on a connection would cost an allocation per read and an adapter per layer. NATS
 * over WebSocket is one byte stream in frames of any size: here the frame payload is read straight
 * from the socket beneath into the connection's own read buffer, so a 10 MB message still passes
 * in chunks; what the layer holds is fixed: a 14-byte frame head, 125 bytes for a control frame,
 * the HTTP answer up to 1 KB during the upgrade, and an outgoing frame buffer (`FRAME_BYTES`).
 *
 * Frames out are binary, masked (a client must), split at `FRAME_BYTES`; frames in may be binary or
 * text, fragmented or not (the stream does not care where frames end); ping is answered with pong,
 * close is answered and reported. No extension is negotiated, so compressed frames are an error.
 */
import type { Events, Layer, LayerOptions, Socket } from "nats-xs";

/** Payload bytes per outgoing frame; the frame buffer is this plus the largest client head. */
const FRAME_BYTES = 1024;
/** Longest client frame head: 2 bytes, 8 of length, 4 of mask. */
const HEAD_MAX = 14;
/** Longest HTTP answer to the upgrade. */
const ANSWER_MAX = 1024;

const enum Phase {
  /** Waiting for the socket beneath to be writable to send the upgrade request. */
  Opening,
  /** Request sent; reading the HTTP answer. */
  Upgrading,
  Open,
  Closed,
}

const enum Op {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8) | (i + 2 < bytes.length ? bytes[i + 2] : 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? B64[n & 63] : "=");
  }
  return out;
}

/** `text` (lower case ASCII) at `at` in `b[0, n)`, ignoring the case of letters in `b`. */
function matchAt(b: Uint8Array, at: number, n: number, text: string): boolean {
  if (at + text.length > n) return false;
  for (let i = 0; i < text.length; i++) {
    const c = b[at + i];
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== text.charCodeAt(i)) return false;
  }
  return true;
}

function find(b: Uint8Array, n: number, text: string): boolean {
  for (let at = 0; at + text.length <= n; at++) if (matchAt(b, at, n, text)) return true;
  return false;
}

/** The mask of one frame; a client's masks only have to be unpredictable to the network path. */
function random32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}

/** WebSocket over a socket of the ECMA-419 shape. */
class WsLayer implements Layer {
  private readonly inner: Socket;
  private readonly upper: Events;
  private readonly options: LayerOptions;
  private phase = Phase.Opening;
  /** Bytes the socket beneath holds for us (its last onReadable count, minus what we read). */
  private avail = 0;
  /** Free space of the socket beneath. */
  private innerWritable = 0;
  /** The HTTP answer during the upgrade; the control frame payload after it. */
  private scratch: Uint8Array = new Uint8Array(ANSWER_MAX);
  private scratchLen = 0;
  /** The head of the incoming frame. */
  private readonly head = new Uint8Array(HEAD_MAX);
  private headLen = 0;
  private headNeed = 2;
  private op = 0;
  /** Payload bytes of the current frame still to come. */
  private left = 0;
  /** Outgoing frames are built here (allocated on the first write). */
  private frame: Uint8Array | null = null;
  /** A pong (or the answer to a close) that found no room: sent at the next onWritable. */
  private pendingControl: Uint8Array | null = null;

  constructor(inner: Socket, writable: number, options: LayerOptions, upper: Events) {
    this.inner = inner;
    this.upper = upper;
    this.options = options;
    if (writable > 0) this.onWritable(writable);
  }

  // ---- the socket the connection reads and writes -----------------------------------------------

  read(into: Uint8Array): number | undefined {
    const n = into.length;
    // never a partial read: the caller parses exactly what it asked for
    if (this.phase !== Phase.Open || this.op > Op.Binary || n > this.left || n > this.avail)
      throw new Error(`WebSocket: read of ${n} bytes but ${this.op > Op.Binary ? 0 : Math.min(this.left, this.avail)} are readable`);
    this.inner.read(into);
    this.left -= n;
    this.avail -= n;
    if (this.left === 0) this.nextFrame();
    return n;
  }

  write(data: Uint8Array): number | undefined {
    if (this.phase !== Phase.Open) return undefined;
    let frame = this.frame;
    if (frame === null) frame = this.frame = new Uint8Array(FRAME_BYTES + HEAD_MAX);
    for (let at = 0; at < data.length; at += FRAME_BYTES) {
      const end = at + FRAME_BYTES < data.length ? at + FRAME_BYTES : data.length;
      const size = this.encode(frame, Op.Binary, data, at, end);
      const left = this.inner.write(size === frame.length ? frame : frame.subarray(0, size));
      if (left === undefined) return undefined;
      this.innerWritable = left;
    }
    return this.room();
  }

  close(): void {
    if (this.phase === Phase.Open) {
      // a polite close (1000); the socket beneath flushes it before closing
      const b = new Uint8Array(8);
      const n = this.encode(b, Op.Close, Uint8Array.of(0x03, 0xe8), 0, 2);
      try {
        this.inner.write(b.subarray(0, n));
      } catch {
        // no room: the TCP close says enough
      }
    }
    this.phase = Phase.Closed;
    this.inner.close();
  }

  // ---- the events of the socket beneath ---------------------------------------------------------

  onWritable(count: number): void {
    this.innerWritable = count;
    if (this.phase === Phase.Opening) return this.sendUpgrade();
    if (this.phase !== Phase.Open) return;
    const pending = this.pendingControl;
    if (pending !== null) {
      if (pending.length > count) return;
      this.pendingControl = null;
      const left = this.inner.write(pending);
      if (left === undefined) return;
      this.innerWritable = left;
    }
    const room = this.room();
    if (room > 0) this.upper.onWritable(room);
  }

  onReadable(count: number): void {
    this.avail = count;
    while (this.avail > 0 && this.phase !== Phase.Closed) {
      if (this.phase === Phase.Upgrading) {
        if (!this.readAnswer()) return;
      } else if (this.phase !== Phase.Open) return;
      else if (this.headNeed > 0) {
        if (!this.readHead()) return;
      } else if (this.op <= Op.Binary) {
        // stream bytes: the connection reads them through read()
        const n = this.left < this.avail ? this.left : this.avail;
        const before = this.avail;
        this.upper.onReadable(n);
        if (this.avail === before) return; // not read now: wait for the next onReadable
      } else if (!this.readControl()) return;
    }
  }

  onError(detail?: string): void {
    if (this.phase === Phase.Upgrading && detail === undefined) {
      let line = "";
      for (let i = 0; i < this.scratchLen && i < 80; i++) {
        const c = this.scratch[i];
        if (c === 13 || c === 10) break;
        line += String.fromCharCode(c);
      }
      return this.fail(`the server closed the connection instead of upgrading it${line === "" ? "" : ` (it said: ${line})`}; check that the URL's port is the websocket listener`);
    }
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.upper.onError(detail);
  }

  // ---- inside ----------------------------------------------------------------------------------

  /** What the connection may write in one go: our free space less a frame head per frame. */
  private room(): number {
    const w = this.innerWritable;
    const frames = Math.ceil(w / (FRAME_BYTES + HEAD_MAX));
    const room = w - frames * HEAD_MAX;
    return room > 0 ? room : 0;
  }

  private fail(why: string): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.upper.onError(`WebSocket: ${why}`);
  }

  private sendUpgrade(): void {
    const o = this.options;
    const key = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) {
      const r = random32();
      key[i] = r >>> 24;
      key[i + 1] = r >>> 16;
      key[i + 2] = r >>> 8;
      key[i + 3] = r;
    }
    const request =
      `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${base64(key)}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const bytes = new Uint8Array(request.length);
    for (let i = 0; i < request.length; i++) bytes[i] = request.charCodeAt(i) & 0x7f;
    if (bytes.length > this.innerWritable) return this.fail("the socket has no room for the upgrade request");
    this.phase = Phase.Upgrading;
    const left = this.inner.write(bytes);
    if (left !== undefined) this.innerWritable = left;
  }

  /** Reads the HTTP answer (frames may follow it at once, so never past its blank line); true when done. */
  private readAnswer(): boolean {
    const s = this.scratch;
    while (this.avail > 0) {
      let n = this.scratchLen;
      // the answer ends with CR LF CR LF: as many bytes as that still needs can be read safely
      let need = 4;
      if (n > 0 && s[n - 1] === 13) need = n > 2 && s[n - 2] === 10 && s[n - 3] === 13 ? 1 : 3;
      else if (n > 1 && s[n - 1] === 10 && s[n - 2] === 13) need = 2;
      if (need > this.avail) need = this.avail;
      if (n + need > s.length) {
        this.fail(`the server's answer to the upgrade is longer than ${ANSWER_MAX} bytes`);
        return false;
      }
      this.inner.read(s.subarray(n, n + need));
      this.avail -= need;
      n = this.scratchLen += need;
      if (n >= 4 && s[n - 1] === 10 && s[n - 2] === 13 && s[n - 3] === 10 && s[n - 4] === 13) {
        // "HTTP/1.1 101 ..." and an Upgrade: websocket header, matched on the bytes
        if (!matchAt(s, 0, n, "http/1.1 101") || !find(s, n, "\r\nupgrade: websocket")) {
          let line = "";
          for (let i = 0; i < n && i < 80 && s[i] !== 13; i++) line += String.fromCharCode(s[i]);
          this.fail(`the server refused the upgrade (${line}); check the URL's port and path point at the websocket listener`);
          return false;
        }
        this.scratch = new Uint8Array(125);
        this.scratchLen = 0;
        this.phase = Phase.Open;
        const room = this.room();
        if (room > 0) this.upper.onWritable(room);
        return true;
      }
    }
    return false;
  }

  private nextFrame(): void {
    this.headLen = 0;
    this.headNeed = 2;
  }

  /** Reads the frame head as its bytes come; true when it is complete. */
  private readHead(): boolean {
    const h = this.head;
    while (this.headNeed > 0) {
      if (this.avail === 0) return false;
      const n = this.headNeed < this.avail ? this.headNeed : this.avail;
      this.inner.read(h.subarray(this.headLen, this.headLen + n));
      this.headLen += n;
      this.headNeed -= n;
      this.avail -= n;
      if (this.headNeed > 0) continue;
      if (this.headLen === 2) {
        if ((h[0] & 0x70) !== 0) return this.fail("the server sent a frame with reserved bits set (no extension was agreed)"), false;
        if ((h[1] & 0x80) !== 0) return this.fail("the server sent a masked frame"), false;
        const len7 = h[1] & 0x7f;
        this.headNeed = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      }
    }
    const op = h[0] & 0x0f;
    const len7 = h[1] & 0x7f;
    let len = len7;
    if (len7 === 126) len = (h[2] << 8) | h[3];
    else if (len7 === 127) {
      if (h[2] !== 0 || h[3] > 0x1f) return this.fail("the server sent a frame longer than 2^53 bytes"), false;
      len = 0;
      for (let i = 3; i < 10; i++) len = len * 256 + h[i];
    }
    if (op > Op.Binary) {
      if (op !== Op.Close && op !== Op.Ping && op !== Op.Pong) return this.fail(`the server sent a frame of unknown opcode ${op}`), false;
      if (len > 125 || (h[0] & 0x80) === 0) return this.fail("the server sent a control frame longer than 125 bytes or fragmented"), false;
      this.scratchLen = 0;
    } else if (op !== Op.Continuation && op !== Op.Text && op !== Op.Binary) return this.fail(`the server sent a frame of unknown opcode ${op}`), false;
    this.op = op;
    this.left = len;
    if (len === 0) {
      if (op > Op.Binary) this.control();
      if (this.phase === Phase.Open) this.nextFrame();
    }
    return this.phase === Phase.Open;
  }

  /** Reads a control frame's payload; true when the frame is done. */
  private readControl(): boolean {
    const n = this.left < this.avail ? this.left : this.avail;
    this.inner.read(this.scratch.subarray(this.scratchLen, this.scratchLen + n));
    this.scratchLen += n;
    this.left -= n;
    this.avail -= n;
    if (this.left > 0) return false;
    this.control();
    if (this.phase === Phase.Open) this.nextFrame();
    return this.phase === Phase.Open;
  }

  /** A whole control frame is in the scratch buffer. */
  private control(): void {
    const payload = this.scratch.subarray(0, this.scratchLen);
    if (this.op === Op.Pong) return;
    if (this.op === Op.Ping) return this.sendControl(Op.Pong, payload);
    // close: answer with the same code, then report
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
    let reason = "";
    for (let i = 2; i < payload.length; i++) reason += String.fromCharCode(payload[i]);
    this.sendControl(Op.Close, payload.subarray(0, payload.length >= 2 ? 2 : 0));
    this.phase = Phase.Closed;
    // 1000 and 1001 (going away, as a server that shuts down says) are ordinary closes
    this.upper.onError(code === 1000 || code === 1001 || code === 1005 ? undefined : `WebSocket: the server closed the link (${code}${reason === "" ? "" : " " + reason})`);
  }

  private sendControl(op: Op, payload: Uint8Array): void {
    const b = new Uint8Array(payload.length + 6);
    const n = this.encode(b, op, payload, 0, payload.length);
    if (n > this.innerWritable) {
      this.pendingControl = b.subarray(0, n);
      return;
    }
    const left = this.inner.write(b.subarray(0, n));
    if (left !== undefined) this.innerWritable = left;
  }

  /** A masked frame of `data[start, end)` into `out`; returns its length. */
  private encode(out: Uint8Array, op: Op, data: Uint8Array, start: number, end: number): number {
    const len = end - start;
    out[0] = 0x80 | op;
    let p = 2;
    if (len < 126) out[1] = 0x80 | len;
    else if (len < 65536) {
      out[1] = 0x80 | 126;
      out[2] = len >> 8;
      out[3] = len & 0xff;
      p = 4;
    } else {
      // FRAME_BYTES keeps our frames short; the long form is here for completeness of the encoder
      out[1] = 0x80 | 127;
      let v = len;
      for (let i = 9; i >= 2; i--) {
        out[i] = v & 0xff;
        v = Math.floor(v / 256);
      }
      p = 10;
    }
    const mask = random32();
    const m0 = mask >>> 24;
    const m1 = (mask >>> 16) & 0xff;
    const m2 = (mask >>> 8) & 0xff;
    const m3 = mask & 0xff;
    out[p] = m0;
    out[p + 1] = m1;
    out[p + 2] = m2;
    out[p + 3] = m3;
    p += 4;
    for (let i = 0; i < len; i++) {
      const k = i & 3;
      out[p + i] = data[start + i] ^ (k === 0 ? m0 : k === 1 ? m1 : k === 2 ? m2 : m3);
    }
    return p + len;
  }
}

/** Stacks WebSocket on `inner` (see LayerModule in the core). */
export function wrap(inner: Socket, writable: number, options: LayerOptions, upper: Events): Layer {
  return new WsLayer(inner, writable, options, upper);
}
