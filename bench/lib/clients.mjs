// The three clients behind one set of measurements. nats.js and nats-xs share the same code (nats-xs
// is an API subset of nats.js), so both pay for exactly the same calls; the raw limit does the same
// work with pre-built frames.
import { performance } from "node:perf_hooks";
import { payloadOf, pubFrame, RawConn, rawPublish } from "./raw.mjs";

export const SUBJECT_PUB = "bench.pub";
export const SUBJECT_ECHO = "bench.echo";

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A latency summary in microseconds. */
function percentiles(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: at(0.5) * 1000, p99: at(0.99) * 1000 };
}

/**
 * A client built on the nats.js v3 API (nats.js itself, or nats-xs).
 * @param {(opts: object) => Promise<any>} connect
 */
export function apiClient(connect, extra = {}) {
  /** @type {any} */
  let nc;
  /** @type {any} */
  let nc2;

  /** publish() that waits a turn when the client refuses for a full outbound queue (nats-xs bounds
   *  it; nats.js never refuses), as a device app would. A client whose publish() returns false
   *  (queue above its high-water mark) is given the turn before it has to refuse; nats.js returns
   *  undefined, so this costs it nothing. */
  async function publishAll(conn, subject, payload, n) {
    for (let i = 0; i < n; i++) {
      try {
        if (conn.publish(subject, payload) === false) await turn();
      } catch (e) {
        if (e?.name !== "BufferFullError" && e?.code !== "BUFFER_FULL") throw e;
        await turn();
        i--;
      }
    }
  }

  return {
    async open(url) {
      nc = await connect({ ...extra, servers: url, name: "bench" });
      nc2 = await connect({ ...extra, servers: url, name: "bench-pub" });
    },
    async close() {
      await nc.close();
      await nc2.close();
    },
    async pub({ n, size }) {
      const payload = new Uint8Array(payloadOf(size));
      const t0 = performance.now();
      await publishAll(nc, SUBJECT_PUB, payload, n);
      await nc.flush();
      return { ms: performance.now() - t0 };
    },
    async sub({ subject, n }, ready) {
      let count = 0;
      let first = 0;
      let last = 0;
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      const sub = nc.subscribe(subject, {
        callback: (_err, _msg) => {
          if (count === 0) first = performance.now();
          if (++count === n) {
            last = performance.now();
            done();
          }
        },
      });
      await nc.flush();
      ready();
      await finished;
      sub.unsubscribe();
      return { ms: last - first, msgs: n - 1 };
    },
    async e2e({ subject, n, size }) {
      const payload = new Uint8Array(payloadOf(size));
      let count = 0;
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      const sub = nc.subscribe(subject, {
        callback: () => {
          if (++count === n) done();
        },
      });
      await nc.flush();
      const t0 = performance.now();
      await publishAll(nc2, subject, payload, n);
      await finished;
      const ms = performance.now() - t0;
      sub.unsubscribe();
      return { ms };
    },
    async reqSeq({ n, size }) {
      const payload = new Uint8Array(payloadOf(size));
      const lat = new Float64Array(n);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await nc.request(SUBJECT_ECHO, payload, { timeout: 5000 });
        lat[i] = performance.now() - s;
      }
      return { ms: performance.now() - t0, ...percentiles(lat) };
    },
    async reqPar({ n, size, inflight }) {
      const payload = new Uint8Array(payloadOf(size));
      let sent = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (sent < n) {
          sent++;
          await nc.request(SUBJECT_ECHO, payload, { timeout: 5000 });
        }
      };
      const workers = [];
      for (let i = 0; i < inflight; i++) workers.push(worker());
      await Promise.all(workers);
      return { ms: performance.now() - t0 };
    },
  };
}

/** The raw-socket limit: the same operations with pre-built frames and the simplest scanner. */
export function rawClient() {
  /** @type {RawConn} */
  let c;
  /** @type {RawConn} */
  let c2;
  let sids = 0;

  return {
    async open(url) {
      c = await RawConn.open(url);
      c2 = await RawConn.open(url);
    },
    async close() {
      c.close();
      c2.close();
    },
    async pub({ n, size }) {
      const payload = payloadOf(size);
      const t0 = performance.now();
      await rawPublish(c, SUBJECT_PUB, payload, n);
      await c.ping();
      return { ms: performance.now() - t0 };
    },
    async sub({ subject, n }, ready) {
      const sid = ++sids;
      let count = 0;
      let first = 0;
      let last = 0;
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      c.onMsg = () => {
        if (count === 0) first = performance.now();
        if (++count === n) {
          last = performance.now();
          done();
        }
      };
      c.write(Buffer.from(`SUB ${subject} ${sid}\r\n`));
      await c.ping();
      ready();
      await finished;
      c.write(Buffer.from(`UNSUB ${sid}\r\n`));
      return { ms: last - first, msgs: n - 1 };
    },
    async e2e({ subject, n, size }) {
      const sid = ++sids;
      let count = 0;
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      c.onMsg = () => {
        if (++count === n) done();
      };
      c.write(Buffer.from(`SUB ${subject} ${sid}\r\n`));
      await c.ping();
      const t0 = performance.now();
      await rawPublish(c2, subject, payloadOf(size), n);
      await finished;
      const ms = performance.now() - t0;
      c.write(Buffer.from(`UNSUB ${sid}\r\n`));
      return { ms };
    },
    async reqSeq({ n, size }) {
      const sid = ++sids;
      const inbox = `_INBOX.raw${sid}`;
      c.write(Buffer.from(`SUB ${inbox}.* ${sid}\r\n`));
      await c.ping();
      const frame = pubFrame(SUBJECT_ECHO, payloadOf(size), `${inbox}.1`);
      let wake = () => {};
      c.onMsg = () => wake();
      const lat = new Float64Array(n);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        const got = new Promise((resolve) => (wake = resolve));
        c.write(frame);
        await got;
        lat[i] = performance.now() - s;
      }
      const ms = performance.now() - t0;
      c.write(Buffer.from(`UNSUB ${sid}\r\n`));
      return { ms, ...percentiles(lat) };
    },
    async reqPar({ n, size, inflight }) {
      const sid = ++sids;
      const inbox = `_INBOX.raw${sid}`;
      c.write(Buffer.from(`SUB ${inbox}.* ${sid}\r\n`));
      await c.ping();
      const frame = pubFrame(SUBJECT_ECHO, payloadOf(size), `${inbox}.1`);
      let sent = 0;
      let got = 0;
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      c.onMsg = () => {
        got++;
        if (sent < n) {
          sent++;
          c.write(frame);
        } else if (got === n) done();
      };
      const t0 = performance.now();
      for (; sent < Math.min(inflight, n); sent++) c.write(frame);
      await finished;
      const ms = performance.now() - t0;
      c.write(Buffer.from(`UNSUB ${sid}\r\n`));
      return { ms };
    },
  };
}
