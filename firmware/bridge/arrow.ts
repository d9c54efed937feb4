/**
 * A small Apache Arrow IPC stream writer (format version V5) for tables of primitive columns:
 * integers of 8 to 64 bits, floats, booleans, UTF-8 strings and timestamps, with nulls. Enough for a
 * sensor to send a batch of readings as a `table` payload that `apache-arrow` (or pyarrow, or
 * Arrow.jl) reads on the host.
 *
 * The stream is: a Schema message, one RecordBatch message, and the end-of-stream marker. Each
 * message is the 0xFFFFFFFF continuation, the metadata length, a FlatBuffer (Message.fbs,
 * Schema.fbs) padded to 8 bytes, then the body. The FlatBuffers are written front to back (root
 * first, every child after its parent, so that unsigned offsets point forward and vtables sit just
 * before their tables) by the few lines below rather than a FlatBuffers library.
 *
 * Size first, then write: the body layout and the metadata are computed, then the whole stream is
 * written into one array of the exact size. Memory: that array, plus about 1 KB of metadata.
 */
import TextEncoder from "text/encoder";
import { InvalidArgumentError, utf8Length } from "nats-xs";

/** Column types the writer supports. */
export type ArrowType =
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float32"
  | "float64"
  | "bool"
  | "utf8"
  | "timestamp";

/** One column: `values` may hold null (or undefined) for missing values. */
export interface ArrowColumn {
  name: string;
  type: ArrowType;
  values: ArrayLike<number | bigint | boolean | string | Date | null | undefined>;
  /** Timestamps: unit of the numbers given (Dates are converted), default "ms". */
  unit?: "s" | "ms" | "us" | "ns";
  /** Timestamps: time zone name (e.g. "UTC"); without it the timestamps are zone-less. */
  timezone?: string;
}

/** [bit width, signed] of the integer types. */
const INTS: Readonly<Record<string, readonly [number, boolean]>> = Object.freeze({
  int8: Object.freeze([8, true] as const),
  int16: Object.freeze([16, true] as const),
  int32: Object.freeze([32, true] as const),
  int64: Object.freeze([64, true] as const),
  uint8: Object.freeze([8, false] as const),
  uint16: Object.freeze([16, false] as const),
  uint32: Object.freeze([32, false] as const),
  uint64: Object.freeze([64, false] as const),
});
const UNITS: Readonly<Record<string, number>> = Object.freeze({ s: 0, ms: 1, us: 2, ns: 3 });

const enum TypeId {
  Int = 2,
  FloatingPoint = 3,
  Utf8 = 5,
  Bool = 6,
  Timestamp = 10,
}
const enum Header {
  Schema = 1,
  RecordBatch = 3,
}
/** MetadataVersion V5. */
const VERSION_V5 = 4;

// ---- FlatBuffers, written forward --------------------------------------------------------------

const enum F {
  U8,
  I16,
  I32,
  I64,
  Table,
  String,
  Tables,
  Structs,
}

/** One field of a table: [kind, value]. Structs: [F.Structs, bytes, count]. */
type Field = readonly [F, unknown, number?];
/** A table: fields by slot (null when absent). */
type Table = readonly (Field | null)[];

function scalarSize(kind: F): number {
  return kind === F.U8 ? 1 : kind === F.I16 ? 2 : kind === F.I64 ? 8 : 4;
}

