/**
 * Pull consumers: a named one the server keeps (durable or ephemeral made by the manager), and the
 * ordered consumer — an ephemeral the client makes, reads in order, and makes again from the next
 * stream sequence whenever a delivery sequence is skipped or the server forgot it.
 */
import { InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import type { JetStreamApi } from "./api.js";
import { checkToken } from "./api.js";
import { ConsumerMessages, PullMode } from "./messages.js";
import type { ConsumeOptions, PullOptions, PullTarget } from "./messages.js";
import type { JsMsg } from "./jsmsg.js";
import { checkConsumerInfo } from "./types.js";
import type { ConsumerConfig, ConsumerInfo } from "./types.js";
import { randomToken } from "./outbox.js";

/** next(): how long the pull waits at the server for a message. */
export interface NextOptions {
  expires?: number;
}

/** Options of an ordered consumer (nats.js names). */
export interface OrderedConsumerOptions {
  name_prefix?: string;
  filter_subjects?: string | string[];
  deliver_policy?: string;
  opt_start_seq?: number;
  opt_start_time?: string;
  replay_policy?: string;
  /** Nanoseconds of inactivity after which the server removes the consumer (default 5 minutes). */
  inactive_threshold?: number;
  headers_only?: boolean;
}

function checkPullOptions(o: unknown, allowed: readonly string[]): void {
  if (o === undefined) return;
  if (o === null || typeof o !== "object") throw new InvalidArgumentError("pull options must be an object");
  for (const k in o as object) if (allowed.indexOf(k) < 0) throw new InvalidArgumentError(`pull option ${JSON.stringify(k)} is not supported by nats-xs`);
}

const FETCH_KEYS = Object.freeze(["max_messages", "max_bytes", "expires", "idle_heartbeat", "buffer_bytes"]);
const CONSUME_KEYS = Object.freeze(["max_messages", "max_bytes", "expires", "idle_heartbeat", "buffer_bytes", "callback", "threshold_messages"]);
const NEXT_KEYS = Object.freeze(["expires"]);

/** What fetch/consume/next share for both kinds of consumer. */
abstract class PullBase implements PullTarget {
  readonly nc: NatsConnection;
  readonly timeout: number;
  protected readonly api: JetStreamApi;
  readonly stream: string;

  constructor(api: JetStreamApi, stream: string) {
    this.api = api;
    this.nc = api.nc;
    this.timeout = api.options.timeout;
    this.stream = stream;
  }

  abstract nextSubject(): string;
  protected abstract ready(): Promise<void>;

  /** One pull of up to max_messages / max_bytes; the messages end with it. */
  async fetch(opts: PullOptions = {}): Promise<ConsumerMessages> {
    checkPullOptions(opts, FETCH_KEYS);
    await this.ready();
    const m = new ConsumerMessages(this, PullMode.Fetch, opts);
    m.start();
    return m;
  }

  /** Pulls without end, into `callback` or an iterator, until close(). */
  async consume(opts: ConsumeOptions = {}): Promise<ConsumerMessages> {
    checkPullOptions(opts, CONSUME_KEYS);
    await this.ready();
    const m = new ConsumerMessages(this, PullMode.Consume, opts);
    m.start();
    return m;
  }

  /** The next message, or null when none comes within `expires` ms (default 30000). */
  async next(opts: NextOptions = {}): Promise<JsMsg | null> {
    checkPullOptions(opts, NEXT_KEYS);
    const it = await this.fetch({ max_messages: 1, expires: opts.expires ?? 30000 });
    for await (const m of it) return m;
    return null;
  }
}

/** A consumer that exists on the server (js.consumers.get(stream, name)). */
export class PullConsumer extends PullBase {
  readonly name: string;
  private _info: ConsumerInfo;

  constructor(api: JetStreamApi, stream: string, name: string, info: ConsumerInfo) {
    super(api, stream);
    this.name = name;
    this._info = info;
  }

  nextSubject(): string {
    return `${this.api.prefix}.CONSUMER.MSG.NEXT.${this.stream}.${this.name}`;
  }

  protected ready(): Promise<void> {
    return Promise.resolve();
  }

  /** The consumer's info; `cached` returns the last one read without asking the server. */
  async info(cached = false): Promise<ConsumerInfo> {
    if (!cached) this._info = checkConsumerInfo(await this.api.call(`CONSUMER.INFO.${this.stream}.${this.name}`));
    return this._info;
  }

  async delete(): Promise<boolean> {
    const r = await this.api.call(`CONSUMER.DELETE.${this.stream}.${this.name}`);
    return r.success === true;
  }
}

const ORDERED_KEYS = Object.freeze(["name_prefix", "filter_subjects", "deliver_policy", "opt_start_seq", "opt_start_time", "replay_policy", "inactive_threshold", "headers_only"]);

/** An ordered consumer: messages in stream order, exactly once, no acks, no server state kept. */
export class OrderedConsumer extends PullBase {
  private readonly opts: OrderedConsumerOptions;
  private readonly prefix: string;
  private serial = 0;
  private _name = "";
  /** Last delivery and stream sequences handed out. */
  private dseq = 0;
  private sseq = 0;

  constructor(api: JetStreamApi, stream: string, opts: OrderedConsumerOptions) {
    super(api, stream);
    checkPullOptions(opts, ORDERED_KEYS);
    this.opts = opts;
    this.prefix = opts.name_prefix === undefined ? randomToken(12) : checkToken(opts.name_prefix, "name_prefix");
  }

  get name(): string {
    return this._name;
  }

  nextSubject(): string {
    return `${this.api.prefix}.CONSUMER.MSG.NEXT.${this.stream}.${this._name}`;
  }

  /** @internal A message out of order (a skipped delivery sequence) asks for a new consumer. */
  check(m: JsMsg): boolean {
    const info = m.info;
    if (info.deliverySequence !== this.dseq + 1) return false;
    this.dseq = info.deliverySequence;
    this.sseq = info.streamSequence;
    return true;
  }

  /** @internal Makes the server-side consumer again, from the stream sequence after the last one. */
  async restart(): Promise<void> {
    this.ended();
    await this.create();
  }

  /** @internal Removes the server-side consumer (best effort: the server drops it after
   *  inactive_threshold anyway). A later fetch or consume goes on after the last message read. */
  ended(): void {
    const old = this._name;
    this._name = "";
    if (old !== "" && !this.nc.isClosed()) this.api.call(`CONSUMER.DELETE.${this.stream}.${old}`).catch(() => {});
  }

  /** The info of the server-side consumer of the running fetch or consume. */
  async info(): Promise<ConsumerInfo> {
    if (this._name === "") throw new InvalidArgumentError("an ordered consumer has server state only while a fetch or consume runs");
    return checkConsumerInfo(await this.api.call(`CONSUMER.INFO.${this.stream}.${this._name}`));
  }

  protected async ready(): Promise<void> {
    await this.create();
  }

  private async create(): Promise<void> {
    const o = this.opts;
    const name = `${this.prefix}_${++this.serial}`;
    const config: ConsumerConfig = {
      name,
      ack_policy: "none",
      max_deliver: 1,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: o.inactive_threshold ?? 300_000_000_000,
      deliver_policy: o.deliver_policy ?? "all",
    };
    if (o.opt_start_seq !== undefined) config.opt_start_seq = o.opt_start_seq;
    if (o.opt_start_time !== undefined) config.opt_start_time = o.opt_start_time;
    if (o.replay_policy !== undefined) config.replay_policy = o.replay_policy;
    if (o.headers_only !== undefined) config.headers_only = o.headers_only;
    const f = o.filter_subjects;
    if (typeof f === "string") config.filter_subject = f;
    else if (Array.isArray(f) && f.length === 1) config.filter_subject = f[0];
    else if (Array.isArray(f) && f.length > 1) config.filter_subjects = f;
    if (this.sseq > 0) {
      // resume after the last message handed out
      config.deliver_policy = "by_start_sequence";
      config.opt_start_seq = this.sseq + 1;
      delete config.opt_start_time;
    }
    checkConsumerInfo(await this.api.call(`CONSUMER.CREATE.${this.stream}.${name}`, { stream_name: this.stream, config }));
    this._name = name;
    this.dseq = 0;
  }
}

/** js.consumers */
export class Consumers {
  private readonly api: JetStreamApi;
  constructor(api: JetStreamApi) {
    this.api = api;
  }

  /** A named consumer (its info is read, so a missing one fails here with ConsumerNotFoundError),
   *  or, without a name or with options, an ordered consumer. */
  async get(stream: string, name?: string | OrderedConsumerOptions): Promise<PullConsumer | OrderedConsumer> {
    checkToken(stream, "stream name");
    if (name === undefined || typeof name === "object") return new OrderedConsumer(this.api, stream, name ?? {});
    checkToken(name, "consumer name");
    const info = checkConsumerInfo(await this.api.call(`CONSUMER.INFO.${stream}.${name}`));
    if (info.config.deliver_subject !== undefined) throw new InvalidArgumentError(`consumer ${name} is a push consumer; nats-xs reads pull consumers`);
    return new PullConsumer(this.api, stream, name, info);
  }
}
