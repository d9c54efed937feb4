/**
 * Error classes of nats-xs/obj. `name` is set once on each prototype (nameErrors): a preloaded Error.prototype is frozen.
 */

import { nameErrors } from "nats-xs";

/** Base class of the Object Store errors. */
export class ObjectStoreError extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** The bytes read do not hash to the object's digest: raised after the last byte reached the sink. */
export class DigestMismatchError extends ObjectStoreError {
  readonly expected: string;
  readonly computed: string;
  constructor(name: string, expected: string, computed: string) {
    super(`object ${JSON.stringify(name)} is corrupt: its digest is ${expected} but its bytes hash to ${computed}; discard what the sink received`);
    this.expected = expected;
    this.computed = computed;
  }
}

/** No object of that name (or it was deleted). */
export class ObjectNotFoundError extends ObjectStoreError {
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [ObjectStoreError, "ObjectStoreError"],
  [DigestMismatchError, "DigestMismatchError"],
  [ObjectNotFoundError, "ObjectNotFoundError"],
]);
