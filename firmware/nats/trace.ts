/**
 * The connection's trace (option `debug`, nats.js's name): protocol lines as `< ` (from the server)
 * and `> ` (to it), and the connection's decisions as `- `, each written with the global `trace()`
 * that Moddable gives every device (the host simulator prints it to stdout). Payloads are never
 * printed, only their sizes; credentials in CONNECT are replaced by "[redacted]".
 *
 * Every call site is behind `if (this.debug)`: with the option off, no line is built.
 */

/** CONNECT fields that carry secrets. */
const SECRETS = Object.freeze(["pass", "auth_token", "sig", "jwt"]);

/** Writes one line of the trace. */
export function traceLine(line: string): void {
  trace(`nats-xs ${line}\n`);
}

/** CONNECT's JSON with its secrets replaced. */
export function redactedConnect(c: Record<string, unknown>): string {
  return JSON.stringify(c, (key, value) => (SECRETS.indexOf(key) >= 0 ? "[redacted]" : value));
}

/** The fields of a MSG/HMSG or PUB/HPUB line after the op name. */
export function frameFields(subject: string, a: string, reply: string, hdrLen: number, total: number): string {
  const head = a === "" ? subject : `${subject} ${a}`;
  const tail = hdrLen >= 0 ? `${hdrLen} ${total}` : `${total}`;
  return reply === "" ? `${head} ${tail}` : `${head} ${reply} ${tail}`;
}
