// The examples of README.md and docs/*.md run as written (issue 13, point 4): each file under
// examples/ that they quote (test/doc-examples.test.ts checks the quoting) runs as
// `node --import ./host-sim/register.js examples/<file> nats=<url>` against a real nats-server,
// with what it needs started here (JetStream, the file server over http and https, an nkey user, a
// TLS server), ends by itself with status 0, and prints the line that says it did its work. The
// bridge's device and backend run together, in both start orders.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createUser } from "@nats-io/nkeys";
import { startFileServer } from "../tools/fileserver.mjs";
import { makeCerts, tlsBlock } from "../tools/certs.mjs";
import { freePort } from "../tools/nats-server.mjs";
import type { Certs } from "../tools/certs.mjs";
import { Fixture, sleep } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUN_MS = 30_000;
type FileServer = Awaited<ReturnType<typeof startFileServer>>;

const fx = new Fixture();
let js: ServerHandle;
let files: FileServer;
let httpsFiles: FileServer;
let certs: Certs;

beforeAll(async () => {
  certs = makeCerts();
  js = await fx.server({ jetstream: true });
  files = await startFileServer();
  httpsFiles = await startFileServer({ tls: { cert: certs.server.cert, key: certs.server.key } });
}, 60_000);
afterAll(async () => {
  await files.close();
  await httpsFiles.close();
  await fx.cleanup();
  certs.remove();
});

interface Run {
  status: number | null;
  out: string;
}

/** Runs examples/<file> in the host simulator with `words` after it and `env` added; kills it after RUN_MS. */
function run(file: string, words: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "./host-sim/register.js", `examples/${file}`, ...words], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_MS);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

function expectRan(r: Run, line: RegExp): void {
  expect(r.out).toMatch(line);
  expect(r.status, r.out).toBe(0);
}

describe("the examples run as written against a real server", () => {
  test("hello.js: publish, subscribe, iterate, headers, request/reply, drain", async () => {
    const r = await run("hello.js", [`nats=${js.url}`]);
    expectRan(r, /^led: ok$/m);
    expect(r.out).toMatch(/^no config service is running$/m);
    expect(r.out).toMatch(/^hello: done, kept 1 command\(s\)$/m);
  });

  test("chunks.js: a 100 KB frame sent with publishStream and received in chunks", async () => {
    expectRan(await run("chunks.js", [`nats=${js.url}`]), /^chunks: 100000 bytes written to flash$/m);
  });

  test("outbox-file.js: readings through the outbox kept in a file, twice with the same device folder", async () => {
    const device = mkdtempSync(join(tmpdir(), "nats-xs-example-device-"));
    try {
      for (let boot = 0; boot < 2; boot++) {
        const r = await run("outbox-file.js", [`nats=${js.url}`], { NATS_XS_DEVICE_DIR: device });
        expectRan(r, /^outbox-file: 5 readings stored, the file is 4 bytes again$/m);
        expect(r.out).toMatch(/^restored 0 readings from before the reboot$/m);
      }
    } finally {
      rmSync(device, { recursive: true, force: true });
    }
  });

  test("jetstream.js: stream, durable consumer, fetch/next/consume, replay, direct get", async () => {
    expectRan(await run("jetstream.js", [`nats=${js.url}`]), /^jetstream: replay from #1, last is #\d+ cam-1-0003\.jpg$/m);
  });

  test("kv.js: put, update, get, keys, history, watch", async () => {
    const r = await run("kv.js", [`nats=${js.url}`]);
    expectRan(r, /^watch: led\.color = blue$/m);
  });

  test("obj.js: a 300 KB object put from a PayloadSource and read back", async () => {
    expectRan(await run("obj.js", [`nats=${js.url}`]), /^obj: put 300000 bytes in 3 chunks, got 300000 back; cfg\.json is 2 bytes$/m);
  });

  test("services.js: a micro service discovered with $SRV.INFO, a config refused with the error headers and counted", async () => {
    expectRan(await run("services.js", [`nats=${js.url}`]), /^services: 3 endpoints; config refused 400 "interval must be a number"; 1 error counted$/m);
  });

  test("bridge-objlink.js: a link payload through the Object Store, read back over NATS", async () => {
    expectRan(await run("bridge-objlink.js", [`nats=${js.url}`]), /^bridge-objlink: cam\.jpg of 40000 bytes from links$/m);
  });

  test("bridge-tour.js: every payload type, a command answered, an Arrow table by columns", async () => {
    const r = await run("bridge-tour.js", [`nats=${js.url}`, `files=${files.url}`]);
    expectRan(r, /^bridge-tour: done/m);
    expect(r.out).toMatch(/^command answered: \{"ok":true\}$/m);
    expect(r.out).toMatch(/^set points: 19, 21\.5$/m);
  });

  test("bridge-https.js: a link payload over https, the file server checked against the given CA", async () => {
    const r = await run("bridge-https.js", [`nats=${js.url}`, `files=${httpsFiles.url}`], { MC_CA: certs.ca });
    expectRan(r, /^bridge-https: cam\.jpg of 50000 bytes by link$/m);
  });

  test("auth.js: an nkey user signs in with its seed", async () => {
    const user = createUser();
    const s = await fx.server({ config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n` });
    expectRan(await run("auth.js", [`nats=${s.url}`, `seed=${new TextDecoder().decode(user.getSeed())}`]), /^auth: connected to .* as an nkey user$/m);
  });

  test("tls.js: a TLS server checked against the CA given in MC_CA", async () => {
    const s = await fx.server({ config: tlsBlock(certs.server) });
    expectRan(await run("tls.js", [`nats=tls://127.0.0.1:${s.port}`], { MC_CA: certs.ca }), /^tls: connected to .*, tls_required true$/m);
  });

  for (const first of ["device", "backend"] as const) {
    test(`bridge-device.js and bridge-backend.js work together, the ${first} started first`, async () => {
      const device = () => run("bridge-device.js", [`nats=${js.url}`, `files=${files.url}`]);
      const backend = () => run("bridge-backend.js", [`nats=${js.url}`]);
      const a = first === "device" ? device() : backend();
      await sleep(1500);
      const b = first === "device" ? backend() : device();
      const [d, k] = first === "device" ? [await a, await b] : [await b, await a];
      expectRan(d, /^device: command answered$/m);
      expectRan(k, /^backend: reply \{"done":"reboot"\} to [0-9a-f-]{36}$/m);
      expect(k.out).toMatch(/^s7: cam\.jpg 100000 bytes, \[\{"celsius":20\.5\},\{"celsius":21\}\]$/m);
    }, 60_000);
  }

  test("the sensor app without a server setting says so at boot and stops (no 127.0.0.1 default on a board)", async () => {
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, ["--import", "./host-sim/register.js", "dist/apps/sensor.js", "id=s-none"], { cwd: ROOT, env: { ...process.env, MC_NATS: "" }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), RUN_MS);
      child.on("close", (status) => {
        clearTimeout(timer);
        resolve({ status, out });
      });
    });
    expect(r.out).toMatch(/sensor s-none: no NATS server set: build with nats=/);
    expect(r.status).not.toBe(0);
  });

  test("an example with no server to reach ends by itself with an error", async () => {
    const r = await run("hello.js", [`nats=nats://127.0.0.1:${await freePort()}`]);
    expect(r.status).not.toBe(0);
  });
});
