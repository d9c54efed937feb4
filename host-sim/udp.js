// embedded:io/socket/udp on Node: the Moddable SDK 8.x ECMA-419 UDP socket over node:dgram.
// Datagrams queue until read(); onReadable(count) reports how many are queued and, as on the
// device, is posted once per batch of arrivals, never from inside read() or write().
import dgram from "node:dgram";
import net from "node:net";

/**
 * @typedef {object} UDPOptions
 * @property {number} [port] local port; 0 or absent for any
 * @property {(this: UDP, count: number) => void} [onReadable]
 * @property {(this: UDP) => void} [onError]
 */

/** ECMA-419 UDP socket, IPv4. */
export default class UDP {
  /** @type {dgram.Socket | undefined} */
  #socket;
  /** @type {Array<{ bytes: Buffer, address: string, port: number }>} */
  #packets = [];
  #pending = false;
  #closed = false;
  /** @type {((this: UDP, count: number) => void) | undefined} */
  #onReadable;
  /** @type {((this: UDP) => void) | undefined} */
  #onError;

  /** @param {UDPOptions} [options] */
  constructor(options = {}) {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("UDP: invalid port");
    if (typeof options.onReadable === "function") this.#onReadable = options.onReadable;
    if (typeof options.onError === "function") this.#onError = options.onError;
    const socket = dgram.createSocket("udp4");
    this.#socket = socket;
    socket.on("message", (bytes, rinfo) => {
      if (this.#closed) return;
      this.#packets.push({ bytes, address: rinfo.address, port: rinfo.port });
      if (!this.#pending && this.#onReadable !== undefined) {
        this.#pending = true;
        setImmediate(() => this.#deliverReadable());
      }
    });
    socket.on("error", () => {
      if (this.#closed) return;
      setImmediate(() => {
        if (!this.#closed) this.#onError?.call(this);
      });
    });
    socket.bind(port);
  }

  /**
   * The oldest queued datagram as an ArrayBuffer carrying `address` and `port` properties of its
   * sender, or undefined when none is queued.
   * @returns {(ArrayBuffer & { address: string, port: number }) | undefined}
   */
  read() {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data (socket closed)");
    const packet = this.#packets.shift();
    if (packet === undefined) return undefined;
    const out = /** @type {ArrayBuffer & { address: string, port: number }} */ (
      packet.bytes.buffer.slice(packet.bytes.byteOffset, packet.bytes.byteOffset + packet.bytes.byteLength)
    );
    out.address = packet.address;
    out.port = packet.port;
    return out;
  }

  /**
   * Sends one datagram.
   * @param {ArrayBuffer | ArrayBufferView} data
   * @param {string} address IPv4 literal
   * @param {number} port
   */
  write(data, address, port) {
    if (this.#closed) throw new SyntaxError("C: xsGetHostData: invalid host data (socket closed)");
    if (typeof address !== "string" || !net.isIPv4(address)) throw new RangeError("invalid IP address");
    let bytes;
    if (data instanceof ArrayBuffer) bytes = Buffer.from(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else throw new TypeError("UDP write: not a buffer");
    /** @type {dgram.Socket} */ (this.#socket).send(bytes, port, address, (error) => {
      if (error && !this.#closed) this.#onError?.call(this);
    });
  }

  /** Releases the socket; queued datagrams are dropped and no callback fires after this. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#packets = [];
    this.#onReadable = this.#onError = undefined;
    /** @type {dgram.Socket} */ (this.#socket).close();
    this.#socket = undefined;
  }

  #deliverReadable() {
    this.#pending = false;
    if (this.#closed || this.#packets.length === 0) return;
    this.#onReadable?.call(this, this.#packets.length);
  }
}
