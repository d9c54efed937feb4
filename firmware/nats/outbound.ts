/**
 * The outbound queue: every frame the client sends passes through here, in order.
 *
 * Small frames are encoded straight into one buffer (the batch), which is written to the socket
 * whole, once per turn of the event loop or when it fills. The batch starts at 256 bytes and is
 * made on first use; a turn that publishes more grows it (doubling, up to the option's size), and
 * a grown batch is let go at the end of the turn once written (see settle()), so that a quiet
 * connection holds at most the small one. The batch is never cut: it holds
 * whole frames only and is written only when the socket can take all of it, so after a disconnect
 * it still starts at a frame boundary and can be replayed. Frames that do not fit the batch go to
 * the spill list behind it: copies of small frames, and payloads larger than the batch by
 * reference (not copied). A large payload is written in pieces as the socket drains; if the
 * connection drops in the middle, the frame is rewound and sent whole on the next connection.
 *
 * A separate "front" segment carries the connection handshake (CONNECT, PING, then the SUBs of a
 * reconnect) and goes out before anything queued while disconnected.
 */
import type { Socket as TCP } from "./transport.js";
import { Empty } from "./text.js";

/** Spill entry flags. */
const enum Flag {
  /** First entry of a frame. */
  Start = 1,
  /** The frame is not a message (SUB, UNSUB, PING...): not replayed after a reconnect. */
  Control = 2,
  /** The entry is the caller's payload, referenced rather than copied. */
  Reference = 4,
  /** The frame is a streamed message: its written pieces are released at once, so a cut stream
   *  cannot be replayed and is dropped instead. */
  Stream = 8,
  /** A spill page: whole frames of any kind, control frames included (filtered on rewind). */
  Page = 16,
}

const CR = 13;
const LF = 10;
/** Size of a new batch; it grows up to the option's size when a turn publishes more. */
const SMALL = 256;

// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class Outbound {
  /** The batch, made on first use (null when nothing waits in it and it was let go). */
  private buf: Uint8Array | null = null;
  /** outboundBufferBytes: the largest the batch grows. */
  private readonly max: number;
  /** Largest usable batch: never more than the socket's whole send buffer. */
  private cap: number;
  private start = 0;
  private end = 0;
  private spill: Uint8Array[] = [];
  private flags: number[] = [];
  /** Entry being written, offset within it, and the first entry of its frame. */
  private head = 0;
  private headOff = 0;
  private frameHead = 0;
  private front: Uint8Array | null = null;
  private frontOff = 0;
  /** Bytes copied into our memory and not yet handed to the socket. */
  held = 0;
  /** Caller-owned payload bytes queued by reference and not yet handed to the socket. */
  referenced = 0;
  /** Frames queued while a streamed message is open; they follow it. */
  private deferred: Uint8Array[] | null = null;
  private deferredFlags: number[] = [];
  /** Streamed messages that a disconnect cut and rewind() dropped. */
  lostStreams = 0;
  /** The open spill page: the last spill entry, taking more whole message frames until full. */
  private spillPage: Uint8Array | null = null;
  private pageEnd = 0;

  constructor(capacity: number) {
    this.max = capacity;
    this.cap = capacity;
  }

  /** The batch buffer: write a frame at the offset reserve() returned. */
  get buffer(): Uint8Array {
    return this.buf as Uint8Array;
  }

  /** Bytes of memory the queue holds now: the batch, the spill, the handshake. */
  get bufferBytes(): number {
    let n = (this.buf === null ? 0 : this.buf.length) + (this.front === null ? 0 : this.front.length);
    for (let i = this.head; i < this.spill.length; i++) if ((this.flags[i] & Flag.Reference) === 0) n += this.spill[i].length;
    if (this.deferred !== null) for (let i = 0; i < this.deferred.length; i++) if ((this.deferredFlags[i] & Flag.Reference) === 0) n += this.deferred[i].length;
    return n;
  }

  /** Bytes the batch may hold; frames larger than this take the spill path. */
  get capacity(): number {
    return this.cap;
  }

  /** Caps the batch at the socket's send-buffer size, so that it can always be written whole. */
  limitTo(socketBuffer: number): void {
    this.closePage();
    this.cap = Math.max(64, Math.min(this.max, socketBuffer));
    if (this.end - this.start <= this.cap) return;
    // queued while disconnected beyond what this socket takes at once: move it behind, frame by
    // frame, ahead of anything already spilled
    const buf = this.buf as Uint8Array;
    const spill: Uint8Array[] = [];
    const flags: number[] = [];
    for (let p = this.start; p < this.end; ) {
      const len = frameLength(buf, p, this.end);
      spill.push(buf.slice(p, p + len));
      flags.push(Flag.Start);
      p += len;
    }
    this.spill = spill.concat(this.spill.slice(this.head));
    this.flags = flags.concat(this.flags.slice(this.head));
    this.head = this.headOff = this.frameHead = 0;
    this.start = this.end = 0;
  }

  /** True when nothing waits to be written. */
  get empty(): boolean {
    return this.front === null && this.start === this.end && this.head === this.spill.length;
  }

  /** Reserves `n` contiguous bytes in the batch; the offset, or -1 when the frame must spill. */
  reserve(n: number): number {
    if (this.head < this.spill.length || this.deferred !== null) return -1; // keep order behind the spill
    let buf = this.buf;
    const live = this.end - this.start;
    if (buf === null || this.end + n > buf.length) {
      if (live + n > this.cap) return -1;
      if (buf === null || live + n > buf.length) {
        // grow (doubling) to what this turn needs, never beyond the usable size
        let size = buf === null ? SMALL : buf.length * 2;
        while (size < live + n) size *= 2;
        const grown = new Uint8Array(size < this.cap ? size : this.cap);
        if (buf !== null && live > 0) grown.set(buf.subarray(this.start, this.end));
        this.buf = buf = grown;
      } else buf.copyWithin(0, this.start, this.end);
      this.end = live;
      this.start = 0;
    }
    const pos = this.end;
    this.end += n;
    this.held += n;
    return pos;
  }

  /**
   * Called at the end of each turn that wrote, and when the socket took more: a grown batch that
   * has been written out is let go (the next frame starts a small one).
   */
  settle(): void {
    const buf = this.buf;
    if (buf !== null && buf.length > SMALL && this.start === this.end) this.buf = null;
  }

  /** The open spill page: write a frame at the offset reserveSpill() returned. */
  get page(): Uint8Array {
    return this.spillPage as Uint8Array;
  }

  /** Reserves `n` bytes for a whole frame in the open spill page (opening a page of the batch's
   *  size when needed), so that frames queued behind a full batch cost one array per page, not one
   *  per frame: a flood of small control frames (PONGs) must not cost an object each. -1 when the
   *  frame is larger than a page or a stream is open. An open page counts whole in `held`: the
   *  bound is on memory, not on frame bytes. */
  reserveSpill(n: number): number {
    if (n > this.cap || this.deferred !== null) return -1;
    if (this.spillPage === null || this.pageEnd + n > this.spillPage.length) {
      this.closePage();
      this.spillPage = new Uint8Array(this.cap);
      this.pageEnd = 0;
      this.spill.push(this.spillPage);
      this.flags.push(Flag.Start | Flag.Page);
      this.held += this.cap;
    }
    const pos = this.pageEnd;
    this.pageEnd += n;
    return pos;
  }

  /** Ends the open page: its spill entry becomes the filled part, and only that part stays held. */
  /** @internal */
  private closePage(): void {
    const page = this.spillPage;
    if (page === null) return;
    this.spillPage = null;
    this.held -= page.length - this.pageEnd;
    this.spill[this.spill.length - 1] = page.subarray(0, this.pageEnd);
  }

  /** Appends a spill entry: `start` on the first entry of a frame, `control` for non-messages,
   *  `reference` when `bytes` is the caller's array rather than our copy. */
  push(bytes: Uint8Array, start: boolean, control: boolean, reference: boolean): void {
    const flags = (start ? Flag.Start : 0) | (control ? Flag.Control : 0) | (reference ? Flag.Reference : 0);
    this.closePage();
    if (this.deferred !== null) {
      this.deferred.push(bytes);
      this.deferredFlags.push(flags);
    } else {
      this.spill.push(bytes);
      this.flags.push(flags);
    }
    if (reference) this.referenced += bytes.length;
    else this.held += bytes.length;
  }

  /** Opens a streamed message with its frame head; pieces follow with streamPiece(). */
  beginStream(head: Uint8Array): void {
    this.closePage();
    this.spill.push(head);
    this.flags.push(Flag.Start | Flag.Stream);
    this.held += head.length;
    this.deferred = [];
    this.deferredFlags = [];
  }

  /** Appends our own copy of a piece of the open streamed message. */
  streamPiece(bytes: Uint8Array): void {
    this.spill.push(bytes);
    this.flags.push(Flag.Stream);
    this.held += bytes.length;
  }

  /** Closes the streamed message (its final CRLF) and queues what was published meanwhile. */
  endStream(tail: Uint8Array): void {
    this.streamPiece(tail);
    const deferred = this.deferred;
    this.deferred = null;
    if (deferred === null) return;
    for (let i = 0; i < deferred.length; i++) {
      this.spill.push(deferred[i]);
      this.flags.push(this.deferredFlags[i]);
    }
    this.deferredFlags = [];
  }

  /**
   * Withdraws the open streamed message. True when none of it had been written (it is gone, and
   * what was published meanwhile moves up); false when its first bytes already went out, so that
   * only dropping the connection can keep the protocol stream whole.
   */
  abortStream(): boolean {
    const deferred = this.deferred;
    if (deferred === null) return true;
    const spill = this.spill;
    const flags = this.flags;
    let start = spill.length - 1;
    while (start >= 0 && (flags[start] & Flag.Start) === 0) start--;
    if (start < this.head || (start === this.head && this.headOff > 0)) return false;
    for (let i = start; i < spill.length; i++) this.held -= spill[i].length;
    spill.length = start;
    flags.length = start;
    this.deferred = null;
    for (let i = 0; i < deferred.length; i++) {
      spill.push(deferred[i]);
      flags.push(this.deferredFlags[i]);
    }
    this.deferredFlags = [];
    return true;
  }

  /** True while a streamed message is open. */
  get streaming(): boolean {
    return this.deferred !== null;
  }

  /** Sets the handshake bytes that go out before everything else. */
  setFront(bytes: Uint8Array | null): void {
    this.front = bytes;
    this.frontOff = 0;
  }

  /**
   * Writes what the socket can take, in order; returns the socket's free space afterwards. (A
   * Moddable socket that has just failed returns nothing from write(): that counts as no space,
   * and its onError follows.)
   * With `frontOnly`, nothing but the handshake is written.
   */
  drain(socket: TCP, writable: number, frontOnly: boolean): number {
    const front = this.front;
    if (front !== null && writable > 0) {
      const left = front.length - this.frontOff;
      const n = left <= writable ? left : writable;
      writable = socket.write(front.subarray(this.frontOff, this.frontOff + n)) ?? 0;
      this.frontOff += n;
      if (this.frontOff === front.length) this.setFront(null);
    }
    if (this.front !== null || frontOnly) return writable;
    const queued = this.end - this.start;
    if (queued > 0) {
      if (queued > writable) return writable; // wait until the batch fits whole
      const buf = this.buf as Uint8Array;
      writable = socket.write(queued === buf.length ? buf : buf.subarray(this.start, this.end)) ?? 0;
      this.held -= queued;
      this.start = this.end = 0;
    }
    const spill = this.spill;
    while (this.head < spill.length && writable > 0) {
      if (spill[this.head] === this.spillPage) this.closePage();
      const entry = spill[this.head];
      const left = entry.length - this.headOff;
      let n = left;
      if (left > writable) {
        // small entries wait to go whole; only a large one is cut to keep the socket busy
        if (entry.length <= this.cap) break;
        n = writable;
      }
      writable = socket.write(this.headOff === 0 && n === entry.length ? entry : entry.subarray(this.headOff, this.headOff + n)) ?? 0;
      if ((this.flags[this.head] & Flag.Reference) !== 0) this.referenced -= n;
      else this.held -= n;
      this.headOff += n;
      if (this.headOff === entry.length) {
        if ((this.flags[this.head] & Flag.Stream) !== 0) spill[this.head] = Empty;
        this.head++;
        this.headOff = 0;
        if (this.head === spill.length || (this.flags[this.head] & Flag.Start) !== 0) {
          // the frame went out whole: nothing before it is needed for a replay any more
          for (let i = this.frameHead; i < this.head; i++) spill[i] = Empty;
          this.frameHead = this.head;
        }
      }
    }
    if (this.head === spill.length && spill.length > 0 && this.deferred === null) {
      spill.length = 0;
      this.flags.length = 0;
      this.head = this.headOff = this.frameHead = 0;
    } else if (this.frameHead >= 64) {
      // streamed messages back to back never leave the spill empty: drop the entries of frames
      // that went out whole, or the two arrays grow by an entry per piece for as long as they last
      const n = this.frameHead;
      spill.splice(0, n);
      this.flags.splice(0, n);
      this.head -= n;
      this.frameHead = 0;
    }
    return writable;
  }

  /**
   * After the socket is gone: drops the handshake and control frames (a reconnect sends them anew),
   * and rewinds a message frame that was cut to its start so that it is sent whole again.
   * Returns the number of units kept: frames of the batch, and pages or large frames of the spill.
   */
  rewind(): number {
    this.setFront(null);
    this.closePage();
    let kept = 0;
    // batch: whole frames only; keep PUB and HPUB
    const buf = this.buf as Uint8Array;
    let w = 0;
    let p = this.start;
    while (p < this.end) {
      const len = frameLength(buf, p, this.end);
      if (isMessage(buf, p)) {
        if (w !== p) buf.copyWithin(w, p, p + len);
        w += len;
        kept++;
      }
      p += len;
    }
    this.start = 0;
    this.end = w;
    // spill: from the start of the frame being written, message frames only
    const spill = this.spill;
    const flags = this.flags;
    let keep = false;
    let out = 0;
    this.held = w;
    this.referenced = 0;
    const open = this.deferred;
    // while a stream is open nothing else starts in the spill, so the last start is the open stream
    let openStart = -1;
    if (open !== null) for (let i = spill.length - 1; i >= 0 && openStart < 0; i--) if ((flags[i] & Flag.Start) !== 0) openStart = i;
    if (open !== null) {
      // the open stream is cut: what was published meanwhile follows the frames before it
      this.deferred = null;
      for (let i = 0; i < open.length; i++) {
        spill.push(open[i]);
        flags.push(this.deferredFlags[i]);
      }
      this.deferredFlags = [];
    }
    for (let i = this.frameHead; i < spill.length; i++) {
      const f = flags[i];
      if ((f & Flag.Start) !== 0) {
        keep = (f & Flag.Control) === 0;
        if (keep && (f & Flag.Stream) !== 0 && (spill[i] === Empty || i < this.head || (i === this.head && this.headOff > 0) || i === openStart)) {
          // a stream whose first bytes already went out (or that is still open) cannot be replayed
          keep = false;
          this.lostStreams++;
        }
        if (keep) kept++;
      }
      if (!keep) continue;
      if ((f & Flag.Page) !== 0) {
        // a page may hold control frames too: keep its message frames only
        const page = spill[i];
        let w = 0;
        for (let p = 0; p < page.length; ) {
          const len = frameLength(page, p, page.length);
          if (isMessage(page, p)) {
            if (w !== p) page.copyWithin(w, p, p + len);
            w += len;
          }
          p += len;
        }
        if (w === 0) {
          kept--;
          continue;
        }
        spill[i] = page.subarray(0, w);
      }
      spill[out] = spill[i];
      flags[out] = f;
      if ((f & Flag.Reference) !== 0) this.referenced += spill[i].length;
      else this.held += spill[i].length;
      out++;
    }
    spill.length = out;
    flags.length = out;
    this.head = this.headOff = this.frameHead = 0;
    return kept;
  }

  /** Message frames (PUB/HPUB) queued and not yet wholly handed to the socket: what clear() would
   *  discard. Walks the queue; called only when the connection closes. */
  messages(): number {
    this.closePage();
    let n = 0;
    const buf = this.buf as Uint8Array;
    for (let p = this.start; p < this.end; ) {
      const len = frameLength(buf, p, this.end);
      if (isMessage(buf, p)) n++;
      p += len;
    }
    n += countFrames(this.spill, this.flags, this.frameHead);
    if (this.deferred !== null) n += countFrames(this.deferred, this.deferredFlags, 0);
    return n;
  }

  /** Drops everything and lets every buffer go (the connection is closed). */
  clear(): void {
    this.buf = null;
    this.spill = [];
    this.flags = [];
    this.spillPage = null;
    this.deferred = null;
    this.deferredFlags = [];
    this.setFront(null);
    this.start = this.end = 0;
    this.head = this.headOff = this.frameHead = 0;
    this.held = this.referenced = 0;
  }
}

