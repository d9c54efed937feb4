// jetstream() with a file-backed outbox (nats-xs/outbox-file) against a real nats-server, nats.js
// reading the stream: publishes accepted while the server is away survive the connection (and the
// process: a new context on the same file restores them), go out with their Nats-Msg-Id so the
// stream deduplicates, and the file's bound and damage are reported.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jetstream as peerJetstream, jetstreamManager as peerManager } from "@nats-io/jetstream";
import { Fixture, until, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const DEVICE = mkdtempSync(join(tmpdir(), "nats-xs-outbox-js-"));
process.env.NATS_XS_DEVICE_DIR = DEVICE;
const ROOT = join(DEVICE, "files");

type Js = typeof import("../dist/types/jetstream/index.js");
type OutboxFile = typeof import("../dist/types/outbox-file/index.js");
let jetstream: Js["jetstream"];
let OutboxFullError: Js["OutboxFullError"];
let fileStore: (path: string, options?: Parameters<OutboxFile["fileStore"]>[2]) => ReturnType<OutboxFile["fileStore"]>;

const fx = new Fixture();
let server: ServerHandle;
let serial = 0;

beforeAll(async () => {
  ({ jetstream, OutboxFullError } = (await import("../dist/nats-xs-jetstream.js")) as Js);
  const store = (await import("../dist/nats-xs-outbox-file.js")) as OutboxFile;
  const files = (await import("../host-sim/files.js")).default as unknown as Parameters<OutboxFile["fileStore"]>[0];
  fileStore = (path, options) => store.fileStore(files, path, options);
  server = await fx.server({ jetstream: true });
});
afterAll(async () => {
  await fx.cleanup();
  rmSync(DEVICE, { recursive: true, force: true });
});

/** A stream of its own for one test: [name, subject]. */
async function stream(): Promise<[string, string]> {
  const n = `OBF${++serial}_${process.pid}`;
  const peer = await fx.js({ servers: server.url });
  await (await peerManager(peer)).streams.add({ name: n, subjects: [`obf${serial}.${process.pid}`] });
  return [n, `obf${serial}.${process.pid}`];
}

async function streamIds(name: string): Promise<string[]> {
  const peer = await fx.js({ servers: server.url });
  const jsm = await peerManager(peer);
  const n = (await jsm.streams.info(name)).state.messages;
  const ids: string[] = [];
  for (let seq = 1; seq <= n; seq++) ids.push((await jsm.streams.getMessage(name, { seq })).header.get("Nats-Msg-Id"));
  return ids;
}

const swallow = () => {};

describe("jetstream() with outboxStore: fileStore()", () => {
  test("publishes accepted while the server is away outlive the connection and are sent, once, by the next context", async () => {
    const [name, subject] = await stream();
    const { nc } = await fx.xs({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const js = jetstream(nc, { outboxStore: fileStore("away"), timeout: 500 });
    await server.stop({ keepStore: true });
    for (let i = 1; i <= 3; i++) js.publish(subject, `r${i}`, { msgID: `away-${i}` }).catch(swallow);
    expect(js.outboxStatus()).toMatchObject({ published: 3, waiting: 3, restored: 0 });
    await nc.close(); // the device goes down before the server comes back
    await server.restart();
    const { nc: nc2 } = await fx.xs({ servers: server.url });
    const js2 = jetstream(nc2, { outboxStore: fileStore("away") });
    expect(js2.outboxStatus()).toMatchObject({ restored: 3, waiting: 3, corrupt: 0 });
    await within(js2.outboxIdle(), "the restored entries to be acked", 15_000);
    expect(js2.outboxStatus()).toMatchObject({ acked: 3, failed: 0, waiting: 0 });
    const ids = await streamIds(name);
    expect(ids.filter((id) => id !== "").sort()).toEqual(["away-1", "away-2", "away-3"]);
    // nothing is restored a third time
    await nc2.close();
    expect(readFileSync(join(ROOT, "away")).length).toBe(4);
    const again = fileStore("away");
    expect(again.open().length).toBe(0);
    again.close();
  });

  test("an entry whose ack was lost is sent again after the reboot and counted as a duplicate, not stored twice", async () => {
    const [name, subject] = await stream();
    // the device stored "lost-1" in its file and sent it; the stream stored it; the power went
    // before the ack came back
    const s = fileStore("lost");
    s.open();
    s.add(subject, "lost-1", "reading");
    s.close();
    const peer = await fx.js({ servers: server.url });
    await peerJetstream(peer).publish(subject, "reading", { msgID: "lost-1" });
    const { nc } = await fx.xs({ servers: server.url });
    const js = jetstream(nc, { outboxStore: fileStore("lost") });
    expect(js.outboxStatus().restored).toBe(1);
    await within(js.outboxIdle(), "the restored entry to be acked", 10_000);
    expect(js.outboxStatus()).toMatchObject({ acked: 1, duplicates: 1 });
    expect(await streamIds(name)).toEqual(["lost-1"]);
  });

  test("the file's bound: OutboxFullError when it has no room, accepted again once acks free it", async () => {
    const [, subject] = await stream();
    const { nc } = await fx.xs({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const js = jetstream(nc, { outboxStore: fileStore("full", { maxBytes: 512 }), timeout: 500 });
    await server.stop({ keepStore: true });
    const pending: Promise<unknown>[] = [];
    let refused: unknown = null;
    for (let i = 0; i < 50 && refused === null; i++) {
      const before = js.outboxStatus().published;
      const p = js.publish(subject, "x".repeat(40));
      if (js.outboxStatus().published === before) refused = await p.catch((e) => e);
      else pending.push(p);
    }
    expect(refused).toBeInstanceOf(OutboxFullError);
    expect((refused as Error).message).toMatch(/of 512 bytes/);
    expect(js.outboxStatus().refused).toBe(1);
    await server.restart();
    await within(Promise.all(pending), "the stored publishes to be acked", 15_000);
    await js.publish(subject, "x".repeat(40));
    expect(js.outboxStatus()).toMatchObject({ acked: pending.length + 1, failed: 0 });
  });

  test("a damaged file: the replay stops at the damage, counted in outboxStatus().corrupt, and the outbox works on", async () => {
    const [, subject] = await stream();
    const s = fileStore("damaged");
    s.open();
    s.add(subject, "d-1", "one");
    s.add(subject, "d-2", "two");
    s.close();
    const bytes = readFileSync(join(ROOT, "damaged"));
    bytes[bytes.length - 3] ^= 1;
    writeFileSync(join(ROOT, "damaged"), Buffer.concat([bytes, Buffer.from("garbage after it")]));
    const { nc } = await fx.xs({ servers: server.url });
    const store = fileStore("damaged");
    const js = jetstream(nc, { outboxStore: store });
    expect(js.outboxStatus()).toMatchObject({ restored: 1, corrupt: 1 });
    expect(store.status().error).toMatch(/checksum mismatch/);
    await within(js.outboxIdle(), "the restored entry", 10_000);
    await js.publish(subject, "three");
    await until(() => js.outboxStatus().acked === 2, "both acked");
  });

  test("a restored entry the stream refuses for good (no stream captures it) leaves the file, counted as failed", async () => {
    const s = fileStore("nostream");
    s.open();
    s.add(`nostream.${process.pid}`, "ns-1", "lost cause");
    s.close();
    const { nc } = await fx.xs({ servers: server.url });
    const store = fileStore("nostream");
    const js = jetstream(nc, { outboxStore: store, noStreamWait: 300, timeout: 500 });
    expect(js.outboxStatus().restored).toBe(1);
    await within(js.outboxIdle(), "the entry to fail", 10_000);
    expect(js.outboxStatus()).toMatchObject({ failed: 1, acked: 0, waiting: 0 });
    expect(store.status().entries).toBe(0);
    expect(readFileSync(join(ROOT, "nostream")).length).toBe(4);
  });

  test("outboxStore must be a store", () => {
    expect(() => jetstream({ request() {} } as never, { outboxStore: {} as never })).toThrow(/outboxStore must be a store/);
  });
});
