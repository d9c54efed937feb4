/**
 * The server pool: the configured servers plus those the cluster announces, with the bookkeeping
 * the reconnect loop needs (failed attempts, time of the last attempt).
 */
import { InvalidArgumentError } from "./errors.js";
import { Scheme } from "./transport.js";

/** One server of the pool. */
export class Server {
  /** host:port, the key of the pool. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly pass: string;
  readonly token: string;
  /** The transport the URL asks for. */
  readonly scheme: Scheme;
  /** The URL's path, for WebSocket ("/" when none). */
  readonly path: string;
  /** Announced by the cluster rather than configured. */
  readonly discovered: boolean;
  /** Failed attempts since the last successful connection. */
  failures = 0;
  /** Date.now() of the last dial; 0 when never dialed. */
  lastAttempt = 0;

  constructor(host: string, port: number, user: string, pass: string, token: string, discovered: boolean, scheme = Scheme.Nats, path = "/") {
    this.scheme = scheme;
    this.path = path;
    this.host = host;
    this.port = port;
    this.user = user;
    this.pass = pass;
    this.token = token;
    this.discovered = discovered;
    this.key = `${host}:${port}`;
  }
}

/** Parses "host", "host:port" or "<scheme>://[user[:pass]@]host[:port][/path]" with scheme nats,
 *  tls, ws or wss; a URL without a scheme gets `scheme`. Throws InvalidArgumentError. */
export function parseServer(url: string, discovered: boolean, scheme = Scheme.Nats): Server {
  let rest = url.trim();
  const colonSlashes = rest.indexOf("://");
  if (colonSlashes >= 0) {
    const name = rest.substring(0, colonSlashes).toLowerCase();
    const known = name === "nats" ? Scheme.Nats : name === "tls" ? Scheme.Tls : name === "ws" ? Scheme.Ws : name === "wss" ? Scheme.Wss : -1;
    if (known < 0) throw new InvalidArgumentError(`${url}: unknown scheme ${name}://, use nats://, tls://, ws:// or wss://`);
    scheme = known as Scheme;
    rest = rest.substring(colonSlashes + 3);
  }
  const slash = rest.indexOf("/");
  let path = "/";
  if (slash >= 0) {
    path = rest.substring(slash);
    rest = rest.substring(0, slash);
  }
  let user = "";
  let pass = "";
  let token = "";
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const auth = rest.substring(0, at);
    rest = rest.substring(at + 1);
    const colon = auth.indexOf(":");
    if (colon >= 0) {
      user = decodeURIComponent(auth.substring(0, colon));
      pass = decodeURIComponent(auth.substring(colon + 1));
    } else token = decodeURIComponent(auth);
  }
  if (rest.startsWith("[")) throw new InvalidArgumentError(`${url}: IPv6 addresses are not supported by the device socket`);
  let host = rest;
  let port = scheme === Scheme.Ws ? 80 : scheme === Scheme.Wss ? 443 : 4222;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    host = rest.substring(0, colon);
    const p = rest.substring(colon + 1);
    port = Number(p);
    if (p.length === 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`${url}: bad port ${JSON.stringify(p)}`);
  }
  if (host.length === 0) throw new InvalidArgumentError(`${url}: no host`);
  return new Server(host, port, user, pass, token, discovered, scheme, path);
}

/** The ordered pool. The next server to dial is always the first; dialing moves it to the end. */
// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class ServerPool {
  readonly servers: Server[] = [];

  constructor(urls: string[], randomize: boolean) {
    for (const u of urls) this.add(parseServer(u, false));
    if (randomize) {
      const s = this.servers;
      for (let i = s.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        const t = s[i];
        s[i] = s[j];
        s[j] = t;
      }
    }
  }

  /** @internal */
  private add(server: Server): boolean {
    for (const s of this.servers) if (s.key === server.key) return false;
    this.servers.push(server);
    return true;
  }

  /** Moves `server` to the end: it was just dialed. */
  rotate(server: Server): void {
    const i = this.servers.indexOf(server);
    if (i >= 0) {
      this.servers.splice(i, 1);
      this.servers.push(server);
    }
  }

  remove(server: Server): void {
    const i = this.servers.indexOf(server);
    if (i >= 0) this.servers.splice(i, 1);
  }

  /**
   * Merges the cluster's connect_urls: adds new ones, drops discovered servers that the cluster no
   * longer lists (configured ones stay). Credentials in configured URLs do not carry over, and a
   * URL without a scheme gets the transport of the server that announced it (TLS stays TLS).
   * Returns the keys added and deleted.
   */
  update(urls: string[], current: Server | null): { added: string[]; deleted: string[] } {
    const added: string[] = [];
    const deleted: string[] = [];
    const seen: string[] = [];
    for (const u of urls) {
      let s: Server;
      try {
        s = parseServer(u, true, current === null ? Scheme.Nats : current.scheme);
      } catch {
        continue; // e.g. an IPv6 address we cannot dial
      }
      // credentials a URL carried stay with that URL: a discovered server gets none of its own, and
      // CONNECT then carries only the credentials given as options (see README, "Credentials")
      seen.push(s.key);
      if (this.add(s)) added.push(s.key);
    }
    for (let i = this.servers.length - 1; i >= 0; i--) {
      const s = this.servers[i];
      if (s.discovered && s !== current && seen.indexOf(s.key) < 0) {
        this.servers.splice(i, 1);
        deleted.push(s.key);
      }
    }
    return { added, deleted };
  }
}
