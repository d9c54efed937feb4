/**
 * nats-xs/tls: the TLS layer of the transport seam, loaded by the connection with `import()` only
 * when a URL (`tls://`, `wss://`), the `tls` option or the server's INFO (`tls_required`) asks for
 * it. It stacks the device's TLS socket (`embedded:io/socket/tcp/tls`, Moddable's
 * `examples/io/tcp/tlssocket` on a board) on a TCP socket that is already open.
 *
 * Why an adopting `io`: nats-server 2.9 sends INFO in clear and expects the client to start TLS on
 * that same connection, but Moddable's TLS socket dials its own TCP socket (`new TCP.io(options)`).
 * Handing it `Adopted` as `TCP.io` makes that "dial" take over the open socket named by the
 * ECMA-419 `from` option instead, so the SDK module is used unchanged. The same layer works on a
 * socket that is still connecting (wss://: TLS comes first there), and for HTTPS links later.
 */
import TLSSocket from "embedded:io/socket/tcp/tls";
import type TCP from "embedded:io/socket/tcp";
import type { Events, Layer, LayerOptions } from "nats-xs";

/** The open socket handed over, and the adopter once TLSSocket made it. */
interface From {
  readonly inner: TCP;
  adopted: Adopted | null;
}

/** TLSSocket's `TCP.io`: adopts `options.from.inner` rather than dialing. */
class Adopted {
  /** TLSSocket keeps its socket's latest counts on these two. */
  readable = 0;
  writable = 0;
  private readonly inner: TCP;
  /** TLSSocket's own handlers of its socket's events. */
  readonly events: Events;

  constructor(options: { from: From; onReadable(count: number): void; onWritable(count: number): void; onError(): void }) {
    this.inner = options.from.inner;
    this.events = { onReadable: options.onReadable, onWritable: options.onWritable, onError: options.onError };
    options.from.adopted = this;
  }

  read(into?: number | Uint8Array): ArrayBuffer | number | undefined {
    if (into === undefined) return this.inner.read();
    return typeof into === "number" ? this.inner.read(into) : this.inner.read(into);
  }

  write(data: ArrayBuffer | Uint8Array): number | undefined {
    // TLSSocket answers its own writes from `writable` (less 96): keep it current, or a writer
    // trusting that answer would overrun the socket with a record it cannot take whole
    const left = this.inner.write(data);
    if (left !== undefined) this.writable = left;
    return left;
  }

  close(): void {
    this.inner.close();
  }
}

function isIPv4(host: string): boolean {
  let dots = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return false;
  }
  return dots === 3;
}

/** TLS on an open (or opening) socket, with the ECMA-419 shape the connection reads and writes. */
class TlsLayer implements Layer {
  private readonly socket: TLSSocket;
  private readonly adopted: Adopted;
  private readonly upper: Events;
  private failed = false;

  constructor(inner: TCP, writable: number, options: LayerOptions, upper: Events) {
    this.upper = upper;
    const tls = options.tls;
    const name = tls?.serverName ?? (isIPv4(options.host) ? undefined : options.host);
    const secure: Record<string, unknown> = {};
    // the SDK's session takes a list of PEM CAs (tlssocket.js: "ca: [PEM]")
    if (tls?.ca !== undefined) secure.ca = [tls.ca];
    if (tls?.cert !== undefined) {
      secure.clientCertificates = [tls.cert];
      secure.clientKey = tls.key;
    }
    const from: From = { inner, adopted: null };
    this.socket = new TLSSocket({
      TCP: { io: Adopted },
      from,
      host: name,
      // the IP literal the certificate must name when there is no host name (host-sim, XS host)
      address: name === undefined ? options.host : undefined,
      port: options.port,
      secure,
      onReadable: (count: number) => upper.onReadable(count),
      onWritable: (count: number) => upper.onWritable(count),
      onError: (detail?: string) => this.fail(detail),
    });
    this.adopted = from.adopted as unknown as Adopted;
    this.adopted.writable = writable;
    // an open socket will not say onWritable again by itself: the handshake starts now
    if (writable > 0) this.onWritable(writable);
  }

  read(into: Uint8Array): number | undefined {
    // Moddable's TLS socket reads by count, not into a view
    const bytes = this.socket.read(into.length);
    const got = bytes === undefined ? 0 : bytes.byteLength;
    // never a partial read: the caller parses exactly what it asked for
    if (got !== into.length) throw new Error(`TLS: read of ${into.length} bytes but ${got} are readable`);
    into.set(new Uint8Array(bytes as ArrayBuffer));
    return got;
  }

  write(data: Uint8Array): number | undefined {
    return this.socket.write(data);
  }

  close(): void {
    this.failed = true;
    this.socket.close();
  }

  // The plain socket's events, handed over by its owner. Moddable's TLS session throws from its
  // handlers when a handshake fails (a certificate it does not trust, an alert): that becomes
  // onError with the reason, never an exception in the socket's callback.
  onReadable(count: number): void {
    try {
      this.adopted.events.onReadable(count);
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  onWritable(count: number): void {
    try {
      this.adopted.events.onWritable(count);
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  onError(): void {
    try {
      this.adopted.events.onError();
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  private fail(detail?: string): void {
    if (this.failed) return;
    this.failed = true;
    this.upper.onError(detail);
  }
}

/** Stacks TLS on `inner` (see LayerModule in the core). */
export function wrap(inner: TCP, writable: number, options: LayerOptions, upper: Events): Layer {
  return new TlsLayer(inner, writable, options, upper);
}
