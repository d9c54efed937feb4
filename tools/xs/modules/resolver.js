// "embedded:network/dns/resolver/udp": resolves what a device on a test bench needs without a
// network: IPv4 literals and "localhost" (127.0.0.1). Any other name calls onError. Answers
// come on a later turn of the loop, never from inside resolve().
import Timer from "timer";

function isIPv4(host) {
  const parts = host.split(".");
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (part.length === 0 || part.length > 3) return false;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    if (Number(part) > 255) return false;
  }
  return true;
}

export default class Resolver {
  #closed = false;

  constructor(options) {
    if (options === undefined || options === null || typeof options !== "object")
      throw new TypeError("Resolver: options required");
  }

  resolve(request) {
    if (this.#closed) throw new Error("Resolver: closed");
    const { host, onResolved, onError } = request;
    if (typeof host !== "string") throw new TypeError("Resolver: host must be a string");
    const address = host === "localhost" ? "127.0.0.1" : isIPv4(host) ? host : undefined;
    Timer.set(() => {
      if (this.#closed) return;
      if (address !== undefined) onResolved?.call(this, host, address);
      else onError?.call(this, host);
    });
  }

  close() {
    this.#closed = true;
  }
}
