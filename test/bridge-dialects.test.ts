// NATSBridge's current specification against nats-xs/bridge (built dist/ code through the host
// simulator): JSON carried as itself in `data`, the streaming Arrow IPC reader (every column type
// the writer supports, tables written by apache-arrow, every split point, unsupported types and
// bounds as typed errors, a seeded fuzz), Arrow tables delivered as columns direct and by link, and
// the link file server checked against Plik's API as its documentation states it.
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DateDay, Field, Float16, Float64, Int32, Int64, List, Table, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import type { NatsConnection } from "nats-xs";
import { arrowTable, BridgeError, EnvelopeFieldError, EnvelopeScanner, smartsend, smartsubscribe } from "nats-xs/bridge";
import type { ArrowColumn, MessageEnvelope } from "nats-xs/bridge";
import { ArrowColumnData, ArrowFormatError, ArrowLimitError, ArrowReader, ArrowTable, ArrowTypeError, arrowColumns } from "nats-xs/bridge/arrow";
import type { ArrowReaderOptions } from "nats-xs/bridge/arrow";
import { startFileServer } from "../tools/fileserver.mjs";
import { Collector, Fixture } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";
import { peerEnvelope, peerRead, peerUpload } from "./shared/bridge-peer.mjs";
import { FIELDS, JSON_TABLE } from "./shared/bridge-fixtures.mjs";

const enc = new TextEncoder();

function scan(json: string, step = 0, sink?: ReturnType<typeof arrowColumns>): MessageEnvelope {
  const scanner = new EnvelopeScanner({ maxSize: 1 << 20, maxFieldBytes: 2048, sink });
  const bytes = enc.encode(json);
  scanner.begin();
  if (step === 0) scanner.push(bytes);
  else for (let i = 0; i < bytes.length; i += step) scanner.push(bytes.slice(i, i + step));
  return scanner.end();
}

/** Reads `ipc` with a fresh reader in views of `step` bytes (each a fresh copy). */
function readArrow(ipc: Uint8Array, step: number, options: ArrowReaderOptions = {}): ArrowTable {
  const r = new ArrowReader(options);
  for (let i = 0; i < ipc.length; i += step) r.write(ipc.slice(i, i + step));
  const p = { data: null as unknown };
  r.end(p as never);
  return p.data as ArrowTable;
}

function rows(t: ArrowTable): unknown[][] {
  const out: unknown[][] = [];
  for (let r = 0; r < t.numRows; r++) out.push(t.columns.map((c) => c.get(r)));
  return out;
}

const COLUMNS: ArrowColumn[] = [
  { name: "i8", type: "int8", values: [-128, 127, null, 0] },
  { name: "i16", type: "int16", values: [-32768, 32767, 1, null] },
  { name: "i32", type: "int32", values: [-2147483648, 2147483647, null, 5] },
  { name: "i64", type: "int64", values: [-(2n ** 63n), 2n ** 63n - 1n, 0n, null] },
  { name: "u8", type: "uint8", values: [0, 255, 7, 9] },
  { name: "u16", type: "uint16", values: [0, 65535, null, 3] },
  { name: "u32", type: "uint32", values: [0, 4294967295, 2, null] },
  { name: "u64", type: "uint64", values: [0n, 2n ** 64n - 1n, null, 4n] },
  { name: "f32", type: "float32", values: [0.5, -1.25, null, 3] },
  { name: "f64", type: "float64", values: [Math.PI, -0, null, 1e300] },
  { name: "ok", type: "bool", values: [true, false, null, true] },
  { name: "site", type: "utf8", values: ["roof", "", null, "çellar 𝄞 ✓"] },
  { name: "t", type: "timestamp", unit: "us", timezone: "Europe/Paris", values: [1714979289000000, 0, null, -1] },
  { name: "tz", type: "timestamp", values: [new Date(1714979289123), null, new Date(0), new Date(1)] },
];
const WANT = [
  [-128, -32768, -2147483648, -(2n ** 63n), 0, 0, 0, 0n, 0.5, Math.PI, true, "roof", 1714979289000000n, 1714979289123n],
  [127, 32767, 2147483647, 2n ** 63n - 1n, 255, 65535, 4294967295, 2n ** 64n - 1n, -1.25, -0, false, "", 0n, null],
  [null, 1, null, 0n, 7, null, 2, null, null, null, null, null, null, 0n],
  [0, null, 5, null, 9, 3, null, 4n, 3, 1e300, true, "çellar 𝄞 ✓", -1n, 1n],
];

