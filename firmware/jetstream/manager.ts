/**
 * jetstreamManager(nc): the part of the JetStream management API a device needs to set up what it
 * uses at first boot — streams and consumers (add is idempotent: the same config again is fine),
 * and direct get for last-value reads. Replies are checked where the device relies on a field; the
 * rest of each info is handed over as the server wrote it (bounded in size and depth when parsed).
 */
import { InvalidArgumentError } from "nats-xs";
import type { Msg, MsgHdrs, NatsConnection } from "nats-xs";
import { checkToken, JetStreamApi, resolveJsOptions } from "./api.js";
import type { JetStreamOptions } from "./api.js";
import { JetStreamResponseError, JetStreamStatusError } from "./errors.js";
import { uint } from "./json.js";
import type { Json } from "./json.js";
import { AckPolicy, checkConsumerInfo, checkStreamInfo } from "./types.js";
import type { ConsumerConfig, ConsumerInfo, StreamConfig, StreamInfo } from "./types.js";

function checkConfig(cfg: unknown, what: string): Json {
  if (cfg === null || typeof cfg !== "object" || Array.isArray(cfg)) throw new InvalidArgumentError(`${what} must be an object`);
  return cfg as Json;
}

/** jsm.streams */
export class Streams {
  private readonly api: JetStreamApi;
  constructor(api: JetStreamApi) {
    this.api = api;
  }

  /** Creates a stream; the same config again returns the existing stream's info. */
  async add(cfg: StreamConfig): Promise<StreamInfo> {
    const c = checkConfig(cfg, "the stream config");
    const n = checkToken(c.name, "stream name");
    return checkStreamInfo(await this.api.call(`STREAM.CREATE.${n}`, c));
  }

  /** Changes a stream: `cfg` is merged over its current config. */
  async update(name: string, cfg: Partial<StreamConfig> = {}): Promise<StreamInfo> {
    checkToken(name, "stream name");
    const c = checkConfig(cfg, "the stream config");
    const current = await this.info(name);
    const merged = { ...current.config, ...c, name };
    return checkStreamInfo(await this.api.call(`STREAM.UPDATE.${name}`, merged));
  }

  async info(name: string): Promise<StreamInfo> {
    checkToken(name, "stream name");
    return checkStreamInfo(await this.api.call(`STREAM.INFO.${name}`));
  }

  async delete(name: string): Promise<boolean> {
    checkToken(name, "stream name");
    return (await this.api.call(`STREAM.DELETE.${name}`)).success === true;
  }

  /** Removes every message of a stream; resolves with how many went. */
  async purge(name: string): Promise<{ success: boolean; purged: number }> {
    checkToken(name, "stream name");
    const r = await this.api.call(`STREAM.PURGE.${name}`);
    return { success: r.success === true, purged: uint(r, "purged", "purge reply") };
  }
}

/** jsm.consumers */
export class ConsumersManager {
  private readonly api: JetStreamApi;
  constructor(api: JetStreamApi) {
    this.api = api;
  }

  /** Creates a consumer: durable when `durable_name` (or `name`) is given, else ephemeral. The
   *  same config again returns the existing consumer's info. */
  async add(stream: string, cfg: ConsumerConfig): Promise<ConsumerInfo> {
    checkToken(stream, "stream name");
    const c = checkConfig(cfg, "the consumer config");
    if (c.durable_name !== undefined && c.name !== undefined && c.durable_name !== c.name) throw new InvalidArgumentError("durable_name and name must be the same");
    const n = (c.durable_name ?? c.name) as string | undefined;
    const config = { ...c };
    if (config.ack_policy === undefined) config.ack_policy = AckPolicy.All;
    const subject = n === undefined ? `CONSUMER.CREATE.${stream}` : `CONSUMER.CREATE.${stream}.${checkToken(n, "consumer name")}`;
    if (n !== undefined && config.name === undefined) config.name = n;
    return checkConsumerInfo(await this.api.call(subject, { stream_name: stream, config }));
  }

