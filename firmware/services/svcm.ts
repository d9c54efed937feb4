/**
 * Svcm: makes services on a connection (nats.js `Svcm`).
 */
import { InvalidArgumentError } from "nats-xs";
import type { NatsConnection } from "nats-xs";
import { Service } from "./service.js";
import type { ServiceConfig } from "./service.js";

export class Svcm {
  private readonly nc: NatsConnection;

  constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  /** Makes and starts a service: it answers discovery at once; add its endpoints next. Rejects
   *  with InvalidArgumentError for a bad name, a version that is not SemVer or an unknown option. */
  async add(config: ServiceConfig): Promise<Service> {
    return new Service(this.nc, config).start();
  }

  /** nats.js's discovery client is a backend's tool: nats-xs has none. */
  client(): never {
    throw new InvalidArgumentError("nats-xs/services has no service client: discover services from a backend with @nats-io/services, or request $SRV.PING / $SRV.INFO / $SRV.STATS with nc.request()");
  }
}
