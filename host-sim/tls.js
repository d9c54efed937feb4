// embedded:io/socket/tcp/tls on Node: Moddable's TLS socket (examples/io/tcp/tlssocket, TLS 1.2)
// rebuilt over node:tls with the same contract: it makes its socket beneath itself with
// `new options.TCP.io({...options, onReadable, onWritable, onError})` (so an `io` that adopts an
// open socket starts TLS on a connection already in use), `host` is the SNI name, `secure` carries
// `ca`, `clientCertificates` and `clientKey`; the cleartext side keeps the ECMA-419 semantics of
// tcp.js (bounded send buffer, coalesced callbacks, onError after the last read). onError passes
// the reason of a failed handshake as a string, which Moddable's socket cannot.
import { Duplex } from "node:stream";
import net from "node:net";
import tls from "node:tls";
import { StreamSocket } from "./tcp.js";

/** A Node Duplex over an ECMA-419 socket: the ciphertext side that node:tls writes and reads. */
class SocketStream extends Duplex {
  #io;
  #writable = 0;
  /** @type {{ bytes: Uint8Array, offset: number, callback: (err?: Error) => void } | null} */
  #pending = null;
  #ended = false;
  /** node:tls stopped taking ciphertext (its reader is full): the socket beneath keeps it, bounded. */
  #held = false;

  /**
   * @param {new (options: object) => any} IO the socket class to make (options.TCP.io)
   * @param {object} options passed to it, with our callbacks
   */
  constructor(IO, options) {
    super();
    this.#io = new IO({
      ...options,
      onReadable: () => {
        if (this.#held) return;
        this.#pull();
      },
      onWritable: (count) => {
        this.#writable = count;
        this.#flush();
      },
      onError: () => {
        if (this.#ended) return;
        this.#ended = true;
        this.push(null);
        this.destroy();
      },
    });
  }

  /** Moves what the socket beneath holds to node:tls, until node:tls says it has enough. */
  #pull() {
    const bytes = this.#io.read();
    if (bytes !== undefined && !this.push(Buffer.from(bytes))) this.#held = true;
  }

  _read() {
    if (!this.#held || this.#ended) return;
    this.#held = false;
    this.#pull();
  }

  /** @param {Buffer} chunk @param {string} _encoding @param {(err?: Error) => void} callback */
  _write(chunk, _encoding, callback) {
    this.#pending = { bytes: chunk, offset: 0, callback };
    this.#flush();
  }

  /** Writes what the socket beneath has room for; the rest waits for its onWritable. */
  #flush() {
    const p = this.#pending;
    if (p === null) return;
    while (p.offset < p.bytes.length && this.#writable > 0) {
      const n = Math.min(this.#writable, p.bytes.length - p.offset);
      let left;
      try {
        left = this.#io.write(p.bytes.subarray(p.offset, p.offset + n));
      } catch {
        this.#writable = 0;
        return;
      }
      if (left === undefined) return;
      this.#writable = left;
      p.offset += n;
    }
    if (p.offset === p.bytes.length) {
      this.#pending = null;
      p.callback();
    }
  }

  /** @param {(err?: Error) => void} callback */
  _final(callback) {
    this.#ended = true;
    try {
      this.#io.close();
    } catch {
      // already closed
    }
    callback();
  }

  /** @param {Error | null} err @param {(err?: Error | null) => void} callback */
  _destroy(err, callback) {
    this.#ended = true;
    try {
      this.#io.close();
    } catch {
      // already closed
    }
    callback(err);
  }
}

/** @param {unknown} pem @returns {string | Buffer | undefined} */
function pemOf(pem) {
  if (pem === undefined || pem === null) return undefined;
  if (typeof pem === "string") return pem;
  if (pem instanceof Uint8Array) return Buffer.from(pem);
  if (pem instanceof ArrayBuffer) return Buffer.from(new Uint8Array(pem));
  throw new TypeError("TLSSocket: certificates and keys must be PEM text or bytes");
}

/** ECMA-419 TLS client socket with the contract of Moddable's examples/io/tcp/tlssocket. */
export default class TLSSocket extends StreamSocket {
  /** @param {any} options */
  constructor(options) {
    if (options === null || typeof options !== "object") throw new TypeError("TLSSocket: options required");
    const IO = options.TCP?.io;
    if (typeof IO !== "function") throw new TypeError("TLSSocket: options.TCP.io (the socket class beneath) is required");
    const { onReadable, onWritable, onError, TCP, secure = {}, ...rest } = options;
    const host = typeof options.host === "string" && options.host !== "" ? options.host : undefined;
    // the name the server's certificate must carry: the SNI name, else the address dialed
    const identity = host ?? options.address;
    const ca = Array.isArray(secure.ca) ? secure.ca.map(pemOf) : pemOf(secure.ca);
    const certs = secure.clientCertificates;
    const cert = Array.isArray(certs) ? certs.map(pemOf) : pemOf(certs);
    const stream = new SocketStream(IO, rest);
    const socket = tls.connect({
      socket: stream,
      servername: host !== undefined && !net.isIP(host) ? host : undefined,
      ca,
      cert,
      key: pemOf(secure.clientKey),
      // Moddable's TLS socket speaks TLS 1.2 only: the simulator refuses what a board would
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
      rejectUnauthorized: true,
      checkServerIdentity: (_name, certificate) =>
        identity === undefined ? undefined : tls.checkServerIdentity(identity, certificate),
    });
    super({ ...options, address: identity, port: options.port }, socket, "secureConnect");
  }
}
