// The XS engine host (tools/xs/): built from the engine sources in @agoric/xsnap, it runs ES
// modules on real XS with the device modules firmware/ imports, under the ESP32 creation budget.
// Each test runs a small module from test/xs/fixtures/ in a child process; network tests talk to
// node:net servers on 127.0.0.1 only.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "test", "xs", "fixtures");
const RUNNER = join(ROOT, "tools", "xs", "run.mjs");

interface BuildModule {
  ensureBuilt(options?: { force?: boolean; quiet?: boolean }): string;
  isBuildCurrent(): boolean;
  BINARY: string;
}
interface RunModule {
  aliasArguments(root?: string): string[];
}

let build: BuildModule;
let binary: string;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without blocking this process (servers here must keep answering). */
function run(command: string, args: string[], timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a fixture on the host binary. */
function xs(fixture: string, ...args: string[]): Promise<Result> {
  return run(binary, [join(FIXTURES, fixture), ...args]);
}

/** Runs a fixture through the npm runner (`npm run xs -- ...`). */
function xsRunner(fixture: string, ...args: string[]): Promise<Result> {
  return run(process.execPath, [RUNNER, join(FIXTURES, fixture), ...args]);
}

function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(onConnection);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function freeTcpPort(): Promise<number> {
  const { server, port } = await listen(() => {});
  await close(server);
  return port;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  build = (await import(pathToFileURL(join(ROOT, "tools", "xs", "build.mjs")).href)) as BuildModule;
  binary = build.ensureBuilt({ quiet: true });
}, 300_000);

