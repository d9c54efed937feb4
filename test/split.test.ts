// Pay for what you use (issue 14, item 4): the status iterator and streamed publish are modules of
// their own (nats-xs/status, nats-xs/stream) that the core's dist file does not carry, each built
// to its own file that reaches the core only through "nats-xs"; and `xs-host --bytecode`, behind
// `npm run size`, reports what the XS compiler makes of a module. Built dist/ code, a real server.
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "nats-xs";
import { status } from "nats-xs/status";
import { publishStream } from "nats-xs/stream";
import { Fixture, within } from "./helpers.js";
import type { ServerHandle } from "./helpers.js";
import { ROOT } from "./xs-harness.ts";
// @ts-expect-error plain ES module
import { ensureBuilt } from "../tools/xs/build.mjs";

const fx = new Fixture();
let server: ServerHandle;

beforeAll(async () => {
  server = await fx.server();
});
afterAll(() => fx.cleanup());

const dist = (name: string) => readFileSync(join(ROOT, "dist", name), "utf8");

describe("the core split", () => {
  it("leaves the status iterator and streamed publish out of the core's dist file", () => {
    const core = dist("nats-xs.js");
    expect(core).not.toMatch(/class StatusStream|class MessageWriter|publishStream\(/);
    for (const m of ["nats-xs-status.js", "nats-xs-stream.js"]) {
      const imports = [...dist(m).matchAll(/^import .* from '([^']+)';$/gm)].map((x) => x[1]);
      // the core only by its package name: no chunk shared with it, no copy of its code
      expect(imports.every((i) => i === "nats-xs"), `${m} imports ${imports.join(", ")}`).toBe(true);
    }
  });

  it("nc.status() names the module that has it", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    expect(() => nc.status()).toThrow(InvalidArgumentError);
    expect(() => nc.status()).toThrow(/import \{ status \} from "nats-xs\/status"/);
  });

  it("status(nc) reports events until close and ends; on a closed connection it ends at once", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    const types: string[] = [];
    const done = (async () => {
      for await (const s of status(nc)) types.push(s.type);
    })();
    nc.reconnect();
    await within(
      (async () => {
        while (!types.includes("reconnect")) await new Promise((r) => setTimeout(r, 10));
      })(),
      "a reconnect event",
    );
    await nc.close();
    await within(done, "the iteration ends with the connection");
    expect(types).toContain("disconnect");
    expect(types[types.length - 1]).toBe("close");
    let after = 0;
    for await (const _ of status(nc)) after++;
    expect(after).toBe(0);
  });

  it("publishStream(nc, ...) refuses a closed connection", async () => {
    const { nc } = await fx.xs({ servers: server.url });
    await nc.close();
    expect(() => publishStream(nc, "split.closed", 1)).toThrow(/closed/);
  });

  it("xs-host --bytecode reports the code and symbols XS compiles a module to, and fails on bad source", () => {
    const binary = ensureBuilt({ quiet: true }) as string;
    const r = spawnSync(binary, ["--bytecode", join(ROOT, "dist", "nats-xs-status.js")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim()) as { code: number; symbols: number; hosts: number };
    expect(s.code).toBeGreaterThan(500);
    expect(s.symbols).toBeGreaterThan(0);
    const bad = spawnSync(binary, ["--bytecode", join(ROOT, "test", "split.test.ts")], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });
});
