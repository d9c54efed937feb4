/**
 * Request/reply through one wildcard inbox subscription (`<prefix>*`): each request replies to
 * `<prefix><token>`, and the token finds the waiting request. One subscription serves every
 * request, so a request costs a promise, a timer and a map entry, never a SUB/UNSUB pair.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import { NoRespondersError, TimeoutError } from "./errors.js";
import type { Msg } from "./msg.js";

interface PendingRequest {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: TimerId;
  subject: string;
}

export class RequestMux {
  /** `<inboxPrefix>.<nuid>.`: the wildcard subscription is this plus `*`. */
  readonly prefix: string;
  private seq = 0;
  private readonly pending = new Map<string, PendingRequest>();

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Registers a request to `subject`; returns the reply subject to publish it with. It settles
   *  with the reply, NoRespondersError, or TimeoutError after `timeout` ms. */
  add(subject: string, timeout: number, resolve: (msg: Msg) => void, reject: (err: Error) => void): string {
    const token = (++this.seq).toString(36);
    const timer = Timer.set(() => {
      if (this.pending.delete(token)) reject(new TimeoutError(`no reply to the request on ${JSON.stringify(subject)} within ${timeout} ms`));
    }, timeout);
    this.pending.set(token, { resolve, reject, timer, subject });
    return this.prefix + token;
  }

  /** Forgets a request whose publish failed. */
  cancel(reply: string): void {
    const token = reply.substring(this.prefix.length);
    const r = this.pending.get(token);
    if (r === undefined) return;
    Timer.clear(r.timer);
    this.pending.delete(token);
  }

  /** A message on the inbox: settles its request with a copy the caller may keep. */
  settle(msg: Msg): void {
    const token = msg.subject.substring(this.prefix.length);
    const r = this.pending.get(token);
    if (r === undefined) return; // timed out already
    this.pending.delete(token);
    Timer.clear(r.timer);
    const copy = msg.copy();
    if (copy.data.length === 0) {
      const h = copy.headers;
      if (h !== undefined && h.code === 503) return r.reject(new NoRespondersError(r.subject));
    }
    r.resolve(copy);
  }

  /** Fails every waiting request (the connection closed). */
  rejectAll(err: Error): void {
    for (const r of this.pending.values()) {
      Timer.clear(r.timer);
      r.reject(err);
    }
    this.pending.clear();
  }
}