// ---- JSON carried as itself ---------------------------------------------------------------------

describe("JSON in data, as itself (encoding json)", () => {
  test("JSON text with \\u escapes, surrogate pairs and escaped quotes, at every split point", () => {
    const text = '[{"s":"\\u00e9\\ud834\\udd1e \\"q\\" \\\\ \\/","n":-1.5e3},{"s":"\\u2603"}]';
    const json = `{"correlation_id":"c","payloads":[{"dataname":"r","payload_type":"jsontable","transport":"direct","encoding":"json","size":${text.length},"data":${JSON.stringify(text)},"metadata":{}}]}`;
    const want = [{ s: 'é𝄞 "q" \\ /', n: -1500 }, { s: "☃" }];
    for (let step = 1; step <= json.length; step += step < 40 ? 1 : 97) expect(scan(json, step).payloads[0].data, `step ${step}`).toEqual(want);
    expect(scan(json).payloads[0].format).toBe("json");
  });

  test("a JSON value as data, before the payload's type and transport (key order is free)", () => {
    const json = JSON.stringify({ correlation_id: "c", payloads: [{ data: { a: [1, { b: "}" }] }, dataname: "d", payload_type: "dictionary", encoding: "json" }] });
    for (const step of [1, 2, 5, 0]) expect(scan(json, step).payloads[0].data).toEqual({ a: [1, { b: "}" }] });
  });

  test("a short JSON text held before the transport is known, then read as JSON", () => {
    const json = JSON.stringify({ correlation_id: "c", payloads: [{ dataname: "j", data: JSON.stringify(JSON_TABLE), payload_type: "jsontable", transport: "direct", encoding: "json" }] });
    expect(scan(json, 3).payloads[0].data).toEqual(JSON_TABLE);
  });

  test("a JSON text longer than max_field_bytes that comes before the transport streams as JSON", () => {
    // longer than max_field_bytes (2048), within the receiver's default max_values (256)
    const big = Array.from({ length: 40 }, (_, k) => ({ t: k, v: `${"é".repeat(30)}${k}` }));
    const json = JSON.stringify({ correlation_id: "c", payloads: [{ dataname: "j", data: JSON.stringify(big), payload_type: "jsontable", transport: "direct", encoding: "json" }] });
    for (const step of [1, 9, 0]) {
      const p = scan(json, step).payloads[0];
      expect(p.data).toEqual(big);
      expect(p.size).toBe(enc.encode(JSON.stringify(big)).length);
    }
  });

  test("without a sink an arrowtable (encoding arrow-ipc) still arrives as its IPC bytes", () => {
    const ipc = arrowTable([{ name: "n", type: "int8", values: [1, 2] }]);
    const p = scan(peerEnvelope([{ dataname: "t", type: "arrowtable", bytes: ipc }], FIELDS, "v1"), 5).payloads[0];
    expect(p.format).toBe("arrow");
    expect(Buffer.from(p.data as Uint8Array).equals(Buffer.from(ipc))).toBe(true);
  });

  test("encoding json with base64 data, as the Julia and JavaScript writers send it", () => {
    const json = peerEnvelope([{ dataname: "d", type: "dictionary", bytes: enc.encode('{"x":[1,2]}') }], FIELDS, "v1");
    expect(JSON.parse(json).payloads[0].encoding).toBe("json");
    expect(scan(json, 7).payloads[0].data).toEqual({ x: [1, 2] });
  });

  test("typed errors: JSON in a binary payload, nesting past the bound, JSON that does not close", () => {
    const one = (data: string, type = "dictionary") => `{"correlation_id":"c","payloads":[{"dataname":"x","payload_type":"${type}","transport":"direct","encoding":"json","data":${data}}]}`;
    expect(() => scan(one("[1,2]", "binary"))).toThrow(EnvelopeFieldError);
    expect(() => scan(one(JSON.stringify("[1,2]"), "text"))).toThrow(EnvelopeFieldError);
    expect(() => scan(one("[".repeat(33) + "]".repeat(33)))).toThrow(/deeper than 32/);
    expect(() => scan(one(JSON.stringify("[".repeat(40) + "]".repeat(40))))).toThrow(/deeper than 32/);
    expect(() => scan(one(JSON.stringify("[1,2")))).toThrow(/does not close/);
    expect(scan(one("[".repeat(32) + "]".repeat(32))).payloads[0].data).toBeInstanceOf(Array);
  });
});

