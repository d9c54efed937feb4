/**
 * nats-xs/services: NATS micro services (ADR-32) on a device, named and shaped as
 * `@nats-io/services` 3.x, so that a backend with @nats-io/services, nats.go's micro package or
 * the `nats micro` CLI finds the device, its endpoints and their stats.
 *
 *   import { Svcm } from "nats-xs/services";
 *   const svc = await new Svcm(nc).add({ name: "sensor", version: "1.0.0", metadata: { site: "lab" } });
 *   svc.addEndpoint("ping", (err, msg) => msg.respond("pong"));
 *   svc.addGroup("cmd").addEndpoint("reboot", { handler: (err, msg) => msg.respondError(409, "busy") });
 */
export { Svcm } from "./svcm.js";
export { Service, ServiceGroup, ServiceResponseType, ServiceVerb } from "./service.js";
export type { EndpointOptions, ServiceConfig, ServiceIdentity, ServiceInfo, ServiceStats } from "./service.js";
export { Endpoint, LAST_ERROR_MAX } from "./endpoint.js";
export type { EndpointInfo, NamedEndpointStats, ServiceHandler } from "./endpoint.js";
export { ServiceMsg } from "./msg.js";
export { ServiceError, ServiceErrorHeader, ServiceErrorCodeHeader } from "./errors.js";
export { validateName, validateVersion } from "./names.js";
