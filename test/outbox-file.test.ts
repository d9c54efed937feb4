// The persistent outbox's parts without a server: embedded:storage/files as host-sim provides it
// (the SDK's semantics the journal relies on), and the journal of nats-xs/outbox-file against torn
// tails, damaged records, hostile files, compactions cut short at every step, and a full file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const DEVICE = mkdtempSync(join(tmpdir(), "nats-xs-outbox-file-"));
process.env.NATS_XS_DEVICE_DIR = DEVICE;
const ROOT = join(DEVICE, "files");

type Files = typeof import("embedded:storage/files").default;
type OutboxFile = typeof import("../dist/types/outbox-file/index.js");
type Journal = typeof import("../firmware/outbox-file/journal.ts");
let files: Files;
let fileStore: (path: string, options?: Parameters<OutboxFile["fileStore"]>[2]) => ReturnType<OutboxFile["fileStore"]>;
let storeModule: OutboxFile;
let journal: Journal;
let headers: typeof import("../dist/types/index.js").headers;

beforeAll(async () => {
  files = (await import("../host-sim/files.js")).default as unknown as Files;
  storeModule = (await import("../dist/nats-xs-outbox-file.js")) as OutboxFile;
  fileStore = (path, options) => storeModule.fileStore(files as never, path, options);
  ({ headers } = await import("../dist/nats-xs.js"));
  journal = await import("../firmware/outbox-file/journal.ts");
});
afterAll(() => rmSync(DEVICE, { recursive: true, force: true }));