// ---- the Arrow reader ----------------------------------------------------------------------------

describe("streaming Arrow IPC reader", () => {
  const ipc = arrowTable(COLUMNS);

  test("reads every column type of the writer, with nulls, fed in views of every size", () => {
    for (let step = 1; step <= ipc.length; step += step < 64 ? 1 : 61) {
      const t = readArrow(ipc, step);
      expect(t.numRows, `step ${step}`).toBe(4);
      expect(rows(t), `step ${step}`).toEqual(WANT);
    }
    const t = readArrow(ipc, 100);
    expect(t.fields.map((f) => f.type)).toEqual(COLUMNS.map((c) => c.type));
    expect(t.column("t")).toMatchObject({ unit: "us", timezone: "Europe/Paris", nullCount: 1 });
    expect(t.column("tz")).toMatchObject({ unit: "ms", timezone: "" });
    expect(t.column("i32")!.values).toBeInstanceOf(Int32Array);
    expect(t.column("i64")!.values).toBeInstanceOf(BigInt64Array);
    expect(t.column("u64")!.values).toBeInstanceOf(BigUint64Array);
  });

  test("reads tables apache-arrow wrote: plain utf8, several record batches, an empty batch", () => {
    const a = new Table({
      id: vectorFromArray([1, 2, 3], new Int32()),
      name: vectorFromArray(["a", "bé", null], new Utf8()),
      v: vectorFromArray([0.5, null, 2.5], new Float64()),
      big: vectorFromArray([1n, 2n, 3n], new Int64()),
    });
    const b = new Table({ id: vectorFromArray([4], new Int32()), name: vectorFromArray(["d"], new Utf8()), v: vectorFromArray([4], new Float64()), big: vectorFromArray([4n], new Int64()) });
    const empty = a.slice(0, 0);
    const table = a.concat(empty, b);
    const bytes = tableToIPC(table, "stream");
    for (const step of [1, 5, 64, bytes.length]) {
      const t = readArrow(bytes, step);
      expect(t.numRows).toBe(4);
      expect(t.batches.length).toBe(table.batches.length);
      const got = t.batches.flatMap((batch) => Array.from({ length: batch[0].length }, (_, r) => batch.map((c) => c.get(r))));
      expect(got).toEqual([
        [1, "a", 0.5, 1n],
        [2, "bé", null, 2n],
        [3, null, 2.5, 3n],
        [4, "d", 4, 4n],
      ]);
    }
  });

  test("onColumn hands each column over as it completes and keeps none", () => {
    const seen: string[] = [];
    const t = readArrow(ipc, 13, { onColumn: (c, batch) => seen.push(`${batch}:${c.name}:${c.length}`) });
    expect(seen).toEqual(COLUMNS.map((c) => `0:${c.name}:4`));
    expect(t.batches).toEqual([]);
    expect(t.numRows).toBe(4);
  });

  test("types it does not decode are typed errors that name them", () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ["dictionary", tableToIPC(new Table({ d: vectorFromArray(["a", "b", "a"]) }), "stream"), /dictionary-encoded column \(column "d"\)/],
      ["float16", tableToIPC(new Table({ h: vectorFromArray([1, 2], new Float16()) }), "stream"), /float16.*column "h"/],
      ["list", tableToIPC(new Table({ l: vectorFromArray([[1], [2, 3]], new List(new Field("item", new Int32()))) }), "stream"), /List \(a nested type\).*column "l"/],
      ["date", tableToIPC(new Table({ d: vectorFromArray([new Date(0)], new DateDay()) }), "stream"), /Arrow IPC: Date \(column "d"\)/],
    ];
    for (const [name, bytes, re] of cases) {
      let err: unknown;
      try {
        readArrow(bytes, 7);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ArrowTypeError);
      expect(err, name).toBeInstanceOf(BridgeError);
      expect((err as Error).message, name).toMatch(re);
    }
  });

  test("bounds on metadata, columns, rows and string bytes are typed errors", () => {
    const many = arrowTable(Array.from({ length: 10 }, (_, k) => ({ name: `c${k}`, type: "int8" as const, values: [1] })));
    expect(() => readArrow(many, 50, { max_columns: 9 })).toThrow(ArrowLimitError);
    expect(() => readArrow(many, 50, { max_metadata_bytes: 256 })).toThrow(/metadata of one message/);
    const long = arrowTable([{ name: "n", type: "int32", values: Array.from({ length: 100 }, (_, k) => k) }]);
    expect(() => readArrow(long, 50, { max_rows: 99 })).toThrow(/row count/);
    expect(readArrow(long, 50, { max_rows: 100 }).numRows).toBe(100);
    const text = arrowTable([{ name: "s", type: "utf8", values: ["x".repeat(300)] }]);
    expect(() => readArrow(text, 50, { max_string_bytes: 299 })).toThrow(/string bytes of column "s"/);
    expect(readArrow(text, 50, { max_string_bytes: 300 }).columns[0].get(0)).toBe("x".repeat(300));
    expect(() => new ArrowReader({ max_rows: 0 })).toThrow(/max_rows must be a positive/);
  });

  test("a cut or corrupt stream is an ArrowFormatError; random bytes only ever give typed errors (seeded)", () => {
    expect(() => readArrow(ipc.slice(0, ipc.length - 20), 9)).toThrow(ArrowFormatError);
    expect(() => readArrow(ipc.slice(0, 8), 3)).toThrow(ArrowFormatError);
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    let typed = 0;
    for (let n = 0; n < 400; n++) {
      const bad = ipc.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      try {
        readArrow(bad, 1 + Math.floor(rand() * 50), { max_rows: 64, max_string_bytes: 4096 });
      } catch (e) {
        expect(e, `case ${n}`).toBeInstanceOf(BridgeError);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(0);
  });

  test("a direct arrowtable (encoding arrow-ipc) and a Python table arrive as columns through arrowColumns", () => {
    for (const dialect of ["v1", "python"] as const) {
      const json = peerEnvelope([{ dataname: "readings", type: "table", bytes: ipc }, { dataname: "note", type: "text", bytes: enc.encode("hi") }], FIELDS, dialect);
      expect(JSON.parse(json).payloads[0].encoding).toBe(dialect === "v1" ? "arrow-ipc" : "base64");
      const env = scan(json, 11, arrowColumns());
      const t = env.payloads[0].data as ArrowTable;
      expect(t).toBeInstanceOf(ArrowTable);
      expect(rows(t)).toEqual(WANT);
      expect(env.payloads[1].data).toBe("hi");
    }
    const bad = peerEnvelope([{ dataname: "d", type: "arrowtable", bytes: tableToIPC(new Table({ d: vectorFromArray(["a"]) }), "stream") }], FIELDS, "v1");
    expect(() => scan(bad, 0, arrowColumns())).toThrow(ArrowTypeError);
  });
});

