// NATSBridge's published dialects and streamed Arrow tables on the real XS engine (tools/xs/), under
// the ESP32 creation budget with nats-xs, nats-xs/bridge and nats-xs/bridge/arrow preloaded, against a real nats-server
// and the link file server: every dialect fixture read as the Node reader reads it (the expected
// values come from the fixtures and apache-arrow, not from nats-xs), and an Arrow table read as
// columns, direct and by link, with the peak live heap of the read measured. The XS module is
// test/xs/bridge-dialects.mjs.
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrowTable } from "nats-xs/bridge";
import { startServer } from "../tools/nats-server.mjs";
import { startFileServer } from "../tools/fileserver.mjs";
import { peerEnvelope, peerRead, peerUpload } from "./shared/bridge-peer.mjs";
import { FIELDS, dialectFixtures } from "./shared/bridge-fixtures.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

const MODULE = join(ROOT, "test", "xs", "bridge-dialects.mjs");
const BUDGET = { chunkBytes: 78_848, slots: 4_928 };
const ROWS = 2000;

beforeAll(prepareXs, 300_000);

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** What the XS module must report for a fixture payload, from the fixture itself. */
function expected(f: { dataname: string; bytes: Uint8Array; want: { type: string; format: string; data: unknown } }) {
  let data: unknown = f.want.data;
  if (f.want.format === "arrow") {
    const t = tableFromIPC(f.bytes);
    data = { arrow: t.schema.fields.map((x) => `${x.name}:${String(x.type).toLowerCase()}`), rows: t.toArray().map((r) => Object.values(r.toJSON())) };
  } else if (data instanceof Uint8Array) data = { bytes: data.length, adler32: adler32(data) };
  return { dataname: f.dataname, type: f.want.type, format: f.want.format, transport: "direct", size: f.bytes.length, data };
}

interface ArrowFigures {
  index: number;
  transport: string;
  ipcBytes: number;
  rows: number;
  columns: string[];
  samples: number;
  rise: { slots: number; chunkBytes: number };
  after: { slotsPeak: number; chunkBytesPeak: number };
}

