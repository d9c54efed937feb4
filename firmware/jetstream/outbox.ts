/**
 * The outbox: every js.publish() waits here, with its Nats-Msg-Id, until the stream acknowledges
 * it. Publishes made while disconnected wait for the connection; a publish whose ack does not come
 * in time, or is lost with the connection, is sent again with the same id, and the stream's
 * duplicate window turns the repeats into one stored message. The outbox is bounded in bytes: a
 * publish that does not fit is refused with OutboxFullError, never dropped.
 *
 * One wildcard inbox subscription receives every ack; the reply token names the entry, so an ack
 * for any attempt settles it. One repeating timer (running only while entries wait) expires
 * attempts, notices a new connection and sends what waits, at most `maxInFlight` at a time.
 *
 * With a store (the `outboxStore` option), an entry is written to it before publish() returns and
 * lives there, not in RAM: the entry keeps only its key, and each attempt reads it back. Entries
 * the store holds from before (a reboot) are restored when the outbox is made and sent as soon as
 * the connection is up, with their Nats-Msg-Id; only `maxInFlight` of them at a time become
 * entries in RAM, the rest wait as keys (4 bytes each). An entry leaves the store when it is settled (acked
 * or failed for good), never when the connection closes: then it waits for the next boot.
 */
import Timer from "timer";
import type { TimerId } from "timer";
import { BufferFullError, ClosedConnectionError, headers, utf8Length } from "nats-xs";
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "nats-xs";
import { JetStreamResponseError, NoStreamError, OutboxFullError, JetStreamApiError } from "./errors.js";
import { name, optBool, optString, parseReply, uint } from "./json.js";
import type { OutboxStore } from "./store.js";

/** What the stream answers to a stored publish. */
export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
  domain?: string;
}

/** Counters of the outbox (`js.outboxStatus()`). */
export interface OutboxStatus {
  /** Publishes waiting for their ack (sent or not). */
  waiting: number;
  /** Of those, sent and not answered yet. */
  inFlight: number;
  /** Bytes they hold, and the bound. */
  bytes: number;
  maxBytes: number;
  /** Since the start: publishes accepted, acked, acked as duplicates, sent again, failed with an
   *  error to the caller, refused because the outbox was full. */
  published: number;
  acked: number;
  duplicates: number;
  retries: number;
  failed: number;
  refused: number;
  /** Entries restored from the outboxStore when the JetStream context was made (0 without one). */
  restored: number;
  /** Damaged records the outboxStore found then; the replay stopped at the first. */
  corrupt: number;
}

const enum State {
  Queued,
  InFlight,
}

/** A reply JSON larger than this cannot be a PubAck. */
const MAX_ACK_BYTES = 1024;
/** Counted per entry besides its bytes: what the entry, its promise, resolving functions, map
 *  entry and id cost on the chip (about 36 slots of 16 bytes and 150 chunk bytes, measured on XS),
 *  so that outboxBytes bounds the RAM the outbox takes, not only the payloads. */
export const ENTRY_OVERHEAD = 640;
/** Counted per entry restored from a store while it is being sent: it has no promise, and its
 *  bytes stay in the store (measured on XS: see the README's persistent outbox section). */
export const RESTORED_OVERHEAD = 384;
/** How often waiting entries are looked at (expired attempts, a new connection). */
const TICK_MS = 100;

class Entry {
  /** "" for an entry restored from a store (read back with it when needed). */
  readonly subject: string;
  readonly data: Uint8Array | string | undefined;
  /** The headers to send, or just the Nats-Msg-Id when that is all there is: then the headers are
   *  made at each send, as garbage, instead of living as long as the entry waits. */
  readonly headers: MsgHdrs | string;
  readonly size: number;
  /** Milliseconds an attempt waits for its ack. */
  readonly timeout: number;
  /** Null for an entry restored from a store: nobody waits for it. */
  readonly resolve: ((ack: PubAck) => void) | null;
  readonly reject: ((err: Error) => void) | null;
  /** Its key in the store (-1: not stored; subject, data and headers are in the entry). */
  readonly key: number;
  state = State.Queued;
  /** In flight: until when the attempt waits for its ack. Queued: not sent again before then. */
  due = 0;
  attempts = 0;
  /** When the first "no stream" (503) answer came (0: none). */
  noStreamSince = 0;
  /** An attempt went unanswered (timed out, or its connection died): it may be stored already,
   *  so a 503 never fails this entry (that could report as lost a message the stream holds). */
  uncertain = false;