// ---- against a real server and the file server -----------------------------------------------------

describe("current specification on the bus", () => {
  const shared = new Fixture();
  const fx = new Fixture();
  let server: ServerHandle;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let xs: NatsConnection;
  let js: JsConnection;
  let seq = 0;
  let s: string;

  beforeAll(async () => {
    server = await shared.server();
    files = await startFileServer();
  });
  afterAll(async () => {
    await files.close();
    await shared.cleanup();
  });
  beforeEach(async () => {
    s = `dialects.t${++seq}`;
    ({ nc: xs } = await fx.xs({ servers: server.url, name: "device-9" }));
    js = await fx.js({ servers: server.url });
  });
  afterEach(() => fx.cleanup());

  test("an Arrow table by link is read as columns while it downloads; the device's own table by link passes the specification's peer", async () => {
    const big = arrowTable([
      { name: "n", type: "int32", values: Array.from({ length: 3000 }, (_, k) => k) },
      { name: "s", type: "utf8", values: Array.from({ length: 3000 }, (_, k) => `row ${k}`) },
    ]);
    const url = await peerUpload(files.url, big, "big.arrow");
    const c = new Collector<{ err: Error | null; env: MessageEnvelope | null }>(1, "envelopes", 20_000);
    const columns: ArrowColumnData[] = [];
    smartsubscribe(xs, `${s}.in`, { sink: arrowColumns({ onColumn: (col) => columns.push(col) }), callback: (err, env) => c.push({ err, env }) });
    await xs.flush();
    js.publish(`${s}.in`, peerEnvelope([{ dataname: "big.arrow", type: "arrowtable", transport: "link", url, size: big.length }], FIELDS, "v1"));
    const [{ err, env }] = await c.done;
    expect(err).toBeNull();
    expect((env!.payloads[0].data as ArrowTable).numRows).toBe(3000);
    expect(columns.map((col) => col.name)).toEqual(["n", "s"]);
    expect(columns[1].get(2999)).toBe("row 2999");

    const peer = new Collector<Uint8Array>(1, "peer", 20_000);
    js.subscribe(`${s}.out`, { callback: (e, msg) => (e ? undefined : peer.push(msg.data)) });
    await js.flush();
    await smartsend(xs, `${s}.out`, [{ dataname: "t", type: "table", data: big, transport: "link" }, { dataname: "rows", type: "jsontable", data: JSON_TABLE }], { fileserver_url: files.url });
    const out = await peerRead((await peer.done)[0]);
    expect(out.payloads.map((p: { type: string; encoding: string; transport: string }) => `${p.type}/${p.transport}/${p.encoding}`)).toEqual(["arrowtable/link/none", "jsontable/direct/json"]);
    expect(Buffer.from(out.payloads[0].bytes).equals(Buffer.from(big))).toBe(true);
  });
});

