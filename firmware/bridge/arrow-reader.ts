/**
 * nats-xs/bridge/arrow: a streaming Apache Arrow IPC stream reader for the column types the writer
 * (arrow.ts) supports: int8..int64, uint8..uint64, float32, float64, bool, utf8 and timestamp,
 * with nulls.
 *
 * It is a PayloadSink: the IPC bytes arrive a view at a time (decoded base64 of a direct payload,
 * or a link download) and are turned into column values as they pass; the stream itself is never
 * held. What it holds: the 8-byte message prefix, the current message's metadata (a FlatBuffer of
 * at most max_metadata_bytes) and the values decoded so far (a utf8 column as its UTF-8 bytes and
 * offsets, strings decoded one at a time by `get`). With `onColumn`, each column is handed over as
 * soon as its last buffer has passed and is not kept; without it the columns are collected into an
 * ArrowTable, the payload's `data`.
 *
 * Everything read from the stream is hostile: offsets inside the metadata are checked against its
 * length, and the metadata length, column count, row count and string bytes have bounds; a bound
 * hit or a malformed message is a typed error (ArrowFormatError, ArrowLimitError), a type this
 * reader does not decode an ArrowTypeError that names it.
 *
 * A module of its own (dist/nats-xs-bridge-arrow.js, manifests/nats-xs-bridge-arrow): an app that
 * never reads Arrow on the device does not carry it. It reaches the bridge through its public API.
 */
import TextDecoder from "text/decoder";
import { InvalidArgumentError } from "nats-xs";
import { arrowWidth } from "nats-xs/bridge";
import type { ArrowType, MessageEnvelope, MessagePayload, PayloadSink, SinkFactory } from "nats-xs/bridge";
import { ArrowFormatError, ArrowLimitError, ArrowTypeError } from "./arrow-errors.js";
import { FlatBufferReader as Fb } from "./flatbuffer.js";
import { ArrowColumnData, ArrowField, ArrowTable } from "./arrow-table.js";
import type { ArrowValues } from "./arrow-table.js";

export { ArrowFormatError, ArrowLimitError, ArrowTypeError } from "./arrow-errors.js";
export { ArrowColumnData, ArrowField, ArrowTable } from "./arrow-table.js";
export type { ArrowValues } from "./arrow-table.js";

export interface ArrowReaderOptions {
  /** Each column of each record batch, as soon as it is complete; the reader keeps none. */
  onColumn?: (column: ArrowColumnData, batch: number) => void;
  /** Largest metadata FlatBuffer of one message, in bytes (default 8192). */
  max_metadata_bytes?: number;
  /** Most columns (default 64). */
  max_columns?: number;
  /** Most rows of one record batch (default 4096). */
  max_rows?: number;
  /** Most string bytes of one utf8 column of one batch (default 65536). */
  max_string_bytes?: number;
}

function bound(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return v;
}

/** Arrow's type ids (Schema.fbs), for error messages. */
const TYPE_NAMES: readonly string[] = Object.freeze([
  "NONE", "Null", "Int", "FloatingPoint", "Binary", "Utf8", "Bool", "Decimal", "Date", "Time", "Timestamp", "Interval",
  "List", "Struct", "Union", "FixedSizeBinary", "FixedSizeList", "Map", "Duration", "LargeBinary", "LargeUtf8", "LargeList",
  "RunEndEncoded", "BinaryView", "Utf8View", "ListView", "LargeListView",
]);
const UNIT_NAMES: readonly string[] = Object.freeze(["s", "ms", "us", "ns"]);

const enum Kind {
  Validity,
  Values,
  Bits,
  Offsets,
  Chars,
}

const enum St {
  Prefix,
  Meta,
  Body,
  Done,
}

function valuesFor(t: ArrowType, rows: number): ArrowValues {
  switch (t) {
    case "int8":
      return new Int8Array(rows);
    case "int16":
      return new Int16Array(rows);
    case "int32":
      return new Int32Array(rows);
    case "uint8":
    case "bool":
    case "utf8":
      return new Uint8Array(rows); // utf8: replaced by the character buffer when its size is known
    case "uint16":
      return new Uint16Array(rows);
    case "uint32":
      return new Uint32Array(rows);
    case "uint64":
      return new BigUint64Array(rows);
    case "float32":
      return new Float32Array(rows);
    case "float64":
      return new Float64Array(rows);
    default:
      return new BigInt64Array(rows); // int64, timestamp
  }
}

