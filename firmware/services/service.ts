/**
 * A NATS micro service (ADR-32) on a device, shaped as `@nats-io/services` 3.x: endpoints and
 * groups, and the discovery answers to `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` in their three
 * forms (all services, `.<name>`, `.<name>.<id>`).
 *
 * Discovery takes three wildcard subscriptions (`$SRV.*`, `$SRV.*.<name>`, `$SRV.*.<name>.<id>`)
 * where nats.js takes nine, one per verb and form: a subscription costs about 24 slots on XS. A
 * verb other than PING, INFO and STATS gets no answer, as from a nats.js service.
 */
import { checkNames, InvalidArgumentError, MessageTooLargeError, Nuid } from "nats-xs";
import type { Msg, NatsConnection, Subscription } from "nats-xs";
import { clip, Endpoint } from "./endpoint.js";
import type { EndpointInfo, NamedEndpointStats, ServiceHandler } from "./endpoint.js";
import { validateGroup, validateName, validateVersion } from "./names.js";

/** The `type` of each discovery answer. */
export const ServiceResponseType = Object.freeze({
  STATS: "io.nats.micro.v1.stats_response",
  INFO: "io.nats.micro.v1.info_response",
  PING: "io.nats.micro.v1.ping_response",
} as const);

/** The discovery verbs: `$SRV.<verb>[.<name>[.<id>]]`. */
export const ServiceVerb = Object.freeze({ PING: "PING", STATS: "STATS", INFO: "INFO" } as const);

/** Options of Svcm.add() (nats.js `ServiceConfig`). */
export interface ServiceConfig {
  /** The kind of service, shared by its instances: `A-Z a-z 0-9 - _`. */
  name: string;
  /** SemVer 2.0, e.g. "1.0.0". */
  version: string;
  description?: string;
  /** Strings about this instance; frozen once the service is made. */
  metadata?: Record<string, string>;
  /** Queue group of the endpoints (default "q"); "" for none. */
  queue?: string;
  /** Called per endpoint when STATS is asked for; what it returns is the endpoint's `data`. */
  statsHandler?: (endpoint: Endpoint) => unknown;
}

/** Options of addEndpoint() (nats.js `EndpointOptions`). */
export interface EndpointOptions {
  /** Subject below the group (default: the endpoint's name); may hold wildcards. */
  subject?: string;
  /** Without one, read the endpoint with `for await`. */
  handler?: ServiceHandler;
  metadata?: Record<string, string>;
  /** Queue group (default: the group's, then the service's); "" for none. */
  queue?: string;
}

/** What every discovery answer holds. */
export interface ServiceIdentity {
  type: string;
  name: string;
  id: string;
  version: string;
  metadata: Readonly<Record<string, string>>;
}

/** The INFO answer. */
export interface ServiceInfo extends ServiceIdentity {
  description: string;
  endpoints: EndpointInfo[];
}

/** The STATS answer; `started` is an ISO date in UTC. */
export interface ServiceStats extends ServiceIdentity {
  started: string;
  endpoints: NamedEndpointStats[];
}

const CONFIG_OPTIONS = Object.freeze(["name", "version", "description", "metadata", "queue", "statsHandler"]);
const ENDPOINT_OPTIONS = Object.freeze(["subject", "handler", "metadata", "queue"]);
/** Where the verb starts in `$SRV.<verb>...`. */
const VERB_AT = 5;

function ignore(): void {}

/** A frozen copy of caller metadata (strings only), or undefined for none. None is answered as a
 *  fresh `{}`: a shared frozen object would be preloaded into flash, where XS's JSON.stringify
 *  cannot visit it ("read only value"). */
function metadataOf(m: unknown, what: string): Readonly<Record<string, string>> | undefined {
  if (m === undefined) return undefined;
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw new InvalidArgumentError(`${what} metadata must be an object of strings`);
  const out: Record<string, string> = {};
  for (const k in m) {
    if (!Object.prototype.hasOwnProperty.call(m, k)) continue;
    const v = (m as Record<string, unknown>)[k];
    if (typeof v !== "string") throw new InvalidArgumentError(`${what} metadata ${JSON.stringify(k)} must be a string`);
    out[k] = v;
  }
  return Object.freeze(out);
}

function queueOf(q: unknown): string {
  if (typeof q !== "string") throw new InvalidArgumentError('a queue group must be a string ("" for none)');
  return q;
}

/** A subject prefix for endpoints (nats.js `ServiceGroup`); from `addGroup()`. */
export class ServiceGroup {
  private readonly svc: Service;
  /** The prefix ("" at the service's root). */
  readonly subject: string;
  /** The group's queue group; undefined to use the service's. */
  readonly queue: string | undefined;