let serial = 0;
/** A fresh path for one test's store. */
function fresh(): string {
  return `t${++serial}`;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Opens a store on `path` and returns it with the keys it restored. */
function open(path: string, options?: { maxBytes?: number; compactAt?: number }) {
  const s = fileStore(path, options);
  const keys = [...s.open()];
  return { s, keys, payloads: () => keys.map((k) => text(s.read(k).data)) };
}

describe("embedded:storage/files in host-sim (SDK 8.2.3 semantics)", () => {
  test("opening a missing file to read throws; w+ creates it", () => {
    const p = fresh();
    expect(() => files.openFile({ path: p })).toThrow(/No such file/);
    expect(() => files.openFile({ path: p, mode: "r+" })).toThrow(/No such file/);
    const f = files.openFile({ path: p, mode: "w+" });
    expect(f.status().size).toBe(0);
    f.close();
    expect(files.status(p).isFile()).toBe(true);
  });

  test("read and write at explicit positions; read(count) is shorter at the end; setSize and flush", () => {
    const f = files.openFile({ path: fresh(), mode: "w+" });
    f.write(new Uint8Array([1, 2, 3, 4]), 0);
    f.write(new Uint8Array([9]).buffer, 6); // a hole of zeros
    expect([...new Uint8Array(f.read(10, 0))]).toEqual([1, 2, 3, 4, 0, 0, 9]);
    const into = new Uint8Array(3);
    expect(f.read(into, 2)).toBe(3);
    expect([...into]).toEqual([3, 4, 0]);
    f.setSize(2);
    f.flush();
    expect(f.status().size).toBe(2);
    expect(f.read(8, 2).byteLength).toBe(0);
    f.close();
    expect(() => f.read(1, 0)).toThrow();
  });

  test("a file opened r refuses writes; mode must be one of r, r+, w, w+", () => {
    const p = fresh();
    files.openFile({ path: p, mode: "w" }).close();
    const f = files.openFile({ path: p });
    expect(() => f.write(new Uint8Array(1), 0)).toThrow(/Bad file descriptor/);
    f.close();
    expect(() => files.openFile({ path: p, mode: "a" as "r" })).toThrow(/invalid mode/);
  });

  test("delete says whether something was there; move replaces the target; status of a missing path has mode 0", () => {
    const a = fresh();
    const b = fresh();
    const f = files.openFile({ path: a, mode: "w" });
    f.write(new Uint8Array([7]), 0);
    f.close();
    files.openFile({ path: b, mode: "w" }).close();
    files.move(a, b);
    expect(files.status(a).mode).toBe(0);
    expect(files.status(b).size).toBe(1);
    expect(files.delete(b)).toBe(true);
    expect(files.delete(b)).toBe(false);
  });

  test("paths stay under the root: absolute, '..', '.', empty parts are refused", () => {
    for (const p of ["/etc/passwd", "../x", "a/../../x", "./a", "a//b", "a/", ".."]) expect(() => files.openFile({ path: p, mode: "w" }), p).toThrow(/bad path/);
    expect(() => files.delete("../files")).toThrow(/bad path/);
    expect(() => files.move("a", "../b")).toThrow(/bad path/);
  });

  test("createDirectory, files in it, scan", () => {
    const d = fresh();
    expect(files.createDirectory(d)).toBe(true);
    expect(files.createDirectory(d)).toBe(false);
    files.openFile({ path: `${d}/x`, mode: "w" }).close();
    expect([...files.scan(d)]).toEqual(["x"]);
    expect(files.status(d).isDirectory()).toBe(true);
  });
});

describe("the journal's index of entries", () => {
  test("finds, removes and packs: keys in order, 12 bytes an entry", async () => {
    const { Entries } = await import("../firmware/outbox-file/entries.ts");
    const e = new Entries();
    for (let k = 1; k <= 100; k++) e.push(k * 3, k * 65536 + 20);
    for (let k = 1; k <= 100; k += 2) expect(e.delete(k * 3)).toBe(k * 65536 + 20);
    expect(e.delete(3)).toBe(0);
    expect(e.get(4)).toBe(0);
    expect(e.size).toBe(50);
    for (let k = 101; k <= 200; k++) e.push(k * 3, k * 65536 + 20);
    expect(e.used).toBeLessThan(200); // the holes were packed out
    expect(e.get(6)).toBe(2 * 65536 + 20);
    expect(e.get(600)).toBe(200 * 65536 + 20);
    expect([...e.keys()].slice(0, 3)).toEqual([6, 12, 18]);
    expect(e.keys().length).toBe(150);
    expect(e.lastKey).toBe(600);
  });
});

describe("the outbox journal", () => {
  test("its CRC-32 is IEEE 802.3's (zlib's)", () => {
    const b = new TextEncoder().encode("123456789 the outbox journal");
    expect(journal.crc32(b, 0, b.length)).toBe(zlibCrc32(b));
    expect(journal.crc32(b, 0, 9)).toBe(0xcbf43926);
  });

  test("entries come back after a reopen, in order, with subject, headers and payload; settled ones do not", () => {
    const p = fresh();
    const { s } = open(p);
    const h = headers();
    h.set("Nats-Msg-Id", "m-2");
    h.append("Unit", "°C");
    h.append("Unit", "K");
    const k1 = s.add("sensors.t", "m-1", "one");
    const k2 = s.add("sensors.ü", h, new Uint8Array([0, 255, 7]));
    const k3 = s.add("sensors.t", "m-3", undefined);
    s.remove(k1);
    s.close();
    const r = open(p);
    expect(r.keys).toEqual([k2, k3]);
    expect(r.s.status()).toMatchObject({ restored: 2, entries: 2, corrupt: 0, discarded: 0 });
    const e = r.s.read(k2);
    expect(e.subject).toBe("sensors.ü");
    expect([...e.headers]).toEqual([
      ["Nats-Msg-Id", ["m-2"]],
      ["Unit", ["°C", "K"]],
    ]);
    expect([...e.data]).toEqual([0, 255, 7]);
    expect(r.s.read(k3).headers.get("Nats-Msg-Id")).toBe("m-3");
    expect(r.s.read(k3).data.length).toBe(0);
    r.s.close();
  });

  test("when every entry is settled the file starts over (4 bytes)", () => {
    const p = fresh();
    const { s } = open(p);
    const keys = [s.add("a", "1", "x"), s.add("a", "2", "y")];
    for (const k of keys) s.remove(k);
    expect(s.status().bytes).toBe(4);
    s.close();
    expect(readFileSync(join(ROOT, p)).length).toBe(4);
  });

  test("a record torn at any byte by a power loss is ignored, not reported as damage, and appends go on after it", () => {
    const p = fresh();
    const { s } = open(p);
    s.add("a", "1", "first");
    s.add("a", "2", "second");
    s.close();
    const whole = readFileSync(join(ROOT, p));
    const before = whole.length - (8 + 1 + 4 + 2 + 1 + 2 + 2 + 11 + 2 + 1 + 6);
    for (let cut = before + 1; cut < whole.length; cut++) {
      writeFileSync(join(ROOT, p), whole.subarray(0, cut));
      const r = open(p);
      expect(r.payloads(), `cut at ${cut}`).toEqual(["first"]);
      expect(r.s.status()).toMatchObject({ corrupt: 0, discarded: cut - before });
      r.s.add("a", "3", "third");
      r.s.close();
      expect(open(p).payloads()).toEqual(["first", "third"]);
    }
  });

  test("a tail of zeros (space given to a write that never landed) is a torn write too", () => {
    const p = fresh();
    const { s } = open(p);
    s.add("a", "1", "first");
    s.close();
    const whole = readFileSync(join(ROOT, p));
    writeFileSync(join(ROOT, p), Buffer.concat([whole, Buffer.alloc(700)]));
    const r = open(p);
    expect(r.payloads()).toEqual(["first"]);
    expect(r.s.status()).toMatchObject({ corrupt: 0, discarded: 700 });
    r.s.close();
    writeFileSync(join(ROOT, p), Buffer.concat([whole, Buffer.alloc(700), Buffer.from([1])]));
    expect(open(p).s.status()).toMatchObject({ corrupt: 1, discarded: 701 });
  });

  test("a damaged record stops the replay there: counted, reported, the rest discarded, never a crash", () => {
    const p = fresh();
    const { s } = open(p);
    for (const v of ["one", "two", "three"]) s.add("a", v, v);
    s.close();
    const whole = readFileSync(join(ROOT, p));
    const second = 4 + whole.readUInt32LE(4) + 8;
    const bad = Buffer.from(whole);
    bad[second + 12] ^= 0x40; // a bit flipped inside the second record
    writeFileSync(join(ROOT, p), bad);
    const r = open(p);
    expect(r.payloads()).toEqual(["one"]);
    expect(r.s.status()).toMatchObject({ corrupt: 1, discarded: whole.length - second });
    expect(r.s.status().error).toMatch(/checksum mismatch/);
    r.s.close();
    expect(readFileSync(join(ROOT, p)).length).toBe(second);
  });

  test("hostile files: a huge length, a foreign file, an empty-but-valid CRC record of nonsense", () => {
    const p = fresh();
    const huge = Buffer.alloc(64);
    huge.set([0x4e, 0x58, 0x4f, 0x31]);
    huge.writeUInt32LE(0xffffffff, 4);
    writeFileSync(join(ROOT, p), huge);
    let r = open(p);
    expect(r.keys).toEqual([]);
    expect(r.s.status().error).toMatch(/length 4294967295 out of bounds/);
    r.s.close();
    writeFileSync(join(ROOT, p), "{\"not\": \"an outbox\"}");
    r = open(p);
    expect(r.s.status()).toMatchObject({ corrupt: 1, restored: 0 });
    expect(r.s.status().error).toMatch(/no NXO1 magic/);
    r.s.close();
    // a record whose CRC is right but whose headers claim to run past it
    const body = Buffer.from([1, 1, 0, 0, 0, 1, 0, 0x61, 200, 0]);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(body.length, 0);
    head.writeUInt32LE(zlibCrc32(body, zlibCrc32(head.subarray(0, 4))), 4);
    writeFileSync(join(ROOT, p), Buffer.concat([Buffer.from("NXO1"), head, body]));
    r = open(p);
    expect(r.s.status().error).toMatch(/headers run past the record/);
    r.s.close();
  });

  test("a file longer than maxBytes is read no further than maxBytes", () => {
    const p = fresh();
    const { s } = open(p, { maxBytes: 4096 });
    for (let i = 0; i < 20; i++) s.add("a", `id${i}`, "x".repeat(100));
    s.close();
    const r = open(p, { maxBytes: 1024 });
    expect(r.keys.length).toBeLessThan(10);
    expect(r.s.status().error).toMatch(/longer than maxBytes/);
    r.s.close();
  });

  test("full: add returns -1 when the file has no room even after a compaction; room comes back as entries settle", () => {
    const p = fresh();
    const { s } = open(p, { maxBytes: 512, compactAt: 512 });
    const keys: number[] = [];
    for (;;) {
      const k = s.add("a", `id${keys.length}`, "y".repeat(40));
      if (k < 0) break;
      keys.push(k);
    }
    expect(keys.length).toBeGreaterThan(5);
    expect(s.status().bytes).toBeLessThanOrEqual(512);
    s.remove(keys[0]);
    s.remove(keys[1]);
    expect(s.add("a", "more", "y".repeat(40))).toBeGreaterThan(0);
    expect(s.status().compactions).toBe(1);
    expect(readFileSync(join(ROOT, p)).length).toBeLessThanOrEqual(512);
    s.close();
    expect(open(p).payloads().length).toBe(keys.length - 1);
  });

  test("compaction keeps the live entries in order and bounds the garbage", () => {
    const p = fresh();
    const { s } = open(p, { maxBytes: 4096, compactAt: 300 });
    const live: string[] = [];
    for (let i = 0; i < 200; i++) {
      const k = s.add("a", `id${i}`, `v${i}`);
      if (i % 3 === 0) live.push(`v${i}`);
      else s.remove(k);
    }
    expect(s.status().compactions).toBeGreaterThan(3);
    s.close();
    expect(open(p, { maxBytes: 4096 }).payloads()).toEqual(live);
  });

  test("a compaction cut short at any point leaves one valid file: the old one, or the new one", () => {
    const p = fresh();
    const { s } = open(p, { maxBytes: 4096, compactAt: 4096 });
    const ks = ["a", "b", "c", "d", "e"].map((v) => s.add("s", v, v));
    s.remove(ks[1]);
    s.remove(ks[3]);
    s.close();
    const old = readFileSync(join(ROOT, p));
    // the compacted file, as a compaction writes it
    const c = open(p, { maxBytes: 4096, compactAt: 0 });
    c.s.remove(c.keys[0]); // settles "a" and compacts
    c.s.close();
    const compacted = readFileSync(join(ROOT, p));
    expect(compacted.length).toBeLessThan(old.length);
    // cut short while writing <path>.new (any length of it), before the move: the old file rules
    for (let cut = 0; cut <= compacted.length; cut += 3) {
      writeFileSync(join(ROOT, p), old);
      writeFileSync(join(ROOT, `${p}.new`), compacted.subarray(0, cut));
      const r = open(p);
      expect(r.payloads()).toEqual(["a", "c", "e"]);
      expect(existsSync(join(ROOT, `${p}.new`))).toBe(false);
      r.s.close();
    }
    // after the move: the new file rules
    writeFileSync(join(ROOT, p), compacted);
    expect(open(p).payloads()).toEqual(["c", "e"]);
  });

  test("an entry larger than a record can hold is refused (-1), nothing written", () => {
    const p = fresh();
    const { s } = open(p, { maxBytes: 200_000 });
    expect(s.add("a", "big", new Uint8Array(70_000))).toBe(-1);
    expect(s.status().bytes).toBe(4);
    s.close();
  });

  test("options are checked", () => {
    expect(() => storeModule.fileStore(undefined as never, "x")).toThrow(/directory first/);
    expect(() => fileStore("")).toThrow(/file path/);
    expect(() => fileStore("x", { maxBytes: 10 })).toThrow(/maxBytes/);
    expect(() => fileStore("x", { compactAt: -1 })).toThrow(/compactAt/);
    expect(() => fileStore("x", { bogus: 1 } as never)).toThrow(/not supported/);
    // a truncated file of zero bytes is simply empty
    const p = fresh();
    open(p).s.close();
    truncateSync(join(ROOT, p), 0);
    expect(open(p).s.status()).toMatchObject({ restored: 0, corrupt: 0 });
  });
});