/** The streaming reader (see the file comment). One instance reads one IPC stream. */
export class ArrowReader implements PayloadSink {
  private readonly onColumn: ((column: ArrowColumnData, batch: number) => void) | null;
  private readonly maxMeta: number;
  private readonly maxColumns: number;
  private readonly maxRows: number;
  private readonly maxString: number;
  private readonly decoder = new TextDecoder();
  private readonly _table = new ArrowTable();

  private st = St.Prefix;
  private readonly prefix = new Uint8Array(8);
  private prefixN = 0;
  private meta: Uint8Array | null = null;
  private metaN = 0;
  private bodyLen = 0;
  private bodyPos = 0;
  private hasSchema = false;
  private batchIndex = 0;

  // the record batch in progress
  private rows = 0;
  private batch: ArrowColumnData[] = [];
  private nulls: number[] = [];
  /** Per body buffer: offset, length, column, kind. */
  private bufOff: number[] = [];
  private bufLen: number[] = [];
  private bufCol: number[] = [];
  private bufKind: Kind[] = [];
  private bi = 0;
  // per column of the batch, while its buffers pass
  private values: ArrowValues | null = null;
  private validity: Uint8Array | null = null;
  private offsets: Int32Array | null = null;

  constructor(options: ArrowReaderOptions = {}) {
    if (options.onColumn !== undefined && typeof options.onColumn !== "function") throw new InvalidArgumentError("onColumn must be a function");
    this.onColumn = options.onColumn ?? null;
    this.maxMeta = bound(options.max_metadata_bytes, 8192, "max_metadata_bytes");
    this.maxColumns = bound(options.max_columns, 64, "max_columns");
    this.maxRows = bound(options.max_rows, 4096, "max_rows");
    this.maxString = bound(options.max_string_bytes, 65536, "max_string_bytes");
  }

  /** The table read so far (complete after end()); without onColumn it holds every batch. */
  get table(): ArrowTable {
    return this._table;
  }