/** Message frames starting in entries[from...]: a page or a copy holds whole frames; a frame head
 *  whose payload follows by reference or in stream pieces counts once. */
function countFrames(entries: Uint8Array[], flags: number[], from: number): number {
  let n = 0;
  for (let i = from; i < entries.length; i++) {
    const f = flags[i];
    if ((f & Flag.Start) === 0 || (f & Flag.Control) !== 0) continue;
    const e = entries[i];
    if (e.length === 0) {
      n++; // a stream head already written: the message is still open
      continue;
    }
    for (let p = 0; p < e.length; ) {
      if (isMessage(e, p)) n++;
      p += frameLength(e, p, e.length);
    }
  }
  return n;
}

/** True when the frame at `p` is a PUB or HPUB. */
function isMessage(buf: Uint8Array, p: number): boolean {
  const c = buf[p];
  return c === 80 /* P */ ? buf[p + 1] === 85 /* U */ : c === 72 /* H */;
}

/** Length of the frame at `p`, as this client writes them: a line, plus a payload for PUB/HPUB. */
function frameLength(buf: Uint8Array, p: number, end: number): number {
  let eol = p;
  while (eol < end && buf[eol] !== LF) eol++;
  let len = eol + 1 - p;
  if (isMessage(buf, p)) {
    // the last argument is the total payload size
    let q = eol - 1;
    if (buf[q] === CR) q--;
    let size = 0;
    let scale = 1;
    while (q > p && buf[q] >= 48 && buf[q] <= 57) {
      size += (buf[q] - 48) * scale;
      scale *= 10;
      q--;
    }
    len += size + 2;
  }
  return len;
}