  /** @internal */
  constructor(svc: Service, subject: string, queue: string | undefined) {
    this.svc = svc;
    this.subject = subject;
    this.queue = queue;
  }

  /** Adds an endpoint on `<group>.<subject or name>`; see Service.addEndpoint(). */
  addEndpoint(name: string, opts?: ServiceHandler | EndpointOptions): Endpoint {
    return this.svc.addIn(this.subject, this.queue, name, opts);
  }

  /** A group below this one: `<group>.<name>`; `queue` as the group's (undefined: this group's). */
  addGroup(name = "", queue?: string): ServiceGroup {
    validateGroup(name);
    return new ServiceGroup(this.svc, this.subject === "" ? name : name === "" ? this.subject : `${this.subject}.${name}`, queue === undefined ? this.queue : queueOf(queue));
  }
}

/** A running service; from `Svcm.add()`. */
export class Service {
  private readonly nc: NatsConnection;
  private readonly _id: string;
  private readonly _name: string;
  private readonly _version: string;
  private readonly _description: string;
  private readonly _metadata: Readonly<Record<string, string>> | undefined;
  private readonly queue: string;
  private readonly statsHandler: ((endpoint: Endpoint) => unknown) | null;
  private started = new Date().toISOString();
  private readonly endpoints: Endpoint[] = [];
  private readonly control: Subscription[] = [];
  private _stopped = false;
  private settled = false;
  private result: Error | null = null;
  private done: Promise<Error | null> | null = null;
  private resolve: ((r: Error | null) => void) | null = null;

  /** @internal Made by Svcm.add(). */
  constructor(nc: NatsConnection, config: ServiceConfig) {
    if (config === null || typeof config !== "object") throw new InvalidArgumentError("Svcm.add() takes a config object: { name, version }");
    checkNames(config, CONFIG_OPTIONS, "Svcm.add()");
    this.nc = nc;
    this._name = validateName("service", config.name);
    this._version = validateVersion(config.version);
    if (config.description !== undefined && typeof config.description !== "string") throw new InvalidArgumentError("description must be a string");
    this._description = config.description ?? "";
    this._metadata = metadataOf(config.metadata, "service");
    this.queue = config.queue === undefined ? "q" : queueOf(config.queue);
    if (this.queue !== "") validateName("queue", this.queue);
    if (config.statsHandler !== undefined && typeof config.statsHandler !== "function") throw new InvalidArgumentError("statsHandler must be a function");
    this.statsHandler = config.statsHandler ?? null;
    this._id = new Nuid().next();
  }

  /** @internal Subscribes to the discovery subjects. */
  start(): Service {
    const callback = (err: Error | null, msg: Msg | null) => this.onControl(err, msg);
    // the payload of a discovery request is never read: no copy of it is made
    try {
      for (const subject of ["$SRV.*", `$SRV.*.${this._name}`, `$SRV.*.${this._name}.${this._id}`])
        this.control.push(this.nc.subscribe(subject, { callback, zeroCopy: true }));
    } catch (e) {
      // no half-made service left listening (a full outbound buffer, a closed connection)
      for (const s of this.control) s.unsubscribe();
      throw e;
    }
    this.nc.closed().then((err) => this.stop(err), ignore);
    return this;
  }

  get id(): string {
    return this._id;
  }
  get name(): string {
    return this._name;
  }
  get version(): string {
    return this._version;
  }
  get description(): string {
    return this._description;
  }
  /** The service's metadata (frozen), undefined when it has none. */
  get metadata(): Readonly<Record<string, string>> | undefined {
    return this._metadata;
  }

  /**
   * Adds an endpoint on `subject` (default: `name`), answered by `handler` (or read with
   * `for await` from what this returns), in the service's queue group unless `queue` says
   * otherwise. A handler that throws (or rejects) is answered with the error headers, code 500
   * (a ServiceError's own code), and counted.
   */
  addEndpoint(name: string, opts?: ServiceHandler | EndpointOptions): Endpoint {
    return this.addIn("", undefined, name, opts);
  }

  /** A group of endpoints under the subject prefix `name`, with its own queue group if given. */
  addGroup(name = "", queue?: string): ServiceGroup {
    validateGroup(name);
    return new ServiceGroup(this, name, queue === undefined ? undefined : queueOf(queue));
  }

