// "embedded:io/socket/tcp/tls": Moddable's TLS socket contract (examples/io/tcp/tlssocket, TLS 1.2)
// over the host's OpenSSL engine (tools/xs/host/tls.c). Like the SDK's socket it makes its socket
// beneath with `new options.TCP.io({...options, onReadable, onWritable, onError})`, takes `host`
// (SNI and the name to verify) and `secure` (`ca`, `clientCertificates`, `clientKey`), reports
// writable counts 96 bytes below those of the socket beneath, and delivers one record at a time.
// onError carries the reason of a failed handshake (the SDK's socket gives none).
import Timer from "timer";

const TLSEngine = globalThis.__xsHost.TLSEngine;
const OVERHEAD = 96;
const SCRATCH = 1024;

class TLSSocket {
  #io;
  #engine;
  #ready = false;
  #failed = false;
  /** Free space of the socket beneath. */
  #writable = 0;
  /** Plaintext bytes of the record being read. */
  #record = 0;
  /** Ciphertext the socket beneath announced while a record was still unread: it stays there
   *  (bounded by that socket's receive buffer) until the reader takes the record. */
  #waiting = 0;
  /** Ciphertext moves through this, allocated once. */
  #scratch = new Uint8Array(SCRATCH);
  #onReadable;
  #onWritable;
  #onError;

  constructor(options) {
    const IO = options?.TCP?.io;
    if (typeof IO !== "function") throw new TypeError("TLSSocket: options.TCP.io (the socket class beneath) is required");
    const secure = options.secure ?? {};
    const certs = secure.clientCertificates;
    const host = typeof options.host === "string" && options.host !== "" ? options.host : undefined;
    this.#onReadable = options.onReadable;
    this.#onWritable = options.onWritable;
    this.#onError = options.onError;
    this.#engine = new TLSEngine({
      ca: Array.isArray(secure.ca) ? secure.ca[0] : secure.ca,
      cert: Array.isArray(certs) ? certs[0] : certs,
      key: secure.clientKey,
      serverName: host,
      identity: host ?? options.address,
    });
    const rest = { ...options };
    delete rest.TCP;
    delete rest.secure;
    this.#io = new IO({
      ...rest,
      onReadable: (count) => this.#readable(count),
      onWritable: (count) => this.#writableCount(count),
      onError: () => this.#ended(),
    });
  }

  read(into) {
    if (this.#record === 0) return undefined;
    const view = typeof into === "number" ? new Uint8Array(into) : into;
    if (view.length > this.#record) throw new Error(`TLSSocket: read of ${view.length} bytes but ${this.#record} buffered`);
    const n = this.#engine.read(view);
    this.#record -= n;
    if (this.#record === 0 && this.#waiting > 0) Timer.set(() => this.#resume());
    return typeof into === "number" ? view.buffer : n;
  }

  write(data) {
    if (!this.#ready || this.#failed) throw new Error("not ready");
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (bytes.length > this.#room()) throw new Error("would block");
    this.#engine.write(bytes);
    this.#flush();
    return this.#room();
  }

  close() {
    this.#failed = true;
    this.#ready = false;
    try {
      this.#io.close();
    } catch {
      // already closed
    }
    this.#engine.close();
  }

  #room() {
    const room = this.#writable - this.#engine.pending() - OVERHEAD;
    return room > 0 ? room : 0;
  }

  /** Sends what ciphertext the socket beneath has room for. */
  #flush() {
    const engine = this.#engine;
    const scratch = this.#scratch;
    for (let n = engine.pending(); n > 0 && this.#writable > 0; n = engine.pending()) {
      const size = engine.drain(n < scratch.length && n < this.#writable ? scratch.subarray(0, n) : scratch.subarray(0, Math.min(scratch.length, this.#writable)));
      const left = this.#io.write(scratch.subarray(0, size));
      if (left === undefined) return;
      this.#writable = left;
    }
  }

  #writableCount(count) {
    if (this.#failed) return;
    this.#writable = count;
    if (!this.#ready) this.#step();
    else {
      this.#flush();
      const room = this.#room();
      if (room > 0) this.#onWritable?.(room);
    }
  }

  #resume() {
    const count = this.#waiting;
    if (count > 0 && this.#record === 0) this.#readable(count);
  }

  #readable(count) {
    if (this.#failed) return;
    if (this.#record > 0) {
      this.#waiting = count;
      return;
    }
    this.#waiting = 0;
    const scratch = this.#scratch;
    while (count > 0) {
      const n = count < scratch.length ? count : scratch.length;
      this.#io.read(scratch.subarray(0, n));
      this.#engine.feed(scratch.subarray(0, n));
      count -= n;
    }
    if (!this.#ready) this.#step();
    if (this.#ready) this.#deliver();
  }

  /** Handshake progress: on success the socket is writable; a failure is onError with the reason. */
  #step() {
    let done;
    try {
      done = this.#engine.handshake();
    } catch (e) {
      this.#flush();
      return this.#fail(e.message);
    }
    this.#flush();
    if (!done) return;
    this.#ready = true;
    const room = this.#room();
    if (room > 0) this.#onWritable?.(room);
  }

  /** Hands the records over one at a time, while the reader takes them. */
  #deliver() {
    while (!this.#failed) {
      if (this.#record === 0) this.#record = this.#engine.available();
      if (this.#record === 0) break;
      const before = this.#record;
      this.#onReadable?.(before);
      if (this.#record === before) break;
    }
    this.#flush();
    if (!this.#failed && this.#engine.closed()) this.#ended();
  }

  #ended() {
    if (this.#failed) return;
    this.#fail(this.#ready ? undefined : "the server closed the connection during the TLS handshake");
  }

  #fail(detail) {
    if (this.#failed) return;
    this.#failed = true;
    this.#ready = false;
    if (detail === undefined) this.#onError?.();
    else this.#onError?.(detail);
  }
}

export default TLSSocket;