  constructor(subject: string, data: Uint8Array | string | undefined, headers: MsgHdrs | string, size: number, timeout: number, resolve: ((ack: PubAck) => void) | null, reject: ((err: Error) => void) | null, key: number) {
    this.subject = subject;
    this.key = key;
    this.timeout = timeout;
    this.data = data;
    this.headers = headers;
    this.size = size;
    this.resolve = resolve;
    this.reject = reject;
  }
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/** `n` random base-36 characters (XS seeds Math.random from the platform's entropy). */
export function randomToken(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += DIGITS[Math.floor(Math.random() * 36)];
  return s;
}

/** The publishes of one JetStream client waiting for their acks. */
export class Outbox {
  private readonly nc: NatsConnection;
  private readonly limit: number;
  private readonly window: number;
  private readonly noStreamWait: number;
  private readonly store: OutboxStore | null;
  private restored = 0;
  /** Keys of entries the store held from before, in publish order, not yet taken in (null: none
   *  left), and how many were taken. */
  private restoring: ArrayLike<number> | null = null;
  private restoreAt = 0;
  private readonly timeout: number;
  /** Waiting entries by reply token, in the order they were published. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private inFlight = 0;
  private seq = 0;
  private prefix = "";
  private sub: Subscription | null = null;
  private timer: TimerId | null = null;
  /** Reconnections last seen: a change means frames in flight may be lost with the old socket. */
  private reconnects = 0;
  private _idle: (() => void)[] = [];
  private readonly counts = { published: 0, acked: 0, duplicates: 0, retries: 0, failed: 0, refused: 0 };

  constructor(nc: NatsConnection, limit: number, window: number, noStreamWait: number, timeout: number, store: OutboxStore | null) {
    this.nc = nc;
    this.store = store;
    this.timeout = timeout;
    if (store !== null) {
      // what the store holds from before goes out as soon as the connection is up
      const keys = store.open();
      this.restored = keys.length;
      if (keys.length > 0) this.restoring = keys;
      if (this.restored > 0 && !nc.isClosed()) {
        this.subscribe();
        this.startTimer();
      }
    }
    this.noStreamWait = noStreamWait;
    this.limit = limit;
    this.window = window;
  }

  status(): OutboxStatus {
    const c = this.counts;
    return {
      waiting: this.entries.size + this.restoreLeft(),
      inFlight: this.inFlight,
      bytes: this.bytes,
      maxBytes: this.limit,
      published: c.published,
      acked: c.acked,
      duplicates: c.duplicates,
      retries: c.retries,
      failed: c.failed,
      refused: c.refused,
      restored: this.restored,
      corrupt: this.store === null ? 0 : this.store.status().corrupt,
    };
  }

  /** Resolves when nothing waits in the outbox. */
  idle(): Promise<void> {
    if (this.entries.size === 0 && this.restoring === null) return Promise.resolve();
    return new Promise((resolve) => this._idle.push(resolve));
  }

  /** Queues a publish (headers already carry its Nats-Msg-Id); settles with its ack. */
  add(subject: string, data: Uint8Array | string | undefined, headers: MsgHdrs | string, headerBytes: number, timeout: number): Promise<PubAck> {
    if (this.nc.isClosed()) return Promise.reject(new ClosedConnectionError());
    const store = this.store;
    // with a store the bytes live there, and RAM holds only the entry
    const size = store !== null ? ENTRY_OVERHEAD : ENTRY_OVERHEAD + utf8Length(subject) + headerBytes + (data === undefined ? 0 : typeof data === "string" ? utf8Length(data) : data.length);
    if (this.bytes + size > this.limit) return this.refuse(size, this.bytes, this.limit);
    let key = -1;
    let kept = data;
    if (store !== null) {
      try {
        key = store.add(subject, headers, data);
      } catch (err) {
        return Promise.reject(err); // the storage failed: not accepted
      }
      if (key < 0) {
        const s = store.status();
        return this.refuse(s.maxBytes - s.bytes + 1, s.bytes, s.maxBytes);
      }
      kept = undefined;
      headers = "";
    } else if (data instanceof Uint8Array) {
      kept = data.slice(); // a payload the caller may reuse is copied: it must outlive the call until acked
    }
    if (this.sub === null) this.subscribe();
    return new Promise((resolve, reject) => {
      const token = (++this.seq).toString(36);
      this.entries.set(token, new Entry(subject, kept, headers, size, timeout, resolve, reject, key));
      this.bytes += size;
      this.counts.published++;
      this.startTimer();
      this.pump();
    });
  }