  async info(stream: string, name: string): Promise<ConsumerInfo> {
    checkToken(stream, "stream name");
    checkToken(name, "consumer name");
    return checkConsumerInfo(await this.api.call(`CONSUMER.INFO.${stream}.${name}`));
  }

  async delete(stream: string, name: string): Promise<boolean> {
    checkToken(stream, "stream name");
    checkToken(name, "consumer name");
    return (await this.api.call(`CONSUMER.DELETE.${stream}.${name}`)).success === true;
  }
}

/** A message read from a stream (nats.js StoredMsg). `data` and `header` are copies. */
export class StoredMsg {
  readonly subject: string;
  readonly seq: number;
  readonly header: MsgHdrs;
  readonly data: Uint8Array;
  readonly timestamp: string;
  readonly stream: string;
  private readonly msg: Msg;

  constructor(msg: Msg, h: MsgHdrs) {
    this.msg = msg;
    this.header = h;
    this.data = msg.data;
    this.subject = h.get("Nats-Subject");
    this.stream = h.get("Nats-Stream");
    this.timestamp = h.get("Nats-Time-Stamp");
    const seq = Number(h.get("Nats-Sequence"));
    if (this.subject === "" || !Number.isSafeInteger(seq) || seq < 1) throw new JetStreamResponseError("a direct get reply lacks Nats-Subject or a valid Nats-Sequence");
    this.seq = seq;
  }
  get time(): Date {
    return new Date(this.timestamp);
  }
  string(): string {
    return this.msg.string();
  }
  json<T = unknown>(): T {
    return this.msg.json<T>();
  }
}

/** What direct get takes: a sequence, or the last message of a subject. */
export interface DirectMsgRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
}

/** jsm.direct: reads of streams made with allow_direct, answered by any replica, no consumer. */
export class DirectStreamAPI {
  private readonly api: JetStreamApi;
  constructor(api: JetStreamApi) {
    this.api = api;
  }

  /** The message asked for, or null when the stream has none such. */
  async getMessage(stream: string, query: DirectMsgRequest): Promise<StoredMsg | null> {
    checkToken(stream, "stream name");
    const q = checkConfig(query, "the direct get query");
    for (const k in q) if (k !== "seq" && k !== "last_by_subj" && k !== "next_by_subj") throw new InvalidArgumentError(`direct get option ${JSON.stringify(k)} is not supported by nats-xs`);
    if (q.seq === undefined && q.last_by_subj === undefined) throw new InvalidArgumentError("direct get needs seq or last_by_subj");
    const api = this.api;
    const msg = await api.nc.request(`${api.prefix}.DIRECT.GET.${stream}`, JSON.stringify(q), { timeout: api.options.timeout });
    const h = msg.headers;
    if (h === undefined) throw new JetStreamResponseError("a direct get reply has no headers");
    if (h.code === 404) return null;
    if (h.code !== 0) throw new JetStreamStatusError(h.code, h.description);
    return new StoredMsg(msg, h);
  }
}

/** nats.js JetStreamManager: streams, consumers, direct get. */
export class JetStreamManager {
  readonly streams: Streams;
  readonly consumers: ConsumersManager;
  readonly direct: DirectStreamAPI;
  private readonly api: JetStreamApi;

  constructor(nc: NatsConnection, options: JetStreamOptions = {}) {
    const api = new JetStreamApi(nc, resolveJsOptions(options));
    this.api = api;
    this.streams = new Streams(api);
    this.consumers = new ConsumersManager(api);
    this.direct = new DirectStreamAPI(api);
  }

  /** The account's JetStream usage and limits ($JS.API.INFO), as the server wrote them. */
  getAccountInfo(): Promise<Json> {
    return this.api.call("INFO");
  }
}

/** The JetStream manager of `nc`; checks that JetStream answers unless `checkAPI` is false. */
export async function jetstreamManager(nc: NatsConnection, options: JetStreamOptions = {}): Promise<JetStreamManager> {
  const jsm = new JetStreamManager(nc, options);
  if (options.checkAPI !== false) await jsm.getAccountInfo();
  return jsm;
}