/** A growable byte buffer for the (small) metadata. */
class FbWriter {
  buf = new Uint8Array(512);
  pos = 0;
  private readonly encoder: TextEncoder;
  constructor(encoder: TextEncoder) {
    this.encoder = encoder;
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }
  /** Pads with zeros until pos % `to` === `rem`. */
  align(to: number, rem = 0): void {
    while (this.pos % to !== rem) {
      this.room(1);
      this.buf[this.pos++] = 0;
    }
  }
  skip(n: number): number {
    this.room(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }
  u16(at: number, v: number): void {
    this.buf[at] = v & 255;
    this.buf[at + 1] = (v >>> 8) & 255;
  }
  u32(at: number, v: number): void {
    this.u16(at, v & 0xffff);
    this.u16(at + 2, (v >>> 16) & 0xffff);
  }
  i64(at: number, v: number): void {
    const hi = Math.floor(v / 4294967296);
    this.u32(at, v - hi * 4294967296);
    this.u32(at + 4, hi);
  }

  table(t: Table): number {
    // inline layout: the soffset, then fields by falling size (8-byte fields 8-aligned)
    let has8 = false;
    for (const f of t) if (f !== null && f[0] === F.I64) has8 = true;
    const offsets: number[] = [];
    let size = has8 ? 8 : 4;
    for (const want of [8, 4, 2, 1]) {
      for (let s = 0; s < t.length; s++) {
        const f = t[s];
        if (f === null || scalarSize(f[0]) !== want) continue;
        offsets[s] = size;
        size += want;
      }
    }
    size = (size + 3) & ~3;
    this.align(2);
    const vt = this.skip(4 + 2 * t.length);
    this.u16(vt, 4 + 2 * t.length);
    this.u16(vt + 2, size);
    for (let s = 0; s < t.length; s++) this.u16(vt + 4 + 2 * s, t[s] === null ? 0 : offsets[s]);
    this.align(has8 ? 8 : 4);
    const at = this.skip(size);
    this.u32(at, at - vt); // soffset: the vtable is that far before the table
    for (let s = 0; s < t.length; s++) {
      const f = t[s];
      if (f === null) continue;
      const p = at + offsets[s];
      const v = f[1] as number;
      if (f[0] === F.U8) this.buf[p] = v;
      else if (f[0] === F.I16) this.u16(p, v);
      else if (f[0] === F.I64) this.i64(p, v);
      else if (f[0] === F.I32) this.u32(p, v);
    }
    // children after the table, each uoffset pointing forward to its target
    for (let s = 0; s < t.length; s++) {
      const f = t[s];
      if (f === null || f[0] < F.Table) continue;
      const p = at + offsets[s];
      const target = this.child(f);
      this.u32(p, target - p);
    }
    return at;
  }

  private child(f: Field): number {
    if (f[0] === F.Table) return this.table(f[1] as Table);
    if (f[0] === F.String) {
      const s = f[1] as string;
      this.align(4);
      const bytes = this.encoder.encode(s);
      const at = this.skip(4 + bytes.length + 1);
      this.u32(at, bytes.length);
      this.buf.set(bytes, at + 4);
      return at;
    }
    if (f[0] === F.Tables) {
      const list = f[1] as Table[];
      this.align(4);
      const at = this.skip(4 + 4 * list.length);
      this.u32(at, list.length);
      for (let k = 0; k < list.length; k++) {
        const slot = at + 4 + 4 * k;
        const t = this.table(list[k]);
        this.u32(slot, t - slot);
      }
      return at;
    }
    // structs of 8-byte members: the elements must be 8-aligned, so the length sits at 4 mod 8
    const bytes = f[1] as Uint8Array;
    this.align(8, 4);
    const at = this.skip(4 + bytes.length);
    this.u32(at, f[2] as number);
    this.buf.set(bytes, at + 4);
    return at;
  }

  /** A whole FlatBuffer with `root` as its root table; returns its bytes (a view of `buf`). */
  static build(root: Table, encoder: TextEncoder): Uint8Array {
    const w = new FbWriter(encoder);
    const at = w.skip(4);
    const t = w.table(root);
    w.u32(at, t - at);
    w.align(8);
    return w.buf.subarray(0, w.pos);
  }
}

// ---- the table ---------------------------------------------------------------------------------

function pad8(n: number): number {
  return (n + 7) & ~7;
}


function typeOf(c: ArrowColumn): [number, Table] {
  const int = Object.prototype.hasOwnProperty.call(INTS, c.type) ? INTS[c.type] : undefined;
  if (int !== undefined) return [TypeId.Int, [[F.I32, int[0]], [F.U8, int[1] ? 1 : 0]]];
  if (c.type === "float32" || c.type === "float64") return [TypeId.FloatingPoint, [[F.I16, c.type === "float32" ? 1 : 2]]];
  if (c.type === "bool") return [TypeId.Bool, []];
  if (c.type === "utf8") return [TypeId.Utf8, []];
  if (c.type === "timestamp") {
    const unit = c.unit ?? "ms";
    if (!Object.prototype.hasOwnProperty.call(UNITS, unit)) throw new InvalidArgumentError(`timestamp unit must be s, ms, us or ns, not ${JSON.stringify(unit)}`);
    return [TypeId.Timestamp, [[F.I16, UNITS[unit]], c.timezone === undefined ? null : [F.String, c.timezone]]];
  }
  throw new InvalidArgumentError(`Arrow column ${JSON.stringify(c.name)} has type ${JSON.stringify(c.type)}; use int8..int64, uint8..uint64, float32, float64, bool, utf8 or timestamp`);
}

/** Bytes per value of a fixed-width column (0 for bool and utf8); the reader uses it too. */
export function arrowWidth(type: ArrowType): number {
  switch (type) {
    case "int8":
    case "uint8":
      return 1;
    case "int16":
    case "uint16":
      return 2;
    case "int32":
    case "uint32":
    case "float32":
      return 4;
    case "bool":
    case "utf8":
      return 0;
    default:
      return 8;
  }
}

/** Encodes the message framing: continuation, metadata length, metadata; returns the new position. */
function frame(out: Uint8Array, pos: number, meta: Uint8Array): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(pos, 0xffffffff, true);
  dv.setInt32(pos + 4, meta.length, true);
  out.set(meta, pos + 8);
  return pos + 8 + meta.length;
}