  private refuse(size: number, bytes: number, limit: number): Promise<PubAck> {
    this.counts.refused++;
    return Promise.reject(new OutboxFullError(size, this.entries.size, bytes, limit));
  }

  /** Fails everything waiting (the JetStream context or the connection was closed); what a store
   *  holds stays there for the next boot. */
  close(err: Error): void {
    const empty = this.entries.size === 0;
    this.restoring = null; // those not taken in yet stay in the store
    for (const [token, e] of this.entries) this.settle(token, e, err, null, true);
    if (empty) this.checkIdle(); // releases idle() waiters left by restored entries
    if (this.sub !== null && !this.nc.isClosed()) this.sub.unsubscribe();
    this.sub = null;
    this.store?.close();
  }

  private restoreLeft(): number {
    return this.restoring === null ? 0 : this.restoring.length - this.restoreAt;
  }

  /** Takes entries restored from the store in, while fewer than the window wait in RAM. */
  private takeRestored(): void {
    const keys = this.restoring;
    if (keys === null) return;
    while (this.entries.size < this.window && this.restoreAt < keys.length) {
      this.entries.set((++this.seq).toString(36), new Entry("", undefined, "", RESTORED_OVERHEAD, this.timeout, null, null, keys[this.restoreAt++]));
      this.bytes += RESTORED_OVERHEAD;
    }
    if (this.restoreAt === keys.length) this.restoring = null;
  }

  private subscribe(): void {
    const o = this.nc.options as { inboxPrefix?: string } | undefined;
    this.prefix = `${o?.inboxPrefix ?? "_INBOX"}.${randomToken(16)}.`;
    this.sub = this.nc.subscribe(`${this.prefix}*`, { callback: (_err, msg) => this.onReply(msg) });
    this.reconnects = this.nc.stats().reconnects;
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    this.timer = Timer.set(() => this.tick(), TICK_MS, TICK_MS);
  }

  private tick(): void {
    const nc = this.nc;
    if (nc.isClosed()) {
      this.close(new ClosedConnectionError("the connection closed before the JetStream publish was acknowledged"));
      return;
    }
    const reconnects = nc.stats().reconnects;
    const moved = reconnects !== this.reconnects;
    this.reconnects = reconnects;
    const now = Date.now();
    for (const e of this.entries.values()) {
      // on a new connection, whatever was in flight may have died with the old one: send it again
      if (e.state === State.InFlight && (moved || e.due <= now)) {
        e.state = State.Queued;
        e.due = 0;
        e.uncertain = true;
        this.inFlight--;
      }
    }
    this.pump();
  }

  /** Sends queued entries, in order, while connected and the window has room. */
  private pump(): void {
    const nc = this.nc;
    if (nc.getServer() === "" || this.sub === null) return;
    this.takeRestored();
    const now = Date.now();
    for (const [token, e] of this.entries) {
      if (this.inFlight >= this.window) return;
      if (e.state !== State.Queued || e.due > now) continue;
      let subject = e.subject;
      let data = e.data;
      let h = e.headers;
      try {
        if (e.key >= 0) {
          const r = (this.store as OutboxStore).read(e.key);
          subject = r.subject;
          data = r.data;
          h = r.headers;
        } else if (typeof h === "string") {
          const id = h;
          h = headers();
          h.set("Nats-Msg-Id", id);
        }
      } catch (err) {
        this.settle(token, e, err as Error, null); // unreadable: it can never be sent
        continue;
      }
      try {
        nc.publish(subject, data, { reply: this.prefix + token, headers: h });
      } catch (err) {
        if (err instanceof BufferFullError) {
          e.due = now + 100; // the socket is behind: try again shortly
          return;
        }
        this.settle(token, e, err as Error, null); // refused for good (max_payload, closed...)
        continue;
      }
      if (e.attempts++ > 0) this.counts.retries++;
      e.state = State.InFlight;
      e.due = now + e.timeout;
      this.inFlight++;
    }
  }