// ---- the file server as Plik documents its API -------------------------------------------------------

describe("link file server follows Plik's API", () => {
  let files: Awaited<ReturnType<typeof startFileServer>>;
  beforeAll(async () => {
    files = await startFileServer();
  });
  afterAll(() => files.close());

  test("POST /upload with Plik's JSON body -> the upload object; POST /file/:id with X-UploadToken and part file -> the file object; GET by id and name", async () => {
    const res = await fetch(`${files.url}/upload`, { method: "POST", body: JSON.stringify({ ttl: 3600, oneShot: false, removable: true, stream: false, files: [] }), headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(200);
    const up = await res.json();
    expect(up).toMatchObject({ ttl: 3600, oneShot: false, removable: true, stream: false, files: [], admin: true });
    expect(up.id).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(up.uploadToken).toMatch(/^[A-Za-z0-9]{32}$/);
    const bytes = enc.encode("hello plik");
    const form = new FormData();
    form.append("file", new Blob([bytes]), "hello.txt");
    expect((await fetch(`${files.url}/file/${up.id}`, { method: "POST", body: form })).status).toBe(403);
    const f = await (await fetch(`${files.url}/file/${up.id}`, { method: "POST", body: form, headers: { "X-UploadToken": up.uploadToken } })).json();
    expect(f).toMatchObject({ fileName: "hello.txt", fileSize: bytes.length, status: "uploaded", reference: "" });
    expect(f.id).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(f.fileMd5).toBe(createHash("md5").update(bytes).digest("hex"));
    const got = await fetch(`${files.url}/file/${up.id}/${f.id}/hello.txt`);
    expect(await got.text()).toBe("hello plik");
    expect((await fetch(`${files.url}/file/${up.id}/${f.id}/other.txt`)).status).toBe(404);
    // an empty body is accepted (Plik's defaults), malformed JSON is a 400
    expect((await fetch(`${files.url}/upload`, { method: "POST" })).status).toBe(200);
    expect((await fetch(`${files.url}/upload`, { method: "POST", body: "{" })).status).toBe(400);
    // a part without a file name is refused, as Plik refuses it
    const noname = `--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--b--\r\n`;
    expect((await fetch(`${files.url}/file/${up.id}`, { method: "POST", body: noname, headers: { "X-UploadToken": up.uploadToken, "Content-Type": "multipart/form-data; boundary=b" } })).status).toBe(400);
  });
});
