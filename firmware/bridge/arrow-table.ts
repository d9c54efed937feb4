/**
 * What the Arrow IPC reader (nats-xs/bridge/arrow) delivers: the schema's fields, and columns of
 * record batches in compact forms (typed arrays, UTF-8 bytes with offsets) with accessors.
 */
import TextDecoder from "text/decoder";
import type { ArrowType } from "nats-xs/bridge";

/** Values as delivered: typed arrays for numbers (BigInt64Array / BigUint64Array for int64,
 *  uint64 and timestamps, exact), 0/1 bytes for bool, and for utf8 the UTF-8 bytes of the strings
 *  as Arrow lays them out (with `offsets`; `get(row)` decodes one): a JS array of strings costs a
 *  slot per row on XS (16 bytes on an ESP32, 32 on a 64-bit host), more than the text itself. */
export type ArrowValues =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** One column of one record batch. */
export class ArrowColumnData {
  readonly name: string;
  readonly type: ArrowType;
  /** Timestamps: "s" | "ms" | "us" | "ns". */
  readonly unit: string;
  /** Timestamps: the zone name, "" when zone-less. */
  readonly timezone: string;
  readonly length: number;
  readonly nullCount: number;
  readonly values: ArrowValues;
  /** Arrow's validity bitmap (bit set: a value), null when the column has no nulls. */
  readonly validity: Uint8Array | null;
  /** utf8: where string r is in `values`: bytes offsets[r] to offsets[r + 1]. */
  readonly offsets: Int32Array | null;
  #decoder: TextDecoder | null = null;
  constructor(f: ArrowField, length: number, nullCount: number, values: ArrowValues, validity: Uint8Array | null, offsets: Int32Array | null) {
    this.name = f.name;
    this.type = f.type;
    this.unit = f.unit;
    this.timezone = f.timezone;
    this.length = length;
    this.nullCount = nullCount;
    this.values = values;
    this.validity = validity;
    this.offsets = offsets;
  }
  isNull(row: number): boolean {
    const v = this.validity;
    return v !== null && (v[row >> 3] & (1 << (row & 7))) === 0;
  }
  /** The value of `row` (null where null; bool as true/false). */
  get(row: number): number | bigint | boolean | string | null {
    if (this.isNull(row)) return null;
    const o = this.offsets;
    if (o !== null) {
      if (this.#decoder === null) this.#decoder = new TextDecoder();
      return o[row + 1] === o[row] ? "" : this.#decoder.decode((this.values as Uint8Array).subarray(o[row], o[row + 1]));
    }
    const v = this.values[row];
    return this.type === "bool" ? v === 1 : v;
  }
}

/** A field of the schema. */
export class ArrowField {
  readonly name: string;
  readonly type: ArrowType;
  readonly unit: string;
  readonly timezone: string;
  constructor(name: string, type: ArrowType, unit: string, timezone: string) {
    this.name = name;
    this.type = type;
    this.unit = unit;
    this.timezone = timezone;
  }
}

/** A table read without `onColumn`: the schema and the columns of every record batch. */
export class ArrowTable {
  fields: ArrowField[] = [];
  /** Columns by record batch (one batch from nats-xs, apache-arrow's tableToIPC of one chunk, pyarrow's single-batch writes). */
  batches: ArrowColumnData[][] = [];
  numRows = 0;
  /** The columns of the first record batch. */
  get columns(): ArrowColumnData[] {
    return this.batches.length > 0 ? this.batches[0] : [];
  }
  /** The column named `name` of the first batch, or undefined. */
  column(name: string): ArrowColumnData | undefined {
    for (const c of this.columns) if (c.name === name) return c;
    return undefined;
  }
}
