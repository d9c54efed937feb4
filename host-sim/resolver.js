// embedded:network/dns/resolver/udp on Node. The device resolver sends A queries over UDP to the
// configured servers; here node:dns (IPv4 only) answers instead, with the device's shape:
// exactly one of onResolved(host, address) / onError(host), later, with `this` the resolver.
import dns from "node:dns";
import net from "node:net";

/**
 * @typedef {object} ResolveRequest
 * @property {string} host
 * @property {(this: Resolver, host: string, address: string) => void} [onResolved]
 * @property {(this: Resolver, host: string) => void} [onError]
 */

/** ECMA-419 DNS resolver (A records). */
export default class Resolver {
  /** @type {Set<{ cancelled: boolean }>} */
  #pending = new Set();
  #closed = false;

  /**
   * @param {{ socket?: unknown, servers?: string[] }} [_options] accepted as on the device; the
   *   host's own resolver is used instead of `servers`.
   */
  constructor(_options) {}

  /** @param {ResolveRequest} request */
  resolve(request) {
    if (this.#closed) throw new Error("Resolver: closed");
    const { onResolved, onError } = request ?? {};
    let host = request?.host;
    if (!host || (typeof onResolved !== "function" && typeof onError !== "function")) {
      throw new Error("Resolver: resolve needs a host and onResolved or onError");
    }
    host = String(host);
    // As the device resolver does, "localhost" is rewritten to its address before anything else, so
    // callbacks receive "127.0.0.1" as the host.
    if (host === "localhost") host = "127.0.0.1";

    const entry = { cancelled: false };
    this.#pending.add(entry);
    const settle = (/** @type {string | undefined} */ address) => {
      if (entry.cancelled) return;
      this.#pending.delete(entry);
      if (address !== undefined) onResolved?.call(this, host, address);
      else onError?.call(this, host);
    };

    if (net.isIPv4(host)) {
      setImmediate(settle, host);
      return;
    }
    dns.lookup(host, { family: 4 }, (error, address) => {
      // Leave the dns callback before running app code so its exceptions surface as uncaught.
      setImmediate(settle, error ? undefined : address);
    });
  }

  /** Cancels every pending request: none of their callbacks will run. */
  close() {
    this.#closed = true;
    for (const entry of this.#pending) entry.cancelled = true;
    this.#pending.clear();
  }
}