describe("build", () => {
  it("reuses the built engine while nothing changed", () => {
    expect(build.isBuildCurrent()).toBe(true);
    const started = Date.now();
    expect(build.ensureBuilt({ quiet: true })).toBe(binary);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("maps the package's own name through package.json exports", async () => {
    const runner = (await import(pathToFileURL(RUNNER).href)) as RunModule;
    const args = runner.aliasArguments(ROOT);
    expect(args).toContain(`nats-xs=${join(ROOT, "dist", "nats-xs.js")}`);
  });
});

describe("modules", () => {
  it("provides every device module, mc/config from key=value words, and trace", async () => {
    const result = await xs("devices.mjs", "server=nats://127.0.0.1:4222", "id=sensor-7", "count=3", "debug=false", "code=007");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [json, traced] = result.stdout.split("\n");
    const out = JSON.parse(json);
    expect(out).toMatchObject({
      TCP: "function",
      UDP: "function",
      Resolver: "function",
      timer: "function,function,function,function",
      TextEncoder: "function",
      TextDecoder: "function",
      // Typed as mcconfig (and host-sim) type them: booleans and plain integers, the rest strings.
      config: { server: "nats://127.0.0.1:4222", id: "sensor-7", count: 3, debug: false, code: "007" },
      configFrozen: true,
      memory: "function",
      gc: "function",
      budget: { chunkBytes: 78848, slots: 4928, stackSlots: 512 },
      exit: "function",
      relative: 42,
      traceType: "function",
      setTimeout: "undefined",
    });
    // trace() prints its arguments as they are: no separator, no newline added.
    expect(traced).toBe("a1true");
  });

  it("resolves nats-xs and nats-xs/<x> to the package's dist/ files, relative paths to the importer", async () => {
    const root = mkdtempSync(join(tmpdir(), "nats-xs-resolve-"));
    try {
      mkdirSync(join(root, "dist"));
      mkdirSync(join(root, "app"));
      writeFileSync(join(root, "dist", "nats-xs.js"), 'import { tag } from "./shared.js";\nexport const who = "lib-" + tag;\n');
      writeFileSync(join(root, "dist", "shared.js"), 'export const tag = "shared";\n');
      writeFileSync(join(root, "dist", "nats-xs-extra.js"), 'import { who } from "nats-xs";\nexport const extra = who + "+extra";\n');
      writeFileSync(
        join(root, "app", "main.mjs"),
        'import { who } from "nats-xs";\nimport { extra } from "nats-xs/extra";\nimport { local } from "../app/local.mjs";\ntrace(`${who} ${extra} ${local}\\n`);\n',
      );
      writeFileSync(join(root, "app", "local.mjs"), 'export const local = "local";\n');
      const result = await run(binary, ["--root", root, join(root, "app", "main.mjs")]);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe("lib-shared lib-shared+extra local\n");

      writeFileSync(join(root, "app", "bad.mjs"), 'import "nats-xs/nothing";\n');
      const bad = await run(binary, ["--root", root, join(root, "app", "bad.mjs")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/module "nats-xs\/nothing" not found/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("encodes and decodes UTF-8 like the WHATWG classes", async () => {
    const result = await xs("text.mjs");
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      ascii: "97,98,99",
      nul: "97,0,98",
      multi: "195,169,226,130,172,240,159,152,128",
      lone: "97,239,191,189,98",
      pair: "240,159,152,128",
      empty: 0,
      encodeInto: "2/4/97,226,130,172,0",
      roundtrip: true,
      nulLength: 3,
      invalid: "61,fffd,62,fffd",
      overlong: "fffd,fffd",
      surrogateBytes: "fffd,fffd,fffd",
      bom: 1,
      keepBom: 2,
      arrayBuffer: "hi",
      dataView: "hi",
      subarray: "hi",
      noInput: true,
      stream: true,
      streamTruncated: "fffd",
      fatal: true,
      label: true,
      encoding: "utf-8/utf-8",
    });
  });

  it("runs timers with Moddable semantics", async () => {
    const result = await xs("timers.mjs");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const log = result.stdout.trim().split(" ");
    // Nothing fires during the turn that sets it; immediate and 0 ms timers fire on the next turn.
    expect(log.slice(0, 4)).toEqual(["sync", "delay:true", "immediate", "zero"]);
    for (const entry of ["id:true", "repeat:3", "setrepeat:2", "again:2", "t10", "t30", "moved", "schedule-spent:throws"]) {
      expect(log).toContain(entry);
    }
    expect(log.indexOf("t10")).toBeLessThan(log.indexOf("t30"));
    expect(log.indexOf("t30")).toBeLessThan(log.indexOf("moved"));
    expect(log).not.toContain("idle fired!");
  });

  it("resolves localhost and IPv4 literals asynchronously, and fails other names", async () => {
    const result = await xs("resolver.mjs");
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      "localhost=127.0.0.1 127.0.0.1=127.0.0.1 10.1.2.3=10.1.2.3 nats.invalid:error 256.1.1.1:error\n",
    );
  });

  it("sends and receives a UDP datagram on loopback", async () => {
    const port = await freeUdpPort();
    const result = await xs("udp.mjs", `port=${port}`);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("count=1 bytes=3 from=127.0.0.1 first=42 next=undefined\n");
  });

  it("has the language features firmware relies on, and XS's own built-ins", async () => {
    const result = await xs("features.mjs");
    expect(result.stderr).toBe("");
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({
      privateFields: true,
      staticBlock: true,
      optionalChaining: true,
      nullish: true,
      logicalAssign: true,
      bigint: true,
      at: true,
      hasOwn: true,
      errorCause: true,
      arrayBufferFromString: "function",
      stringFromArrayBuffer: "function",
      setTimeout: "undefined",
      queueMicrotask: "undefined",
      console: "undefined",
      // Moddable device semantics: strings count code points; built-ins are frozen.
      stringLength: 1,
      frozenBuiltins: true,
      errorNameAssignment: "throws",
      errorNameField: "FieldError",
    });
  });
});

describe("TCP", () => {
  let echo: { server: Server; port: number };

  beforeAll(async () => {
    echo = await listen((socket) => {
      socket.on("error", () => {});
      socket.pipe(socket);
    });
  });

  afterAll(async () => {
    await close(echo.server);
  });

  it("connects, fires onWritable first, echoes, and reads whole, counted and into views", async () => {
    const result = await xs("tcp-echo.mjs", `port=${echo.port}`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const log = result.stdout.trim().split("|");
    expect(log[0]).toMatch(/^early:(write: )?not ready$/);
    expect(log[1]).toBe("writable:8192");
    expect(log[2]).toBe("free:8180");
    expect(log).toContain("read5:hello");
    expect(log).toContain("readView:3: wo");
    expect(log).toContain("readAll:rld!");
    expect(log).toContain("readEmpty:undefined");
    expect(log).toContain("readEmptyN:undefined");
    expect(log.find((entry) => entry.startsWith("over-read:"))).toMatch(/read of 4 bytes but 3 buffered/);
    expect(log.find((entry) => entry.startsWith("over-view:"))).toMatch(/read of 4 bytes but 3 buffered/);
    expect(log).toContain("readDataView:3:abc");
    expect(log).toContain("remote:127.0.0.1:true");
    expect(log).not.toContain("error");
  });

  it("bounds the send buffer at 8192 bytes: write copies all or throws would block", async () => {
    let received = 0;
    let ended: () => void = () => {};
    const done = new Promise<void>((resolve) => (ended = resolve));
    const sink = await listen((socket) => {
      socket.on("data", (chunk: Buffer) => (received += chunk.length));
      socket.on("close", () => ended());
      socket.on("error", () => {});
    });
    try {
      const result = await xs("tcp-backpressure.mjs", `port=${sink.port}`);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const line = result.stdout.trim();
      expect(line).not.toContain("re-entered");
      const log = line.split("|");
      expect(log.slice(0, 6)).toEqual([
        "writable:8192",
        "w8193:would block",
        "w8000=192",
        "w193:would block",
        "w192=0",
        "w1:would block",
      ]);
      // Every later onWritable reports the space freed once the loop handed the bytes over.
      expect(log.slice(6, 9)).toEqual(["writable:8192", "w8192=0", "writable:8192"]);
      const sent = Number(/sent=(\d+)/.exec(line)?.[1]);
      expect(sent).toBe(8000 + 192 + 3 * 8192);
      await done;
      expect(received).toBe(sent);
    } finally {
      await close(sink.server);
    }
  });

  it("delivers onError after a peer close only once buffered bytes were read", async () => {
    const peer = await listen((socket) => {
      socket.on("error", () => {});
      socket.end("bye!");
    });
    try {
      const result = await xs("tcp-peer-close.mjs", `port=${peer.port}`);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("readable:4 read:4 error write-after-error:not ready\n");
    } finally {
      await close(peer.server);
    }
  });

  it("reports a refused connection through onError", async () => {
    const port = await freeTcpPort();
    const result = await xs("tcp-refused.mjs", `port=${port}`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("not ready hostname:invalid address error\n");
  });

  it("never reports more than the receive window to onReadable", async () => {
    const size = 200_000;
    const payload = Buffer.alloc(size);
    let sum = 0;
    for (let i = 0; i < size; i++) {
      payload[i] = i % 251;
      sum = (sum + payload[i]) % 65536;
    }
    const bulk = await listen((socket) => {
      socket.on("error", () => {});
      socket.end(payload);
    });
    try {
      const result = await xs("tcp-bulk.mjs", `port=${bulk.port}`);
      expect(result.stderr).toBe("");
      const match = /total=(\d+) max=(\d+) sum=(\d+) many=(\w+)/.exec(result.stdout);
      expect(match).not.toBeNull();
      expect(Number(match?.[1])).toBe(size);
      expect(Number(match?.[2])).toBeLessThanOrEqual(8192);
      expect(Number(match?.[3])).toBe(sum);
      expect(match?.[4]).toBe("true");

      const small = await xs("tcp-bulk.mjs", `port=${bulk.port}`, "--rcvbuf", "1000");
      expect(Number(/max=(\d+)/.exec(small.stdout)?.[1])).toBeLessThanOrEqual(1000);
      expect(Number(/total=(\d+)/.exec(small.stdout)?.[1])).toBe(size);
    } finally {
      await close(bulk.server);
    }
  });
});

describe("failures", () => {
  it("exits 1 on an exception thrown by a callback, printing it", async () => {
    const result = await xs("throw.mjs");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("before\n");
    expect(result.stderr).toMatch(/^xs: uncaught exception: RangeError: boom from a timer callback/);
    expect(result.stderr).toMatch(/throw\.mjs:4/);
  });

  it("exits 1 on an exception at the module's top level, with its stack", async () => {
    const result = await xs("throw-top.mjs");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/xs: uncaught exception: TypeError: top-level failure/);
    expect(result.stderr).toMatch(/at fail \(.*throw-top\.mjs:2\)/);
  });

  it("exits 1 on an unhandled rejection", async () => {
    const result = await xs("reject.mjs");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/xs: unhandled rejection: Error: rejected and never handled/);
  });

  it("ends normally when rejections are handled and exceptions caught", async () => {
    const result = await xs("handled.mjs");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("caught SyntaxError\ncaught rejection\ndone\n");
  });

  it("exits 4 on a stack overflow", async () => {
    const result = await xs("overflow.mjs");
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/xs: stack overflow/);
  });

  it("reports a syntax error with its file and line", async () => {
    const result = await xs("syntax.mjs");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.mjs:2: error: missing expression/);
    expect(result.stderr).toMatch(/xs: uncaught exception: SyntaxError/);
  });

  it("exits 1 when the top-level await can never settle", async () => {
    const root = mkdtempSync(join(tmpdir(), "nats-xs-hang-"));
    try {
      writeFileSync(join(root, "hang.mjs"), "await new Promise(() => {});\n");
      const result = await run(binary, [join(root, "hang.mjs")]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/top-level await never settled/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("exits 2 on a usage error", async () => {
    expect((await run(binary, [])).code).toBe(2);
    expect((await run(binary, [join(FIXTURES, "nope.mjs")])).code).toBe(2);
    expect((await run(binary, [join(FIXTURES, "devices.mjs"), "--budget", "12"])).code).toBe(2);
  });

  it("forwards the module's exit status through the npm runner", async () => {
    const result = await xsRunner("exit.mjs");
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("exiting\n");
  });
});

describe("memory", () => {
  it("fails with memory full when the app needs more than its budget", async () => {
    const tiny = await xs("budget.mjs", "--budget", "16384,1024");
    expect(tiny.code).toBe(3);
    expect(tiny.stdout).toBe("");
    expect(tiny.stderr).toMatch(/^xs: memory full \((slot|chunk) heap\): .*16384 chunk bytes and 1024 slots/);

    const esp32 = await xs("budget.mjs");
    expect(esp32.code).toBe(3);

    const roomy = await xs("budget.mjs", "--budget", "4000000,200000");
    expect(roomy.stderr).toBe("");
    expect(roomy.code).toBe(0);
    expect(roomy.stdout).toBe("kept 20000\n");
  });

  it("prints the heap figures as the last stdout line with --memory", async () => {
    const result = await xsRunner("devices.mjs", "--memory", "a=b");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    const figures = JSON.parse(lines[lines.length - 1]);
    expect(Object.keys(figures)).toEqual(["slots", "slotsPeak", "chunkBytes", "chunkBytesPeak"]);
    for (const value of Object.values(figures)) expect(Number.isInteger(value)).toBe(true);
    expect(figures.slots).toBeGreaterThan(0);
    expect(figures.slots).toBeLessThanOrEqual(figures.slotsPeak);
    expect(figures.slotsPeak).toBeLessThanOrEqual(4928);
    expect(figures.chunkBytes).toBeLessThanOrEqual(figures.chunkBytesPeak);
    expect(figures.chunkBytesPeak).toBeLessThanOrEqual(78848);

    // The figures always get a line of their own.
    const partial = await xs("partial-line.mjs", "--memory");
    const [text, json] = partial.stdout.split("\n");
    expect(text).toBe("no newline at the end");
    expect(Object.keys(JSON.parse(json))).toEqual(["slots", "slotsPeak", "chunkBytes", "chunkBytesPeak"]);
  });

  it("keeps --preload modules out of the app's budget, as a manifest preload keeps them in flash", async () => {
    const root = mkdtempSync(join(tmpdir(), "nats-xs-preload-"));
    try {
      mkdirSync(join(root, "dist"));
      // A library whose code alone is larger than the ESP32 chunk budget.
      const functions = Array.from(
        { length: 400 },
        (_, i) => `export function f${i}(a, b) { const c = [a, b, ${i}]; return c.map((x) => x * ${i} + a - b).join("-${i}-"); }`,
      );
      writeFileSync(join(root, "dist", "nats-xs.js"), functions.join("\n") + "\n");
      writeFileSync(
        join(root, "main.mjs"),
        'import { memory } from "xs:memory";\nconst lib = await import("nats-xs");\ntrace(lib.f7(2, 1), " ", JSON.stringify(memory()), "\\n");\n',
      );
      const plain = await run(binary, ["--root", root, join(root, "main.mjs")]);
      expect(plain.code).toBe(3);
      expect(plain.stderr).toMatch(/memory full/);

      const preloaded = await run(binary, ["--root", root, "--preload", "nats-xs", join(root, "main.mjs")]);
      expect(preloaded.stderr).toBe("");
      expect(preloaded.code).toBe(0);
      const [value, figures] = preloaded.stdout.trim().split(" ");
      expect(value).toBe("15-7-8-7-50");
      expect(JSON.parse(figures).chunkBytes).toBeLessThan(4096);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("keeps pointers into the shared heap valid across the app's collections", async () => {
    const result = await xs("shared-gc.mjs");
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("isIPv4\n");
  });

  it("lets a module read the figures after a forced collection", async () => {
    const result = await xs("memory.mjs");
    expect(result.stderr).toBe("");
    const { before, during, after, budget } = JSON.parse(result.stdout);
    expect(budget).toEqual({ chunkBytes: 78848, slots: 4928, stackSlots: 512 });
    // 200 small objects hold at least 200 slots until they are dropped and collected.
    expect(during.slots - before.slots).toBeGreaterThanOrEqual(200);
    expect(after.slots).toBeLessThan(during.slots - 150);
    expect(after.slotsPeak).toBeGreaterThanOrEqual(during.slots);
    expect(during.chunkBytes).toBeGreaterThan(before.chunkBytes);
  });
});
