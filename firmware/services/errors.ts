/**
 * Errors of nats-xs/services, and the ADR-32 error headers. `name` is set once on each prototype
 * (nameErrors): a preloaded Error.prototype is frozen.
 */
import type { Msg } from "nats-xs";
import { nameErrors } from "nats-xs";

/** Header that carries a service error's description (ADR-32). */
export const ServiceErrorHeader = "Nats-Service-Error";
/** Header that carries a service error's code, always a number (ADR-32). */
export const ServiceErrorCodeHeader = "Nats-Service-Error-Code";

/**
 * An error a service answers with: a handler that throws one is answered with its `code` (any
 * other error is answered with 500), and a requester turns an answer back into one with
 * `ServiceError.toServiceError(msg)`, as in nats.js.
 */
export class ServiceError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }

  /** True when `msg` is a service's error answer. */
  static isServiceError(msg: Msg): boolean {
    return ServiceError.toServiceError(msg) !== null;
  }

  /** The error a service answered with, or null when `msg` is not an error answer. */
  static toServiceError(msg: Msg): ServiceError | null {
    const h = msg.headers;
    const code = h === undefined ? "" : h.get(ServiceErrorCodeHeader);
    if (code === "") return null;
    const description = (h as NonNullable<typeof h>).get(ServiceErrorHeader);
    return new ServiceError(parseInt(code, 10) || 400, description === "" ? code : description);
  }
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [ServiceError, "ServiceError"],
]);