describe("NATSBridge dialects and streamed Arrow tables on XS under the ESP32 budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let js: NatsConnection;

  beforeAll(async () => {
    server = await startServer({ jetstream: false });
    files = await startFileServer();
    js = await connect({ servers: server.url, reconnect: false });
  });
  afterAll(async () => {
    await js?.close().catch(() => {});
    await files?.close();
    await server?.stop();
  });

  it("reads every dialect fixture, an Arrow table as columns direct and by link without holding the stream, and sends what the specification's peer reads", async () => {
    const fixtures = dialectFixtures();
    const ipc = arrowTable([
      { name: "n", type: "int32", values: Array.from({ length: ROWS }, (_, k) => k) },
      { name: "v", type: "float64", values: Array.from({ length: ROWS }, (_, k) => k / 4) },
      { name: "ok", type: "bool", values: Array.from({ length: ROWS }, (_, k) => k % 3 === 0) },
      { name: "t", type: "timestamp", values: Array.from({ length: ROWS }, (_, k) => 1714979289000 + k) },
      { name: "s", type: "utf8", values: Array.from({ length: ROWS }, (_, k) => (k % 7 === 0 ? null : `r${k % 100}`)) },
    ]);
    const url = await peerUpload(files.url, ipc, "table.arrow");
    const arrows = [
      peerEnvelope([{ dataname: "table.arrow", type: "arrowtable", bytes: ipc }], FIELDS, "v1"),
      peerEnvelope([{ dataname: "table.arrow", type: "arrowtable", transport: "link", url, size: ipc.length }], FIELDS, "v1"),
    ];
    const prefix = `xs.dialects.${process.pid}`;
    const sent: Record<string, Uint8Array> = {};
    for (const subject of [`${prefix}.out`, `${prefix}.out0`]) js.subscribe(subject, { max: 1, callback: (err, msg) => (err === null ? (sent[subject] = msg.data) : undefined) });
    await js.flush();
    const onLine = (line: string) => {
      if (line === `ready ${prefix}.fix`) for (const [, json] of fixtures) js.publish(`${prefix}.fix`, json);
      const m = /^ready-arrow (\d+)$/.exec(line);
      if (m) js.publish(`${prefix}.arrow`, arrows[Number(m[1])]);
    };
    const r = await runXs(MODULE, ["nats-xs", "nats-xs/bridge", "nats-xs/bridge/arrow"], [`server=${server.url}`, `prefix=${prefix}`, `fixtures=${fixtures.length}`, "arrows=2", "every=4", "timeout=25000"], onLine, 30_000);
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines[r.lines.length - 1]).toBe("done");
    expect(field<typeof BUDGET>(r, "budget")).toMatchObject(BUDGET);

    // (a) every fixture, in order, as its definition says
    const envs = r.lines.filter((l) => l.startsWith("env ")).map((l) => JSON.parse(l.slice(4)));
    expect(envs.length).toBe(fixtures.length);
    fixtures.forEach(([name, , payloads], i) => {
      const env = envs[i];
      expect(env.error, `${name}: ${env.message}`).toBeUndefined();
      for (const [k, v] of Object.entries(FIELDS)) expect(env[k], `${name} ${k}`).toEqual(v);
      expect(env.payloads, name).toEqual((payloads as Parameters<typeof expected>[0][]).map(expected));
    });

    // (b) the table as columns, both ways, with the measured rise
    const figures = r.lines.filter((l) => l.startsWith("arrow ")).map((l) => JSON.parse(l.slice(6)) as ArrowFigures);
    console.log(`xs bridge streamed Arrow read: ${JSON.stringify(figures)}`);
    expect(figures.map((f) => f.transport)).toEqual(["direct", "link"]);
    for (const f of figures) {
      expect(f.rows).toBe(ROWS);
      expect(f.ipcBytes).toBe(ipc.length);
      expect(f.columns).toEqual([`n:int32:${ROWS}:0:${ROWS - 1}`, `v:float64:${ROWS}:0:${(ROWS - 1) / 4}`, `ok:bool:${ROWS}:0:false`, `t:timestamp:${ROWS}:0:${1714979289000 + ROWS - 1}`, `s:utf8:${ROWS}:${Math.ceil(ROWS / 7)}:r99`]);
      expect(f.samples).toBeGreaterThan(10);
      // streamed: the live heap never held the IPC stream (let alone it and the values at once)
      expect(f.rise.chunkBytes).toBeLessThan(ipc.length);
    }
    // and the whole run stayed inside the budget: memory full would have exited 3 (checked above)

    // (c) what the device sends, checked by the specification's peer (v1), and the earlier dialect
    await js.flush();
    const v1 = await peerRead(sent[`${prefix}.out`]);
    const v0 = await peerRead(sent[`${prefix}.out0`], { dialect: "v0" });
    await expect(peerRead(sent[`${prefix}.out0`])).rejects.toThrow(/payload_type/);
    expect(v1.payloads.map((p: { type: string; encoding: string }) => `${p.type}/${p.encoding}`)).toEqual(["text/base64", "dictionary/json", "arrowtable/arrow-ipc", "jsontable/json", "binary/base64"]);
    expect(v0.payloads.map((p: { type: string; encoding: string }) => `${p.type}/${p.encoding}`)).toEqual(["text/base64", "dictionary/base64", "table/base64", "jsontable/base64", "binary/base64"]);
    for (const env of [v1, v0]) {
      expect(env.raw.sender_name).toBe("xs-bridge-dialects");
      expect(Buffer.from(env.payloads[0].bytes).toString()).toBe("température ✓");
      expect(JSON.parse(Buffer.from(env.payloads[1].bytes).toString())).toEqual({ mode: "eco", setpoint: 21.5 });
      expect(tableFromIPC(env.payloads[2].bytes).toArray().map((row) => row.toJSON())).toEqual([{ n: 1, s: "a" }, { n: 2, s: null }, { n: 3, s: "ç" }]);
      expect(JSON.parse(Buffer.from(env.payloads[3].bytes).toString())).toEqual([{ t: 1, v: 20.5 }]);
      expect([...env.payloads[4].bytes]).toEqual([0, 1, 2, 255]);
    }
  }, 40_000);
});
