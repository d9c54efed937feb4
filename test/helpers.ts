// Shared helpers of the integration suites: real servers and connections that are always torn down
// (connections first, then servers, so no client keeps redialing a port the next test may reuse),
// deadlines on every wait, and status events recorded from the moment a connection exists.
import { startServer } from "../tools/nats-server.mjs";
import { connect as natsConnect } from "@nats-io/transport-node";
import type { NatsConnection as JsConnection, ConnectionOptions as JsOptions } from "@nats-io/transport-node";
import { connect } from "nats-xs";
import { status } from "nats-xs/status";
import type { ConnectionOptions, NatsConnection, Status } from "nats-xs";

export type ServerHandle = Awaited<ReturnType<typeof startServer>>;
export type ServerOptions = Parameters<typeof startServer>[0];

/** Resolves once `condition()` holds; rejects naming `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects naming `what` when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Collects items (copies where a test reads zeroCopy or chunk views, which die with the callback); `done` resolves with
 *  the first `n` of them and rejects after `ms` saying how many came. */
export class Collector<T> {
  readonly items: T[] = [];
  readonly done: Promise<T[]>;
  #resolve!: (items: T[]) => void;
  readonly #n: number;

  constructor(n: number, what: string, ms = 10_000) {
    this.#n = n;
    this.done = within(
      new Promise<T[]>((resolve) => {
        this.#resolve = resolve;
      }),
      `${n} ${what}`,
      ms,
    ).catch((e: Error) => {
      throw new Error(`${e.message} (got ${this.items.length})`);
    });
    this.done.catch(() => {}); // observed by whoever awaits it
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length === this.#n) this.#resolve(this.items.slice());
  }
}

/** Every status event of one nats-xs connection, read from right after connect. */
export class StatusLog {
  readonly events: Status[] = [];

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const s of status(nc)) this.events.push(s);
    })();
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  /** Resolves with the first event of `type` (already seen or to come) after index `from`. */
  async next(type: string, ms = 5000, from = 0): Promise<Status> {
    let found: Status | undefined;
    await until(() => (found = this.events.slice(from).find((e) => e.type === type)) !== undefined, `a "${type}" status (saw ${this.types().join(", ") || "none"})`, ms);
    return found as Status;
  }
}

/** Servers and connections of one test, closed by `cleanup()` in afterEach. */
export class Fixture {
  readonly #servers: ServerHandle[] = [];
  readonly #closers: Array<() => Promise<unknown>> = [];

  async server(options: ServerOptions = {}): Promise<ServerHandle> {
    const s = await startServer({ jetstream: false, ...options });
    this.#servers.push(s);
    return s;
  }

  /** A nats-xs connection with its status log started at once. */
  async xs(options: ConnectionOptions): Promise<{ nc: NatsConnection; status: StatusLog }> {
    const nc = await connect(options);
    const status = new StatusLog(nc);
    this.#closers.push(() => nc.close());
    return { nc, status };
  }

  /** A nats.js connection (the peer). */
  async js(options: JsOptions): Promise<JsConnection> {
    const nc = await natsConnect(options);
    this.#closers.push(() => nc.close());
    return nc;
  }

  /** Closes every connection, then stops every server and waits for its port to be released. */
  async cleanup(): Promise<void> {
    const servers = this.#servers.splice(0);
    // a test may have frozen a server with SIGSTOP: thaw it so that closing and stopping complete
    for (const s of servers) if (s.running && s.pid !== undefined) process.kill(s.pid, "SIGCONT");
    const closers = this.#closers.splice(0);
    await Promise.allSettled(closers.map((close) => within(close(), "a connection to close", 5000)));
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

/** `n` bytes of a repeating, position-dependent pattern (so a shifted or lost chunk shows). */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8) + seed) & 0xff;
  return b;
}

/** Describes the first difference of two byte arrays, or "" when they are equal. */
export function diffBytes(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `first difference at byte ${i}: ${a[i]} vs ${b[i]}`;
  return "";
}
