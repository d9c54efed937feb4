/**
 * Error classes of the Arrow IPC reader (nats-xs/bridge/arrow). They extend the bridge's
 * BridgeError, imported through the bridge's public API so that `instanceof BridgeError` holds
 * across the two modules. `name` is set once on each prototype (nameErrors): a preloaded Error.prototype is frozen on Moddable.
 */
import { BridgeError } from "nats-xs/bridge";
import { nameErrors } from "nats-xs";

/** The Arrow stream is malformed (framing, FlatBuffer offsets, buffer layout). */
export class ArrowFormatError extends BridgeError {
  constructor(why: string) {
    super(`the Arrow IPC stream of a table payload is malformed: ${why}; check the sender's Arrow writer`, "BRIDGE_ARROW_FORMAT");
  }
}

/** The stream uses a type or feature this reader does not decode; `arrowType` names it. */
export class ArrowTypeError extends BridgeError {
  readonly arrowType: string;
  readonly column: string;
  constructor(arrowType: string, column: string) {
    super(
      `Arrow IPC: ${arrowType}${column === "" ? "" : ` (column ${JSON.stringify(column)})`} is not supported on the device; send int8..int64, uint8..uint64, float32, float64, bool, utf8 or timestamp columns, uncompressed and not dictionary-encoded`,
      "BRIDGE_ARROW_TYPE",
    );
    this.arrowType = arrowType;
    this.column = column;
  }
}

/** A bound of the reader was hit (metadata bytes, columns, rows, string bytes). */
export class ArrowLimitError extends BridgeError {
  readonly what: string;
  readonly size: number;
  readonly limit: number;
  constructor(what: string, size: number, limit: number, option: string) {
    super(`the Arrow table's ${what} (${size}) exceeds the limit of ${limit}; raise ${option} in the Arrow reader options`, "BRIDGE_ARROW_LIMIT");
    this.what = what;
    this.size = size;
    this.limit = limit;
  }
}

// `name` on each prototype, set once (see nats-xs's errors.ts)
nameErrors([
  [ArrowFormatError, "ArrowFormatError"],
  [ArrowTypeError, "ArrowTypeError"],
  [ArrowLimitError, "ArrowLimitError"],
]);
