/**
 * nats-xs/stream: publishing a message whose payload is written in pieces, so that a payload never
 * has to sit whole in memory (a camera frame, a file, an Object Store chunk). A module of its own:
 * an app that never streams does not carry it.
 *
 *   import { publishStream } from "nats-xs/stream";
 *   const w = publishStream(nc, "camera.7.frame", size);
 *   for (const piece of pieces) if (!w.write(piece)) await w.ready();
 *   w.end();
 */
import { InvalidArgumentError, MsgHdrsImpl, checkPublishSubject } from "nats-xs";
import type { NatsConnection, PublishOptions } from "nats-xs";

/**
 * Starts a message of exactly `size` payload bytes on `subject` whose payload is written in
 * pieces: `write()` copies each piece into the outbound queue and returns false when the caller
 * should `await ready()`; `end()` closes the message. Other publishes made while the message is
 * open are queued behind it; one streamed message is open at a time per connection
 * (StreamBusyError; `streamIdle(nc)` waits for the open one). A disconnect in the middle aborts
 * the message (it is counted in stats().dropped); later writes throw.
 */
export function publishStream(nc: NatsConnection, subject: string, size: number, options?: PublishOptions): MessageWriter {
  checkPublishSubject(subject);
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError("size must be a whole number of bytes");
  const reply = options?.reply ?? "";
  if (reply !== "") checkPublishSubject(reply);
  const h = options?.headers;
  if (h !== undefined && !(h instanceof MsgHdrsImpl)) throw new InvalidArgumentError("headers must come from headers()");
  const w = new MessageWriter(nc, size);
  nc.openStream(w, subject, reply, h ?? null, size);
  return w;
}

/** Resolves when no streamed message is open on `nc`. */
export function streamIdle(nc: NatsConnection): Promise<void> {
  const open = nc.streaming;
  return open instanceof MessageWriter ? open.idle() : Promise.resolve();
}

/** Writes one message whose payload arrives in pieces; from `publishStream()`. */
export class MessageWriter {
  /** Payload bytes announced. */
  readonly size: number;
  /** Payload bytes written so far. */
  written = 0;
  /** Why the message was aborted (disconnect or close); writes then throw it. */
  error: Error | null = null;
  private readonly nc: NatsConnection;
  /** Copied bytes in the connection's outbound queue, as last reported. */
  private held = 0;
  /** Callers of ready() waiting for the queue to drain below the low-water mark (made on need). */
  private _ready: (() => void)[] | null = null;
  /** Callers of streamIdle() waiting for this message to end (made on need). */
  private _idle: (() => void)[] | null = null;

  constructor(nc: NatsConnection, size: number) {
    this.nc = nc;
    this.size = size;
  }

  /** The message may keep this many copied bytes queued before write() asks to wait. */
  private get lowWater(): number {
    const o = this.nc.options;
    return Math.min(o.maxPendingBytes, Math.max(o.outboundBufferBytes, 4096));
  }

  /** Copies `bytes` into the outbound queue; false means: `await ready()` before writing more. */
  write(bytes: Uint8Array): boolean {
    if (this.error !== null) throw this.error;
    if (this.written + bytes.length > this.size)
      throw new InvalidArgumentError(`the message was announced with ${this.size} bytes; writing ${bytes.length} more would exceed it`);
    this.held = this.nc.streamWrite(this, bytes);
    this.written += bytes.length;
    return this.held < this.lowWater;
  }

  /** Resolves when the outbound queue has room for more pieces. */
  ready(): Promise<void> {
    if (this.error !== null) return Promise.reject(this.error);
    if (this.held < this.lowWater || this.nc.streaming !== this) return Promise.resolve();
    return new Promise((resolve) => (this._ready ??= []).push(resolve));
  }

  /** Withdraws the message: it is not delivered. If part of it was already sent, the connection
   *  is dropped and re-established, which is the only way to cut a frame cleanly. */
  abort(): void {
    if (this.error !== null) return;
    this.error = new InvalidArgumentError("the streamed message was aborted");
    this.nc.streamAbort(this);
    this.settle();
  }

  /** Ends the message; throws when fewer bytes than announced were written. */
  end(): void {
    if (this.error !== null) throw this.error;
    if (this.written !== this.size) throw new InvalidArgumentError(`the message was announced with ${this.size} bytes but ${this.written} were written`);
    this.nc.streamEnd(this);
    this.settle();
  }

  /** @internal */
  fail(err: Error): void {
    this.error = err;
    this.settle();
  }

  /** @internal */
  drained(held: number): void {
    this.held = held;
    if (this._ready !== null && held < this.lowWater) this.wake();
  }

  /** @internal Resolves when this message is no longer open. */
  idle(): Promise<void> {
    return new Promise((resolve) => (this._idle ??= []).push(resolve));
  }

  /** The message is no longer open: its waiters go on. */
  private settle(): void {
    this.wake();
    const idle = this._idle;
    this._idle = null;
    if (idle !== null) for (const resolve of idle) resolve();
  }

  private wake(): void {
    const ready = this._ready;
    this._ready = null;
    if (ready !== null) for (const resolve of ready) resolve();
  }
}