/** Writes a 64-bit integer (number or bigint) little-endian. */
function set64(dv: DataView, at: number, v: number | bigint, signed: boolean): void {
  if (typeof v === "bigint") {
    if (signed) dv.setBigInt64(at, v, true);
    else dv.setBigUint64(at, v, true);
    return;
  }
  const hi = Math.floor(v / 4294967296);
  dv.setUint32(at, v - hi * 4294967296, true);
  dv.setUint32(at + 4, hi >>> 0, true);
}

function timestampValue(v: unknown, unit: string): number | bigint {
  if (!(v instanceof Date)) return v as number | bigint;
  const ms = v.getTime();
  if (unit === "s") return Math.floor(ms / 1000);
  if (unit === "ms") return ms;
  if (unit === "us") return ms * 1000;
  return BigInt(ms) * BigInt(1000000);
}

/**
 * An Arrow IPC stream holding one record batch of `columns` (all of the same length). Throws
 * InvalidArgumentError on an unknown type, unequal lengths or a value of the wrong kind.
 */
export function arrowTable(columns: readonly ArrowColumn[]): Uint8Array {
  if (!Array.isArray(columns) || columns.length === 0) throw new InvalidArgumentError("an Arrow table needs at least one column");
  const encoder = new TextEncoder();
  const rows = columns[0].values.length;
  // body layout: per column its buffers (validity, then offsets for utf8, then values), 8-aligned
  const fields: Table[] = [];
  const nodes = new Uint8Array(16 * columns.length);
  const nodeView = new DataView(nodes.buffer);
  const buffers: number[] = []; // offset, length pairs
  const nulls: number[] = [];
  const textBytes: number[] = [];
  let body = 0;
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k];
    if (c === null || typeof c !== "object" || typeof c.name !== "string") throw new InvalidArgumentError("each Arrow column needs a name, a type and values");
    if (c.values.length !== rows) throw new InvalidArgumentError(`Arrow column ${JSON.stringify(c.name)} has ${c.values.length} values, the first column ${rows}`);
    const [typeId, typeTable] = typeOf(c);
    fields.push([[F.String, c.name], [F.U8, 1], [F.U8, typeId], [F.Table, typeTable], null, [F.Tables, []]]);
    let nullCount = 0;
    let text = 0;
    for (let r = 0; r < rows; r++) {
      const v = c.values[r];
      if (v === null || v === undefined) nullCount++;
      else if (c.type === "utf8") {
        if (typeof v !== "string") throw new InvalidArgumentError(`Arrow column ${JSON.stringify(c.name)} (utf8) holds a ${typeof v}`);
        text += utf8Length(v);
      }
    }
    nulls.push(nullCount);
    textBytes.push(text);
    set64(nodeView, 16 * k, rows, true);
    set64(nodeView, 16 * k + 8, nullCount, true);
    const bitmap = Math.ceil(rows / 8);
    const validity = nullCount > 0 ? bitmap : 0;
    buffers.push(body, validity);
    body += pad8(validity);
    if (c.type === "utf8") {
      buffers.push(body, 4 * (rows + 1));
      body += pad8(4 * (rows + 1));
      buffers.push(body, text);
      body += pad8(text);
    } else {
      const len = c.type === "bool" ? bitmap : rows * arrowWidth(c.type);
      buffers.push(body, len);
      body += pad8(len);
    }
  }
  const bufs = new Uint8Array(8 * buffers.length);
  const bufView = new DataView(bufs.buffer);
  for (let b = 0; b < buffers.length; b++) set64(bufView, 8 * b, buffers[b], true);

  const schema = FbWriter.build(
    [
      [F.I16, VERSION_V5],
      [F.U8, Header.Schema],
      [F.Table, [[F.I16, 0], [F.Tables, fields]]],
      [F.I64, 0],
    ],
    encoder,
  );
  const schemaLen = schema.length;
  const batch = FbWriter.build(
    [
      [F.I16, VERSION_V5],
      [F.U8, Header.RecordBatch],
      [F.Table, [[F.I64, rows], [F.Structs, nodes, columns.length], [F.Structs, bufs, buffers.length / 2]]],
      [F.I64, body],
    ],
    encoder,
  );
  const total = 8 + schemaLen + 8 + batch.length + body + 8;
  const out = new Uint8Array(total);
  let pos = frame(out, 0, schema);
  pos = frame(out, pos, batch);
  const dv = new DataView(out.buffer);
  const base = pos;
  let b = 0;
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k];
    const vals = c.values;
    const validityAt = base + buffers[2 * b];
    if (nulls[k] > 0) for (let r = 0; r < rows; r++) if (vals[r] !== null && vals[r] !== undefined) out[validityAt + (r >> 3)] |= 1 << (r & 7);
    b++;
    if (c.type === "utf8") {
      const offAt = base + buffers[2 * b];
      const dataAt = base + buffers[2 * b + 2];
      let written = 0;
      dv.setInt32(offAt, 0, true);
      for (let r = 0; r < rows; r++) {
        const v = vals[r];
        if (typeof v === "string" && v.length > 0) written += encoder.encodeInto(v, out.subarray(dataAt + written, dataAt + textBytes[k])).written;
        dv.setInt32(offAt + 4 * (r + 1), written, true);
      }
      b += 2;
      continue;
    }
    const at = base + buffers[2 * b];
    b++;
    const w = arrowWidth(c.type);
    for (let r = 0; r < rows; r++) {
      const v = vals[r];
      if (v === null || v === undefined) continue;
      const p = at + r * w;
      switch (c.type) {
        case "bool":
          if (typeof v !== "boolean" && typeof v !== "number") throw new InvalidArgumentError(`Arrow column ${JSON.stringify(c.name)} (bool) holds a ${typeof v}`);
          if (v) out[at + (r >> 3)] |= 1 << (r & 7);
          break;
        case "int8":
          dv.setInt8(p, Number(v));
          break;
        case "uint8":
          dv.setUint8(p, Number(v));
          break;
        case "int16":
          dv.setInt16(p, Number(v), true);
          break;
        case "uint16":
          dv.setUint16(p, Number(v), true);
          break;
        case "int32":
          dv.setInt32(p, Number(v), true);
          break;
        case "uint32":
          dv.setUint32(p, Number(v), true);
          break;
        case "float32":
          dv.setFloat32(p, Number(v), true);
          break;
        case "float64":
          dv.setFloat64(p, Number(v), true);
          break;
        case "timestamp":
          set64(dv, p, timestampValue(v, c.unit ?? "ms"), true);
          break;
        default:
          if (typeof v !== "number" && typeof v !== "bigint") throw new InvalidArgumentError(`Arrow column ${JSON.stringify(c.name)} (${c.type}) holds a ${typeof v}`);
          set64(dv, p, v, c.type === "int64");
      }
    }
  }
  // end of stream: continuation and a zero length
  dv.setUint32(total - 8, 0xffffffff, true);
  dv.setUint32(total - 4, 0, true);
  return out;
}
