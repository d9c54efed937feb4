// The outbox of nats-xs/jetstream under faults, with real servers: a steady publisher while the
// server (file storage) is killed with -9 and restarted, and while the device's node of a 3-node
// JetStream cluster (R3 stream) is killed. Every publish that resolved must be in the stream exactly
// once, and nothing may be stored twice, as read back by nats.js (@nats-io/jetstream). And a durable
// consume that goes on across a kill -9 and restart of its server.
import { afterEach, describe, expect, test, vi } from "vitest";
import { jetstream as peerJetstream, jetstreamManager as peerManager } from "@nats-io/jetstream";
import type { JetStreamManager as PeerJsm } from "@nats-io/jetstream";
import type { NatsConnection as JsConnection } from "@nats-io/transport-node";
import { freePort } from "../tools/nats-server.mjs";
import type { NatsConnection } from "nats-xs";
import { jetstream, jetstreamManager, OutboxFullError } from "nats-xs/jetstream";
import type { JetStreamClient, PubAck } from "nats-xs/jetstream";
import { Fixture, sleep, until, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

vi.setConfig({ testTimeout: 90_000 });

const fx = new Fixture();
afterEach(() => fx.cleanup());

const FAST = { reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 };

/** A publisher at a steady rate; remembers what each publish ended with. */
class SteadyPublisher {
  readonly acked = new Map<string, PubAck>();
  readonly failed = new Map<string, Error>();
  published = 0;
  #stop = false;
  #loop: Promise<void> | null = null;

  constructor(readonly js: JetStreamClient, readonly subject: string, readonly everyMs: number) {}

  /** Publishes `n` at once (in one turn of the event loop). */
  burst(n: number): void {
    for (let i = 0; i < n; i++) this.#one();
  }

  #one(): void {
    const body = `m${this.published++}`;
    this.js.publish(this.subject, body).then(
      (ack) => this.acked.set(body, ack),
      (err: Error) => this.failed.set(body, err),
    );
  }

  start(): void {
    this.#loop = (async () => {
      while (!this.#stop) {
        this.#one();
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#loop;
    await within(this.js.outboxIdle(), "the outbox to empty", 60_000);
  }
}

/** Every payload of the stream, read by nats.js through an ordered consumer; tried again while a
 *  cluster that lost a node is still electing leaders (API requests time out until then). */
async function readAll(pjsm: PeerJsm, peer: JsConnection, stream: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await readOnce(pjsm, peer, stream);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    }
  }
}

async function readOnce(pjsm: PeerJsm, peer: JsConnection, stream: string): Promise<string[]> {
  const n = (await pjsm.streams.info(stream)).state.messages;
  const out: string[] = [];
  if (n === 0) return out;
  const c = await peerJetstream(peer).consumers.get(stream);
  const it = await c.fetch({ max_messages: n, expires: 10_000 });
  for await (const m of it) {
    out.push(m.string());
    if (out.length === n) break;
  }
  return out;
}

