/**
 * jetstream(nc): publishing with acks through the outbox, and pull consumers (js.consumers).
 */
import { headers, InvalidArgumentError, utf8Length } from "nats-xs";
import type { MsgHdrs, NatsConnection } from "nats-xs";
import { JetStreamApi, resolveJsOptions } from "./api.js";
import type { JetStreamOptions } from "./api.js";
import { Consumers } from "./consumer.js";
import { jetstreamManager } from "./manager.js";
import type { JetStreamManager } from "./manager.js";
import { Outbox, randomToken } from "./outbox.js";
import type { OutboxStatus, PubAck } from "./outbox.js";

/** What the stream must look like for a publish to be stored (nats.js `expect`). */
export interface PublishExpectations {
  /** The stream that must capture the subject. */
  streamName?: string;
  /** The Nats-Msg-Id of the stream's last message. */
  lastMsgID?: string;
  /** The stream's last sequence. */
  lastSequence?: number;
  /** The last sequence of this subject in the stream (0: the subject must have none). */
  lastSubjectSequence?: number;
}

/** Options of js.publish() (nats.js names). */
export interface JetStreamPublishOptions {
  /** Nats-Msg-Id for deduplication; one is made when not given (the outbox needs one). */
  msgID?: string;
  expect?: PublishExpectations;
  headers?: MsgHdrs;
  /** Milliseconds to wait for each attempt's ack before sending again (default: the context's). */
  timeout?: number;
}

const PUBLISH_KEYS = Object.freeze(["msgID", "expect", "headers", "timeout"]);
const EXPECT_KEYS = Object.freeze(["streamName", "lastMsgID", "lastSequence", "lastSubjectSequence"]);

/** Size of a header entry on the wire: "Key: Value\r\n". */
function entryBytes(k: string, v: string): number {
  return utf8Length(k) + utf8Length(v) + 4;
}

function seqValue(v: unknown, what: string): string {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`expect.${what} must be a whole number`);
  return String(v);
}

/** nats.js JetStreamClient: publish with ack, consumers. */
export class JetStreamClient {
  readonly nc: NatsConnection;
  readonly consumers: Consumers;
  private readonly api: JetStreamApi;
  private readonly options: JetStreamOptions;
  private outbox: Outbox | null = null;
  /** Generated message ids: a random prefix per context, then a counter. */
  private readonly idPrefix = randomToken(12);
  private idSeq = 0;

  constructor(nc: NatsConnection, options: JetStreamOptions = {}) {
    const resolved = resolveJsOptions(options);
    this.api = new JetStreamApi(nc, resolved);
    this.options = options;
    this.nc = nc;
    this.consumers = new Consumers(this.api);
    // a store's entries from before are restored now, to go out as soon as the connection is up
    if (resolved.outboxStore !== null) this.outbox = this.newOutbox();
  }

  private newOutbox(): Outbox {
    const r = this.api.options;
    return new Outbox(this.nc, r.outboxBytes, r.maxInFlight, r.noStreamWait, r.timeout, r.outboxStore);
  }

  /** The API prefix in use ("$JS.API", or "$JS.<domain>.API"). */
  get apiPrefix(): string {
    return this.api.prefix;
  }