  private onReply(msg: Msg | null): void {
    if (msg === null) return;
    this.take(msg);
    this.pump();
  }

  private take(msg: Msg): void {
    const token = msg.subject.substring(this.prefix.length);
    const e = this.entries.get(token);
    if (e === undefined) return; // an ack for an attempt already settled
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      // 503: no stream, or a cluster between leaders; only a run lasting a whole timeout is final
      this.retryOrFail(token, e, code === 503 ? new NoStreamError(this.subjectOf(e)) : new JetStreamResponseError(`status ${code} instead of an ack`));
      return;
    }
    let ack: PubAck;
    try {
      const v = parseReply(msg.data, this.nc.decoder, MAX_ACK_BYTES);
      if (v.error !== undefined) {
        const o = v.error as Record<string, unknown>;
        const api = {
          code: typeof o?.code === "number" ? o.code : 0,
          err_code: typeof o?.err_code === "number" ? o.err_code : 0,
          description: typeof o?.description === "string" ? o.description.substring(0, 512) : "",
        };
        const err = new JetStreamApiError(api);
        // 503 in JSON: JetStream is electing a leader or catching up; anything else is final
        if (api.code === 503) this.retryOrFail(token, e, err);
        else this.settle(token, e, err, null);
        return;
      }
      ack = { stream: name(v, "stream", "ack"), seq: uint(v, "seq", "ack"), duplicate: optBool(v, "duplicate", "ack") };
      const domain = optString(v, "domain", "ack");
      if (domain !== undefined) ack.domain = domain;
    } catch (err) {
      this.settle(token, e, err as Error, null);
      return;
    }
    this.settle(token, e, null, ack);
  }

  /** A 503: no stream captures the subject, or (in a cluster) the stream has no leader yet. Only
   *  `noStreamWait` ms of them fail a publish, and never one that may be stored already. */
  private retryOrFail(token: string, e: Entry, err: Error): void {
    const now = Date.now();
    if (e.noStreamSince === 0) e.noStreamSince = now;
    if (!e.uncertain && now - e.noStreamSince >= this.noStreamWait) {
      this.settle(token, e, err, null);
      return;
    }
    if (e.state === State.InFlight) {
      e.state = State.Queued;
      this.inFlight--;
    }
    e.due = now + Math.min(2000, 100 << Math.min(e.attempts, 5));
  }

  /** The subject of an entry, read back from the store for a restored one. */
  private subjectOf(e: Entry): string {
    if (e.subject !== "" || e.key < 0) return e.subject;
    try {
      return (this.store as OutboxStore).read(e.key).subject;
    } catch {
      return "";
    }
  }

  /** Settles an entry; a stored one leaves its store unless `keep` (the connection closed: it is
   *  sent after the next boot). A restored entry has no caller: its outcome is only counted. */
  private settle(token: string, e: Entry, err: Error | null, ack: PubAck | null, keep = false): void {
    if (!this.entries.delete(token)) return;
    this.bytes -= e.size;
    if (e.state === State.InFlight) this.inFlight--;
    if (e.key >= 0 && !keep) {
      try {
        (this.store as OutboxStore).remove(e.key);
      } catch {
        // the storage failed: the entry comes back after a reboot, and the stream's duplicate
        // window turns the repeat into one message
      }
    }
    if (ack !== null) {
      this.counts.acked++;
      if (ack.duplicate) this.counts.duplicates++;
      e.resolve?.(ack);
    } else {
      this.counts.failed++;
      e.reject?.(err as Error);
    }
    this.checkIdle();
  }

  /** Nothing waits any more: stop the timer and resolve idle(). */
  private checkIdle(): void {
    if (this.entries.size > 0 || this.restoring !== null) return;
    if (this.timer !== null) Timer.clear(this.timer);
    this.timer = null;
    const idle = this._idle;
    this._idle = [];
    for (const resolve of idle) resolve();
  }
}