  /** Reads the next bytes of the stream (a view valid during the call only). */
  write(bytes: Uint8Array): void {
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      switch (this.st) {
        case St.Prefix: {
          const take = Math.min(n - i, (this.prefixN < 4 || this.isContinuation() ? 8 : 4) - this.prefixN);
          this.prefix.set(bytes.subarray(i, i + take), this.prefixN);
          this.prefixN += take;
          i += take;
          this.onPrefix();
          break;
        }
        case St.Meta: {
          const meta = this.meta as Uint8Array;
          const take = Math.min(n - i, meta.length - this.metaN);
          meta.set(bytes.subarray(i, i + take), this.metaN);
          this.metaN += take;
          i += take;
          if (this.metaN === meta.length) this.onMessage();
          break;
        }
        case St.Body:
          i = this.body(bytes, i, n);
          break;
        case St.Done:
          throw new ArrowFormatError("bytes after the end-of-stream marker");
      }
    }
  }

  /** The stream ended: checks it ended between messages. Sets `payload.data` to the table. */
  end(payload?: MessagePayload): void {
    if (this.st !== St.Done && !(this.st === St.Prefix && this.prefixN === 0)) throw new ArrowFormatError("the stream ends inside a message");
    if (!this.hasSchema) throw new ArrowFormatError("the stream has no schema");
    this.st = St.Done;
    if (payload !== undefined) payload.data = this._table;
  }

  abort(): void {
    this.st = St.Done;
    this.batch = [];
    this.values = null;
  }

  // ---- framing ---------------------------------------------------------------------------------

  private isContinuation(): boolean {
    const p = this.prefix;
    return p[0] === 255 && p[1] === 255 && p[2] === 255 && p[3] === 255;
  }

  private onPrefix(): void {
    if (this.prefixN < 4) return;
    const cont = this.isContinuation();
    if (cont && this.prefixN < 8) return;
    const p = this.prefix;
    const at = cont ? 4 : 0; // the format before Arrow 0.15 has no continuation marker
    const len = p[at] | (p[at + 1] << 8) | (p[at + 2] << 16) | (p[at + 3] << 24);
    this.prefixN = 0;
    if (len === 0) {
      this.st = St.Done;
      return;
    }
    if (len < 0) throw new ArrowFormatError(`a negative metadata length (${len})`);
    if (len > this.maxMeta) throw new ArrowLimitError("metadata of one message", len, this.maxMeta, "max_metadata_bytes");
    this.meta = new Uint8Array(len);
    this.metaN = 0;
    this.st = St.Meta;
  }

  /** A whole metadata FlatBuffer (Message.fbs) has arrived. */
  private onMessage(): void {
    const fb = new Fb(this.meta as Uint8Array);
    const root = fb.ref(0);
    const version = fb.scalar16(root, 0, 0);
    if (version < 3) throw new ArrowTypeError(`metadata version V${version + 1} (before V4)`, "");
    const kind = fb.scalar8(root, 1, 0);
    const header = fb.table(root, 2);
    const f = fb.field(root, 3);
    this.bodyLen = f === 0 ? 0 : fb.i64(f);
    this.bodyPos = 0;
    if (header === 0) throw new ArrowFormatError("a message without a header");
    if (kind === 1) this.schema(fb, header);
    else if (kind === 3) this.recordBatch(fb, header);
    else if (kind === 2) throw new ArrowTypeError("a dictionary batch (dictionary-encoded columns)", "");
    else throw new ArrowTypeError(`message header type ${kind}`, "");
    this.meta = null;
    if (kind === 1) {
      if (this.bodyLen !== 0) throw new ArrowFormatError("a schema message with a body");
      this.st = St.Prefix;
      return;
    }
    this.st = St.Body;
    if (this.bodyLen === 0) this.finishBatch();
  }

  private schema(fb: Fb, schema: number): void {
    if (this.hasSchema) throw new ArrowFormatError("a second schema");
    if (fb.scalar16(schema, 0, 0) !== 0) throw new ArrowTypeError("big-endian data", "");
    const [n, at] = fb.vector(schema, 1, 4);
    if (n > this.maxColumns) throw new ArrowLimitError("column count", n, this.maxColumns, "max_columns");
    if (n === 0) throw new ArrowFormatError("a schema without columns");
    for (let k = 0; k < n; k++) {
      const field = fb.ref(at + 4 * k);
      const name = fb.string(field, 0, this.decoder);
      const typeId = fb.scalar8(field, 2, 0);
      const type = fb.table(field, 3);
      if (fb.field(field, 4) !== 0) throw new ArrowTypeError("a dictionary-encoded column", name);
      if (fb.vector(field, 5, 4)[0] !== 0) throw new ArrowTypeError(`${TYPE_NAMES[typeId] ?? `type ${typeId}`} (a nested type)`, name);
      this._table.fields.push(this.field(fb, name, typeId, type));
    }
    this.hasSchema = true;
  }

  private field(fb: Fb, name: string, typeId: number, type: number): ArrowField {
    const named = TYPE_NAMES[typeId] ?? `type ${typeId}`;
    if (typeId === 2) {
      if (type === 0) throw new ArrowFormatError(`column ${JSON.stringify(name)} has no Int parameters`);
      const f = fb.field(type, 0);
      const bits = f === 0 ? 0 : fb.i32(f);
      const signed = fb.scalar8(type, 1, 0) !== 0;
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) throw new ArrowTypeError(`Int of ${bits} bits`, name);
      return new ArrowField(name, `${signed ? "int" : "uint"}${bits}` as ArrowType, "", "");
    }
    if (typeId === 3) {
      const precision = type === 0 ? 0 : fb.scalar16(type, 0, 0);
      if (precision === 1) return new ArrowField(name, "float32", "", "");
      if (precision === 2) return new ArrowField(name, "float64", "", "");
      throw new ArrowTypeError("FloatingPoint HALF (float16)", name);
    }
    if (typeId === 5) return new ArrowField(name, "utf8", "", "");
    if (typeId === 6) return new ArrowField(name, "bool", "", "");
    if (typeId === 10) {
      const unit = type === 0 ? 0 : fb.scalar16(type, 0, 0);
      if (unit > 3) throw new ArrowFormatError(`column ${JSON.stringify(name)} has timestamp unit ${unit}`);
      return new ArrowField(name, "timestamp", UNIT_NAMES[unit], type === 0 ? "" : fb.string(type, 1, this.decoder));
    }
    throw new ArrowTypeError(named, name);
  }

  private recordBatch(fb: Fb, rb: number): void {
    if (!this.hasSchema) throw new ArrowFormatError("a record batch before the schema");
    const fields = this._table.fields;
    const lf = fb.field(rb, 0);
    const rows = lf === 0 ? 0 : fb.i64(lf);
    if (rows > this.maxRows) throw new ArrowLimitError("row count of a record batch", rows, this.maxRows, "max_rows");
    if (fb.field(rb, 3) !== 0) throw new ArrowTypeError("a compressed record batch (LZ4 or ZSTD buffers)", "");
    const [nNodes, nodes] = fb.vector(rb, 1, 16);
    const [nBufs, bufs] = fb.vector(rb, 2, 16);
    if (nNodes !== fields.length) throw new ArrowFormatError(`${nNodes} field nodes for ${fields.length} columns`);
    let want = 0;
    for (const f of fields) want += f.type === "utf8" ? 3 : 2;
    if (nBufs !== want) throw new ArrowFormatError(`${nBufs} buffers where the schema needs ${want}`);
    this.rows = rows;
    this.batch = [];
    this.nulls = [];
    this.bufOff = [];
    this.bufLen = [];
    this.bufCol = [];
    this.bufKind = [];
    this.bi = 0;
    let b = 0;
    let end = 0;
    for (let k = 0; k < fields.length; k++) {
      const length = fb.i64(nodes + 16 * k);
      const nulls = fb.i64(nodes + 16 * k + 8);
      if (length !== rows || nulls > rows) throw new ArrowFormatError(`column ${JSON.stringify(fields[k].name)} has ${length} values and ${nulls} nulls in a batch of ${rows} rows`);
      this.nulls.push(nulls);
      const t = fields[k].type;
      const kinds = t === "utf8" ? [Kind.Validity, Kind.Offsets, Kind.Chars] : [Kind.Validity, t === "bool" ? Kind.Bits : Kind.Values];
      for (const kind of kinds) {
        const off = fb.i64(bufs + 16 * b);
        const len = fb.i64(bufs + 16 * b + 8);
        b++;
        if (off < end || off + len > this.bodyLen) throw new ArrowFormatError(`buffer ${b - 1} (offset ${off}, ${len} bytes) overlaps another or leaves the ${this.bodyLen}-byte body`);
        end = off + len;
        this.need(kind, len, k, rows, nulls);
        this.bufOff.push(off);
        this.bufLen.push(len);
        this.bufCol.push(k);
        this.bufKind.push(kind);
      }
    }
    this.openColumn(0);
  }

  /** Checks a buffer's length against what its column needs. */
  private need(kind: Kind, len: number, k: number, rows: number, nulls: number): void {
    const f = this._table.fields[k];
    let min = 0;
    if (kind === Kind.Validity) min = nulls > 0 ? (rows + 7) >> 3 : 0;
    else if (kind === Kind.Values) min = rows * arrowWidth(f.type);
    else if (kind === Kind.Bits) min = (rows + 7) >> 3;
    else if (kind === Kind.Offsets) min = rows > 0 ? 4 * (rows + 1) : 0;
    else if (len > this.maxString) throw new ArrowLimitError(`string bytes of column ${JSON.stringify(f.name)}`, len, this.maxString, "max_string_bytes");
    if (len < min) throw new ArrowFormatError(`a buffer of column ${JSON.stringify(f.name)} holds ${len} bytes where ${min} are needed`);
  }

  // ---- the body, streamed ----------------------------------------------------------------------

  private body(bytes: Uint8Array, i: number, n: number): number {
    while (i < n) {
      const bi = this.bi;
      if (bi >= this.bufOff.length) {
        // padding after the last buffer
        const skip = Math.min(n - i, this.bodyLen - this.bodyPos);
        i += skip;
        this.bodyPos += skip;
        if (this.bodyPos === this.bodyLen) this.finishBatch();
        return i;
      }
      const off = this.bufOff[bi];
      const end = off + this.bufLen[bi];
      if (this.bodyPos < off) {
        const skip = Math.min(n - i, off - this.bodyPos);
        i += skip;
        this.bodyPos += skip;
        continue;
      }
      const take = Math.min(n - i, end - this.bodyPos);
      if (take > 0) this.feed(this.bufKind[bi], bytes, i, i + take, this.bodyPos - off);
      i += take;
      this.bodyPos += take;
      if (this.bodyPos === end) this.nextBuffer();
    }
    if (this.bi >= this.bufOff.length && this.bodyPos === this.bodyLen && this.st === St.Body) this.finishBatch();
    return i;
  }

  /** Bytes [i, j) of the current buffer, at `at` within it. */
  private feed(kind: Kind, b: Uint8Array, i: number, j: number, at: number): void {
    switch (kind) {
      case Kind.Validity: {
        const v = this.validity;
        if (v === null) return; // no nulls: the bitmap (if any) says nothing
        for (; i < j && at < v.length; i++, at++) v[at] = b[i];
        return;
      }
      case Kind.Values:
      case Kind.Chars: {
        const v = this.values as ArrowValues;
        const raw = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        if (at < raw.length) raw.set(b.subarray(i, Math.min(j, i + raw.length - at)), at);
        return;
      }
      case Kind.Bits: {
        const v = this.values as Uint8Array;
        const rows = this.rows;
        for (; i < j; i++, at++) {
          const byte = b[i];
          for (let bit = 0; bit < 8; bit++) {
            const r = 8 * at + bit;
            if (r < rows) v[r] = (byte >> bit) & 1;
          }
        }
        return;
      }
      case Kind.Offsets: {
        const o = this.offsets as Int32Array;
        const raw = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
        if (at < raw.length) raw.set(b.subarray(i, Math.min(j, i + raw.length - at)), at);
        return;
      }
    }
  }

  /** Prepares the values of column `k` (its first buffer is next). */
  private openColumn(k: number): void {
    if (k >= this._table.fields.length) return;
    const f = this._table.fields[k];
    const rows = this.rows;
    this.values = valuesFor(f.type, rows);
    this.validity = this.nulls[k] > 0 ? new Uint8Array((rows + 7) >> 3) : null;
    this.offsets = f.type === "utf8" ? new Int32Array(rows + 1) : null;
    if (this.bufLen[this.bi] === 0 && this.bodyPos >= this.bufOff[this.bi]) this.nextBuffer();
  }

  /** The current buffer is complete. */
  private nextBuffer(): void {
    for (;;) {
      const bi = this.bi;
      const k = this.bufCol[bi];
      const kind = this.bufKind[bi];
      if (kind === Kind.Offsets) {
        this.checkOffsets(k, this.bufLen[bi + 1]);
        this.values = new Uint8Array(this.bufLen[bi + 1]); // bounded by max_string_bytes (#need)
      }
      this.bi++;
      const last = this.bi >= this.bufOff.length || this.bufCol[this.bi] !== k;
      if (last) {
        this.closeColumn(k);
        if (this.bi < this.bufOff.length) {
          this.openColumn(k + 1);
          return;
        }
      }
      // an empty next buffer at the current position completes at once
      if (this.bi >= this.bufOff.length || this.bufLen[this.bi] !== 0 || this.bodyPos < this.bufOff[this.bi]) return;
    }
  }

  private checkOffsets(k: number, charBytes: number): void {
    const o = this.offsets as Int32Array;
    const rows = this.rows;
    if (rows === 0) return;
    if (o[0] < 0) throw new ArrowFormatError(`column ${JSON.stringify(this._table.fields[k].name)} has a negative string offset`);
    for (let r = 0; r < rows; r++)
      if (o[r + 1] < o[r]) throw new ArrowFormatError(`column ${JSON.stringify(this._table.fields[k].name)} has decreasing string offsets at row ${r}`);
    if (o[rows] > charBytes) throw new ArrowFormatError(`column ${JSON.stringify(this._table.fields[k].name)} has strings past its ${charBytes} character bytes`);
  }

  private closeColumn(k: number): void {
    const f = this._table.fields[k];
    const offsets = this.rows > 0 ? this.offsets : f.type === "utf8" ? new Int32Array(1) : null;
    const column = new ArrowColumnData(f, this.rows, this.nulls[k], this.values as ArrowValues, this.validity, offsets);
    this.values = null;
    this.validity = null;
    this.offsets = null;
    if (this.onColumn !== null) this.onColumn(column, this.batchIndex);
    else this.batch.push(column);
  }

  private finishBatch(): void {
    if (this.bi < this.bufOff.length) throw new ArrowFormatError("a record batch ends before its buffers");
    this._table.numRows += this.rows;
    if (this.onColumn === null) this._table.batches.push(this.batch); // else handed over one by one
    this.batchIndex++;
    this.batch = [];
    this.st = St.Prefix;
  }
}

/**
 * A receive `sink` that reads Arrow table payloads (direct or by link) with an ArrowReader as their
 * bytes arrive: `payload.data` becomes an ArrowTable. Other payloads go to `next` (or are
 * collected as usual).
 */
export function arrowColumns(options: ArrowReaderOptions & { next?: SinkFactory } = {}): SinkFactory {
  return (p: MessagePayload, env: MessageEnvelope) => {
    if (p.type === "table" && p.format === "arrow") return new ArrowReader(options);
    return options.next === undefined ? undefined : options.next(p, env);
  };
}
