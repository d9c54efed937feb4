/**
 * The transport seam. The connection reads and writes one socket of the ECMA-419 shape (what
 * `embedded:io/socket/tcp` gives); a secure or WebSocket link is a layer stacked on the plain TCP
 * socket, with the same shape. The server URL's scheme decides the stack:
 *
 *   nats://  TCP (upgraded to TLS after INFO when the server requires it or `tls` options are given)
 *   tls://   TCP, INFO in clear, then TLS on the same connection (nats-server 2.9)
 *   ws://    TCP, then WebSocket
 *   wss://   TCP, then TLS, then WebSocket
 *
 * Layers live in modules of their own (`nats-xs/tls`, `nats-xs/ws`) that the connection loads with
 * a dynamic `import()` only when a URL or a server asks for them, so an app that speaks plain TCP
 * carries none of their code. A layer module exports `wrap()` (see `LayerModule`).
 */

/** What the connection does with a socket, whatever the transport. */
export interface Socket {
  /** Fills the whole view from the bytes received; returns its length. */
  read(into: Uint8Array): number | undefined;
  /** Copies all of `data` for sending and returns the free space left; throws when it does not
   *  fit; undefined when the link has failed and its onError is on its way. */
  write(data: Uint8Array): number | undefined;
  /** Closes this socket and every socket beneath it; no callback fires afterwards. */
  close(): void;
}

/** The ECMA-419 callbacks, as an object a layer beneath calls. `onError` may carry a detail (a
 *  TLS alert, a WebSocket close reason); Moddable's plain sockets give none. */
export interface Events {
  onReadable(count: number): void;
  onWritable(count: number): void;
  onError(detail?: string): void;
}

/** A socket stacked on another: the owner of the socket beneath hands its events to the layer. */
export interface Layer extends Socket, Events {}

/** nats.js's `tls` option: PEM text or bytes. `ca` replaces the device's trusted roots; `cert`
 *  and `key` are the client certificate for mutual TLS; `serverName` overrides the name the
 *  server's certificate must carry (and SNI), which is otherwise the URL's host. */
export interface TlsOptions {
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  serverName?: string;
}

/** What a layer needs to know about the server it talks to. */
export interface LayerOptions {
  /** The host as the URL names it (a name or an IPv4 literal). */
  host: string;
  port: number;
  /** The URL's path (WebSocket only), "/" when none. */
  path: string;
  tls: TlsOptions | undefined;
}

/** The export of a layer module (`nats-xs/tls`, `nats-xs/ws`). */
export interface LayerModule {
  /** Stacks a layer on `inner`, which is open (its last writable count was `writable`) or still
   *  connecting (`writable` 0: the handshake starts with the first onWritable handed over).
   *  The layer's own events go to `upper`. */
  wrap(inner: Socket, writable: number, options: LayerOptions, upper: Events): Layer;
}

/** URL schemes and what they stack on TCP. */
export const enum Scheme {
  Nats,
  Tls,
  Ws,
  Wss,
}

/** Scheme names, indexed by Scheme. */
export const SCHEMES = Object.freeze(["nats", "tls", "ws", "wss"] as const);

/** Passes events on to a target set later: a layer whose upper layer is made after it. */
export class Relay implements Events {
  target: Events | null = null;
  /** Runs once, at the first onWritable (the layer beneath finished its handshake). */
  onUp: (() => void) | null = null;

  onReadable(count: number): void {
    this.target?.onReadable(count);
  }
  onWritable(count: number): void {
    const up = this.onUp;
    if (up !== null) {
      this.onUp = null;
      up();
    }
    this.target?.onWritable(count);
  }
  onError(detail?: string): void {
    this.target?.onError(detail);
  }
}