/** Checks the exactly-once claim and returns the figures for the report. */
function check(pub: SteadyPublisher, stored: string[]) {
  const counts = new Map<string, number>();
  for (const b of stored) counts.set(b, (counts.get(b) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([b]) => b);
  const missing = [...pub.acked.keys()].filter((b) => counts.get(b) !== 1);
  expect(twice).toEqual([]);
  expect(missing).toEqual([]);
  const st = pub.js.outboxStatus();
  // the only failure allowed is a refusal at the door: a full outbox, told to the caller at once
  const failures = [...pub.failed.values()];
  expect(failures.filter((e) => !(e instanceof OutboxFullError)).map((e) => e.message)).toEqual([]);
  const figures = {
    published: pub.published,
    acked: pub.acked.size,
    refused: failures.length,
    inStream: stored.length,
    duplicatesStored: twice.length,
    ackedAsDuplicate: st.duplicates,
    retries: st.retries,
  };
  console.log(`outbox figures: ${JSON.stringify(figures)}`);
  return figures;
}

describe("outbox across outages", () => {
  test("kill -9 and restart of a file-storage server: every acked publish is stored exactly once", async () => {
    const server = await fx.server({ jetstream: true });
    const { nc, status } = await fx.xs({ servers: server.url, ...FAST });
    const pjsm0 = await peerManager(await fx.js({ servers: server.url }));
    await pjsm0.streams.add({ name: "K9", subjects: ["k9.>"], storage: "file" as never });
    const pub = new SteadyPublisher(jetstream(nc as NatsConnection, { timeout: 1000, outboxBytes: 1 << 20 }), "k9.readings", 10);
    pub.start();
    await until(() => pub.acked.size >= 30, "30 acks before the kill", 20_000);
    // some of these reach the server and are stored, but their acks die with it
    pub.burst(30);
    await server.kill();
    await status.next("disconnect", 10_000);
    await sleep(700); // publishing goes on into the outbox
    expect(pub.js.outboxStatus().waiting).toBeGreaterThan(0);
    await server.restart();
    await status.next("reconnect", 20_000);
    const at = pub.published;
    await until(() => pub.acked.size > at, "acks after the restart", 30_000);
    await pub.stop();
    const peer = await fx.js({ servers: server.url });
    const stored = await readAll(await peerManager(peer), peer, "K9");
    const f = check(pub, stored);
    expect(f.acked + f.refused).toBe(f.published);
    expect(f.refused).toBe(0);
  });

  test("the device's node of a 3-node cluster is killed: every acked publish is in the R3 stream exactly once", async () => {
    const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
    const client = ports.slice(0, 3);
    const route = ports.slice(3);
    const routes = route.map((p) => `nats-route://127.0.0.1:${p}`).join(", ");
    const nodes: ServerHandle[] = await Promise.all(
      ["A", "B", "C"].map((name, i) =>
        fx.server({
          jetstream: true,
          port: client[i],
          config: `server_name: ${name}\ncluster {\n  name: jsc\n  listen: 127.0.0.1:${route[i]}\n  routes: [${routes}]\n}\n`,
        }),
      ),
    );
    const peer = await fx.js({ servers: nodes.slice(1).map((n) => n.url), ...FAST });
    // the cluster elects its meta leader first: the API and stream creation fail until then
    const pjsm = await peerManager(peer, { checkAPI: false });
    let made = false;
    await until(
      () => {
        if (!made) pjsm.streams.add({ name: "R3", subjects: ["r3.>"], storage: "file" as never, num_replicas: 3 }).then(() => (made = true), () => {});
        return made;
      },
      "the R3 stream to be created",
      30_000,
    );
    const { nc, status } = await fx.xs({ servers: nodes[0].url, noRandomize: true, ...FAST });
    await until(() => (nc.info?.connect_urls ?? []).length >= 2, "the other nodes in connect_urls", 10_000);
    const pub = new SteadyPublisher(jetstream(nc, { timeout: 1000, outboxBytes: 1 << 20 }), "r3.readings", 10);
    pub.start();
    await until(() => pub.acked.size >= 30, "30 acks before the kill", 20_000);
    pub.burst(30);
    await sleep(1);
    await nodes[0].kill();
    await status.next("reconnect", 20_000);
    const at = pub.published;
    await until(() => [...pub.acked.keys()].some((b) => Number(b.slice(1)) > at), "acks after the failover", 30_000);
    await pub.stop();
    const stored = await readAll(pjsm, peer, "R3");
    const f = check(pub, stored);
    // a long election under load may fill the outbox: those publishes were refused, never taken
    expect(f.acked + f.refused).toBe(f.published);
    expect(f.acked).toBeGreaterThan(60);
  });

  test("a durable consume goes on after its server is killed and restarted: every command is handled", async () => {
    const server = await fx.server({ jetstream: true });
    const { nc, status } = await fx.xs({ servers: server.url, ...FAST });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "CMD", subjects: ["cmd.>"], storage: "file" });
    await jsm.consumers.add("CMD", { durable_name: "dev", ack_policy: "explicit", ack_wait: 2_000_000_000 });
    const c = await jetstream(nc).consumers.get("CMD", "dev");
    const seen = new Set<string>();
    const msgs = await c.consume({ max_messages: 20, expires: 2000, idle_heartbeat: 500, callback: (m) => {
      seen.add(m.string());
      m.ack();
    } });
    const send = async (from: number, to: number) => {
      const peer = await fx.js({ servers: server.url });
      const pjs = peerJetstream(peer);
      for (let i = from; i < to; i++) await pjs.publish("cmd.x", `c${i}`);
      await peer.close();
    };
    await send(0, 20);
    await until(() => seen.size === 20, "the first 20 commands", 10_000);
    await server.kill();
    await status.next("disconnect", 10_000);
    await server.restart();
    await status.next("reconnect", 20_000);
    await send(20, 40);
    await until(() => seen.size === 40, "the 20 commands sent after the restart", 20_000);
    expect(msgs.stats().resets).toBeGreaterThan(0);
    await msgs.close();
  });
});
