// embedded:io/socket/tcp on Node: the Moddable SDK 8.x ECMA-419 TCP socket (lwip tcp.c on ESP32)
// rebuilt over node:net, so that code which passes here meets the same limits on a board:
// a bounded send buffer that refuses a write it cannot take whole, a bounded receive queue that
// stops reading from the peer (a TCP window), callbacks delivered later and coalesced, never from
// inside read() or write(), and onError only once every received byte was read.
import net from "node:net";

const DEFAULT_SNDBUF = 8192; // ESP32 lwip send buffer as Moddable configures it
const DEFAULT_RCVBUF = 16384;

// Trigger flags, one pending delivery per socket, OR-ed together until it runs (as tcp.c does).
const WRITABLE = 1;
const READABLE = 2;
const ERROR = 4;
const OUTPUT = 8;

/**
 * Reads a positive integer from the environment, or the default when unset or malformed.
 * @param {string} name
 * @param {number} fallback
 */
function envSize(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * The bytes a buffer argument designates: an ArrayBuffer whole, or exactly a view's window.
 * @param {unknown} data
 * @returns {Uint8Array | undefined}
 */
function bytesOf(data) {
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** What XS throws when a method is called on a socket whose host data close() released. */
function closedError() {
  return new SyntaxError("C: xsGetHostData: invalid host data (socket closed)");
}

/**
 * @typedef {object} TCPOptions
 * @property {string} address IPv4 literal; the device socket does not resolve names.
 * @property {number} port
 * @property {boolean} [nodelay]
 * @property {"buffer" | "number"} [format]
 * @property {(this: TCP, count: number) => void} [onReadable]
 * @property {(this: TCP, count: number) => void} [onWritable]
 * @property {(this: TCP) => void} [onError]
 */

/**
 * The ECMA-419 socket semantics of Moddable SDK 8.x over any Node stream socket: the TCP socket
 * below, and the TLS socket of tls.js.
 */
export class StreamSocket {
  /** @type {net.Socket | undefined} undefined once close() released it */
  #socket;
  #address;
  #port;
  /** @type {"buffer" | "number"} */
  #format;
  /** @type {((this: TCP, count: number) => void) | undefined} */
  #onReadable;
  /** @type {((this: TCP, count: number) => void) | undefined} */
  #onWritable;
  /** @type {((this: TCP) => void) | undefined} */
  #onError;

  /** Connected and no error delivered yet: write() accepts bytes. */
  #ready = false;
  /** The connection ended or failed in Node; write() now drops bytes silently until onError. */
  #dead = false;
  /** The failure was delivered (tcp.c's `error`): onError fires once the queue is empty. */
  #error = false;
  #errorFired = false;
  #closed = false;

  #triggered = 0;
  #deliver = () => this.#delivery();

  #sndbuf = envSize("NATS_XS_SIM_SNDBUF", DEFAULT_SNDBUF);
  /** Bytes handed to Node and not yet flushed to the kernel. */
  #unsent = 0;
  #corked = false;

  #rcvbuf = envSize("NATS_XS_SIM_RCVBUF", DEFAULT_RCVBUF);
  /** @type {Buffer[]} received chunks not yet read; the first is consumed from #head */
  #chunks = [];
  #head = 0;
  #buffered = 0;
  #paused = false;

  /** Why the stream failed, passed to onError (TLS alerts, certificate checks; empty for TCP). */
  #detail = "";

  /**
   * @param {TCPOptions} options
   * @param {net.Socket} socket the Node socket, connecting
   * @param {string} readyEvent the event that says it is ready ("connect", "secureConnect")
   */
  constructor(options, socket, readyEvent) {
    const { address, port, format = "buffer" } = options;
    if (format !== "buffer" && format !== "number") throw new RangeError("TCP: unimplemented format");
    this.#address = address;
    this.#port = port;
    this.#format = format;
    if (typeof options.onReadable === "function") this.#onReadable = options.onReadable;
    if (typeof options.onWritable === "function") this.#onWritable = options.onWritable;
    if (typeof options.onError === "function") this.#onError = options.onError;

    this.#socket = socket;
    socket.on(readyEvent, () => {
      if (this.#dead) return;
      this.#ready = true;
      this.#trigger(WRITABLE);
    });
    socket.on("data", (chunk) => this.#received(chunk));
    socket.on("end", () => this.#fail());
    socket.on("error", (e) => {
      if (this.#detail === "" && readyEvent !== "connect") this.#detail = e.message;
      this.#fail();
    });
    socket.on("close", () => this.#fail());
  }

  /**
   * Takes received bytes. No argument: all of them as an ArrayBuffer. A number: exactly that many.
   * A buffer or view: fills it whole and returns its length. With nothing buffered, returns
   * undefined whatever the argument (as tcp.c does). In format "number": one byte as a number.
   * @param {number | ArrayBuffer | ArrayBufferView} [into]
   * @returns {ArrayBuffer | number | undefined}
   */
  read(into) {
    if (this.#closed) throw closedError();
    if (this.#buffered === 0) return undefined;

    if (this.#format === "number") {
      const out = new Uint8Array(1);
      this.#take(out);
      return out[0];
    }

    if (arguments.length === 0) {
      const out = new Uint8Array(this.#buffered);
      this.#take(out);
      return out.buffer;
    }
    if (typeof into === "object" && into !== null) {
      const out = bytesOf(into);
      if (out === undefined) throw new TypeError("TCP read: not a buffer");
      if (out.byteLength === 0 || out.byteLength > this.#buffered) {
        throw new Error(`TCP read: invalid: asked for ${out.byteLength} bytes, ${this.#buffered} buffered`);
      }
      this.#take(out);
      return out.byteLength;
    }
    const count = Math.trunc(Number(into));
    if (!(count > 0) || count > this.#buffered) {
      throw new Error(`TCP read: invalid: asked for ${String(into)} bytes, ${this.#buffered} buffered`);
    }
    const out = new Uint8Array(count);
    this.#take(out);
    return out.buffer;
  }

  /**
   * Copies all of `data` into the send buffer and returns the free space left; throws
   * "would block" when it does not fit (nothing is written then). In format "number", writes one
   * byte. Throws "not ready" before the connection is up and once the failure was delivered;
   * between a failure and its delivery, drops the bytes and returns undefined.
   * @param {ArrayBuffer | ArrayBufferView | number} data
   * @returns {number | undefined}
   */
  write(data) {
    if (this.#closed) throw closedError();
    if (!this.#ready) throw new Error("not ready");
    if (this.#dead || this.#error) return undefined;

    let bytes;
    if (this.#format === "number") {
      bytes = Buffer.of(Number(data) & 0xff);
    } else {
      const view = bytesOf(data);
      if (view === undefined) throw new TypeError("TCP write: not a buffer");
      if (view.byteLength > this.#sndbuf - this.#unsent) throw new Error("would block");
      if (view.byteLength === 0) return this.#sndbuf - this.#unsent;
      bytes = Buffer.from(view); // copies: the caller may reuse its buffer at once
    }
    if (bytes.byteLength > this.#sndbuf - this.#unsent) throw new Error("would block");

    const socket = /** @type {net.Socket} */ (this.#socket);
    if (!this.#corked) {
      // Sends go out once per turn of the event loop, as lwip's tcp_output after the turn.
      socket.cork();
      this.#corked = true;
    }
    const length = bytes.byteLength;
    this.#unsent += length;
    socket.write(bytes, () => {
      this.#unsent -= length;
      if (!this.#closed && !this.#dead) this.#trigger(WRITABLE);
    });
    this.#trigger(OUTPUT);
    return this.#sndbuf - this.#unsent;
  }

  /** Closes the socket (queued bytes still go out); no callback fires after this. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    this.#triggered = 0;
    this.#onReadable = this.#onWritable = this.#onError = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    const socket = /** @type {net.Socket} */ (this.#socket);
    this.#socket = undefined;
    socket.removeAllListeners("data");
    socket.on("error", () => {}); // late failures belong to nobody now
    if (this.#dead || socket.connecting) {
      socket.destroy();
      return;
    }
    if (this.#corked) {
      this.#corked = false;
      socket.uncork();
    }
    // A graceful close like tcp_close: flush, send FIN, release the descriptor once flushed.
    socket.once("finish", () => socket.destroy());
    socket.resume();
    socket.end();
  }

  /** @returns {string} */
  get remoteAddress() {
    if (this.#closed) throw closedError();
    return this.#address;
  }

  /** @returns {number} */
  get remotePort() {
    if (this.#closed) throw closedError();
    return this.#port;
  }

  /** @returns {"buffer" | "number"} */
  get format() {
    if (this.#closed) throw closedError();
    return this.#format;
  }

  set format(value) {
    if (this.#closed) throw closedError();
    if (value !== "buffer" && value !== "number") throw new RangeError("TCP: unimplemented format");
    this.#format = value;
  }

  /** @param {Buffer} chunk */
  #received(chunk) {
    if (this.#closed || chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    if (this.#buffered >= this.#rcvbuf && !this.#paused) {
      // The app is not reading: stop taking bytes from the kernel so the peer's window closes.
      this.#paused = true;
      /** @type {net.Socket} */ (this.#socket).pause();
    }
    if (this.#onReadable !== undefined) this.#trigger(READABLE);
  }

  /**
   * Moves the oldest buffered bytes into `out`, filling it.
   * @param {Uint8Array} out
   */
  #take(out) {
    let offset = 0;
    while (offset < out.byteLength) {
      const chunk = this.#chunks[0];
      const use = Math.min(out.byteLength - offset, chunk.byteLength - this.#head);
      out.set(chunk.subarray(this.#head, this.#head + use), offset);
      offset += use;
      this.#head += use;
      if (this.#head === chunk.byteLength) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    this.#buffered -= out.byteLength;
    if (this.#paused && this.#buffered < this.#rcvbuf) {
      this.#paused = false;
      /** @type {net.Socket} */ (this.#socket).resume();
    }
    if (this.#buffered === 0 && this.#error) this.#trigger(ERROR);
  }

  /** The connection ended (peer FIN), failed, or closed: report it once. */
  #fail() {
    if (this.#dead || this.#closed) return;
    this.#dead = true;
    this.#trigger(ERROR);
  }

  /** @param {number} flags */
  #trigger(flags) {
    const pending = this.#triggered;
    this.#triggered = pending | flags;
    if (pending === 0) setImmediate(this.#deliver);
  }

  /** Runs the pending triggers: readable, then writable, then error, as tcp.c's tcpDeliver. */
  #delivery() {
    let triggered = this.#triggered;
    this.#triggered = 0;
    if (this.#closed) return;

    if (triggered & ERROR) {
      triggered &= ~(OUTPUT | WRITABLE);
      this.#error = true;
      this.#ready = false;
    }
    if (triggered & OUTPUT && this.#corked) {
      this.#corked = false;
      /** @type {net.Socket} */ (this.#socket).uncork();
    }
    if (triggered & READABLE && this.#buffered > 0 && this.#onReadable !== undefined) {
      this.#onReadable.call(this, this.#buffered);
      if (this.#closed) return;
    }
    if (!this.#error) {
      if (triggered & WRITABLE && this.#onWritable !== undefined) {
        this.#onWritable.call(this, this.#sndbuf - this.#unsent);
      }
    } else if (this.#buffered === 0 && !this.#errorFired) {
      // Held back until every received byte was read; fires once.
      this.#errorFired = true;
      if (this.#detail !== "") this.#onError?.call(this, this.#detail);
      else this.#onError?.call(this);
    }
  }
}

/** ECMA-419 TCP client socket with Moddable SDK 8.x semantics. */
export default class TCP extends StreamSocket {
  /** @param {TCPOptions} options */
  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("TCP: options required");
    const { address, port, nodelay } = options;
    if (typeof address !== "string" || !net.isIPv4(address)) {
      throw new TypeError(
        `TCP: address must be an IPv4 literal, not ${JSON.stringify(address)}: resolve host names first`,
      );
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("TCP: invalid port");
    const { format = "buffer" } = options;
    if (format !== "buffer" && format !== "number") throw new RangeError("TCP: unimplemented format");
    const socket = net.connect({ host: address, port, family: 4 });
    if (nodelay !== undefined) socket.setNoDelay(Boolean(nodelay));
    super(options, socket, "connect");
  }
}