  /** @internal addEndpoint() of a group with subject prefix `prefix` and queue `groupQueue`. */
  addIn(prefix: string, groupQueue: string | undefined, name: string, opts: ServiceHandler | EndpointOptions | undefined): Endpoint {
    if (this._stopped) throw new InvalidArgumentError(`service ${this._name} is stopped: make a new one to add endpoints`);
    validateName("endpoint", name);
    let o: EndpointOptions;
    if (typeof opts === "function") o = { handler: opts };
    else if (opts === undefined) o = {};
    else if (opts !== null && typeof opts === "object") {
      checkNames(opts, ENDPOINT_OPTIONS, "addEndpoint()");
      o = opts;
    } else throw new InvalidArgumentError("addEndpoint() takes a handler or an options object");
    const sub = o.subject ?? name;
    if (typeof sub !== "string" || sub === "") throw new InvalidArgumentError("an endpoint subject must be a non-empty string");
    if (o.handler !== undefined && typeof o.handler !== "function") throw new InvalidArgumentError("handler must be a function");
    const queue = queueOf(o.queue ?? groupQueue ?? this.queue);
    const ep = new Endpoint(this, name, prefix === "" ? sub : `${prefix}.${sub}`, queue, metadataOf(o.metadata, "endpoint"), o.handler ?? null);
    ep.sub = this.nc.subscribe(ep.subject, {
      queue: queue === "" ? undefined : queue,
      callback: o.handler === undefined ? undefined : (err, msg) => ep.handle(err, msg),
    });
    this.endpoints.push(ep);
    return ep;
  }

  private onControl(err: Error | null, msg: Msg | null): void {
    if (err !== null) {
      // a discovery request too large to receive is skipped and counted by the core (nc.stats().dropped)
      if (!(err instanceof MessageTooLargeError)) void this.stop(err);
      return;
    }
    const m = msg as Msg;
    const s = m.subject;
    const dot = s.indexOf(".", VERB_AT);
    const verb = dot < 0 ? s.substring(VERB_AT) : s.substring(VERB_AT, dot);
    if (verb === ServiceVerb.PING) m.respond(JSON.stringify(this.ping()));
    else if (verb === ServiceVerb.INFO) m.respond(JSON.stringify(this.info()));
    else if (verb === ServiceVerb.STATS) {
      if (this.statsHandler === null) m.respond(JSON.stringify(this._stats()));
      // a reply that cannot be sent once the handler's data came (connection gone) is the requester's timeout
      else this.stats().then((st) => m.respond(JSON.stringify(st)), ignore);
    }
  }

  private identity(type: string): ServiceIdentity {
    return { type, name: this._name, id: this._id, version: this._version, metadata: this._metadata ?? {} };
  }

  /** The PING answer. */
  ping(): ServiceIdentity {
    return this.identity(ServiceResponseType.PING);
  }

  /** The INFO answer. */
  info(): ServiceInfo {
    const i = this.identity(ServiceResponseType.INFO) as ServiceInfo;
    i.description = this._description;
    i.endpoints = this.endpoints.map((e) => e.info());
    return i;
  }

  private _stats(): ServiceStats {
    const s = this.identity(ServiceResponseType.STATS) as ServiceStats;
    s.started = this.started;
    s.endpoints = this.endpoints.map((e) => e.stats());
    return s;
  }

  /** The STATS answer; with a statsHandler, each endpoint's `data` is what it returned (a
   *  handler that throws counts an error on that endpoint). */
  async stats(): Promise<ServiceStats> {
    const handler = this.statsHandler;
    if (handler !== null) {
      for (const e of this.endpoints) {
        try {
          e.data = await handler(e);
        } catch (err) {
          e.countError(clip(err instanceof Error ? err.message : String(err)));
        }
      }
    }
    return this._stats();
  }

  /** Zeroes the counters of every endpoint; `started` becomes now. */
  reset(): void {
    this.started = new Date().toISOString();
    for (const e of this.endpoints) e.reset();
  }

  get isStopped(): boolean {
    return this._stopped;
  }

  /** Resolves when the service has stopped: with the error that stopped it, or null. */
  get stopped(): Promise<Error | null> {
    if (this.done === null)
      this.done = this.settled
        ? Promise.resolve(this.result)
        : new Promise((resolve) => {
            this.resolve = resolve;
          });
    return this.done;
  }

  /** Drains every subscription of the service (the connection stays open); resolves with `err`
   *  or null once they are drained. The service also stops when its connection closes. */
  stop(err?: Error): Promise<Error | null> {
    if (!this._stopped) {
      this._stopped = true;
      this.result = err ?? null;
      const drains: Promise<void>[] = [];
      if (!this.nc.isClosed()) {
        for (const s of this.control) if (!s.isClosed()) drains.push(s.drain().catch(ignore));
        for (const e of this.endpoints) if (e.sub !== null && !e.sub.isClosed()) drains.push(e.sub.drain().catch(ignore));
      }
      void Promise.all(drains).then(() => {
        this.settled = true;
        if (this.resolve !== null) this.resolve(this.result);
      });
    }
    return this.stopped;
  }
}