  /**
   * Publishes to a stream and resolves with its PubAck. The message waits in the outbox until
   * the stream acknowledges it: across disconnects and lost acks it is sent again with the same
   * Nats-Msg-Id, so the stream stores it once (within its duplicate window, 2 minutes by default).
   * With an outboxStore, the entry is written and flushed to the store before publish() returns.
   * A publish is accepted when publish() returns and `outboxStatus().published` has grown: the
   * refusals (invalid arguments, OutboxFullError, a storage error) are decided inside the call and
   * reject the promise without counting it.
   * Rejects with OutboxFullError at once when the outbox has no room, with JetStreamApiError when
   * the stream refuses it (an `expect` not met...), with NoStreamError when no stream captures
   * the subject, and with ClosedConnectionError when the connection closes first.
   */
  publish(subject: string, data?: Uint8Array | string, options?: JetStreamPublishOptions): Promise<PubAck> {
    let h: MsgHdrs | null = null;
    let id = "";
    let hbytes = 12; // "NATS/1.0\r\n" + the final "\r\n"
    let timeout = this.api.options.timeout;
    try {
      if (typeof subject !== "string" || subject.length === 0) throw new InvalidArgumentError("publish needs a subject");
      if (data !== undefined && typeof data !== "string" && !(data instanceof Uint8Array)) throw new InvalidArgumentError("data must be a Uint8Array or a string");
      const o = options ?? {};
      if (o === null || typeof o !== "object") throw new InvalidArgumentError("publish options must be an object");
      for (const k in o) if (PUBLISH_KEYS.indexOf(k) < 0) throw new InvalidArgumentError(`publish option ${JSON.stringify(k)} is not supported by nats-xs`);
      if (o.headers !== undefined) {
        const mine = headers();
        h = mine;
        for (const [k, vs] of o.headers) {
          if (k === "Nats-Msg-Id" && o.msgID !== undefined) continue;
          for (const v of vs) {
            mine.append(k, v);
            hbytes += entryBytes(k, v);
          }
        }
      }
      if (o.timeout !== undefined) {
        if (typeof o.timeout !== "number" || !(o.timeout >= 1)) throw new InvalidArgumentError("timeout must be a positive number of milliseconds");
        timeout = o.timeout;
      }
      if (h === null || !h.has("Nats-Msg-Id")) {
        const given = o.msgID;
        if (given === undefined) id = this.idPrefix + (++this.idSeq).toString(36);
        else if (typeof given !== "string" || given.length === 0) throw new InvalidArgumentError("msgID must be a non-empty string");
        else id = given;
        hbytes += entryBytes("Nats-Msg-Id", id);
      }
      const e = o.expect;
      if (e !== undefined) {
        if (e === null || typeof e !== "object") throw new InvalidArgumentError("expect must be an object");
        for (const k in e) if (EXPECT_KEYS.indexOf(k) < 0) throw new InvalidArgumentError(`expect.${k} is not supported by nats-xs`);
        const mine = h ?? headers();
        h = mine;
        const add = (k: string, v: string): void => {
          mine.set(k, v);
          hbytes += entryBytes(k, v);
        };
        if (e.streamName !== undefined) add("Nats-Expected-Stream", String(e.streamName));
        if (e.lastMsgID !== undefined) add("Nats-Expected-Last-Msg-Id", String(e.lastMsgID));
        if (e.lastSequence !== undefined) add("Nats-Expected-Last-Sequence", seqValue(e.lastSequence, "lastSequence"));
        if (e.lastSubjectSequence !== undefined) add("Nats-Expected-Last-Subject-Sequence", seqValue(e.lastSubjectSequence, "lastSubjectSequence"));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.outbox === null) this.outbox = this.newOutbox();
    // with headers of its own, the id joins them; alone, it is all the entry keeps
    if (h !== null && id !== "") h.set("Nats-Msg-Id", id);
    return this.outbox.add(subject, data, h ?? id, hbytes, timeout);
  }

  /** Counters of the outbox: waiting, in flight, bytes, and totals since the start. */
  outboxStatus(): OutboxStatus {
    if (this.outbox === null) {
      const r = this.api.options;
      return { waiting: 0, inFlight: 0, bytes: 0, maxBytes: r.outboxBytes, published: 0, acked: 0, duplicates: 0, retries: 0, failed: 0, refused: 0, restored: 0, corrupt: 0 };
    }
    return this.outbox.status();
  }

  /** Resolves when every publish made so far has been settled (acked or failed). */
  outboxIdle(): Promise<void> {
    return this.outbox === null ? Promise.resolve() : this.outbox.idle();
  }

  /** A manager with the same options. */
  jetstreamManager(checkAPI = false): Promise<JetStreamManager> {
    return jetstreamManager(this.nc, { ...this.options, checkAPI });
  }
}

/** The JetStream client of `nc` (nats.js `jetstream(nc, opts)`). */
export function jetstream(nc: NatsConnection, options: JetStreamOptions = {}): JetStreamClient {
  return new JetStreamClient(nc, options);
}
