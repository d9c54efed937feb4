// A firmware project of its own that depends on nats-xs (examples/project-template, installed from
// this checkout's path as a user's would be from npm or a path): its device code type-checks under
// `strict` against the package's declarations (no skipLibCheck), its manifest's include of the
// library resolves inside node_modules, and `nats-xs-sim` runs it against a real server with nats.js
// as the peer.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Fixture, within } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const fx = new Fixture();
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "nats-xs-project-"));
  cpSync(path.join(ROOT, "examples", "project-template"), dir, { recursive: true });
  const pkgFile = path.join(dir, "package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  pkg.dependencies["nats-xs"] = `file:${ROOT}`;
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
  const r = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
}, 150_000);

afterAll(async () => {
  await fx.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("a project that depends on nats-xs", () => {
  test("its device code type-checks under strict with the package's declarations", () => {
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("its manifest includes the library's manifest from node_modules", () => {
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    const own = manifest.include.filter((p: string) => !p.startsWith("$(MODDABLE)"));
    expect(own.length).toBeGreaterThan(0);
    for (const p of own) {
      const file = path.join(dir, p);
      expect(existsSync(file), p).toBe(true);
      // and what that manifest points at is built
      const lib = JSON.parse(readFileSync(file, "utf8"));
      for (const m of Object.values(lib.modules) as string[]) expect(existsSync(path.join(path.dirname(file), `${m}.js`)), m).toBe(true);
    }
  });

  test("nats-xs-sim runs it: it says hello, answers a ping from nats.js, and ends", async () => {
    const server = await fx.server();
    const peer = await fx.js({ servers: server.url });
    const hello = new Promise<string>((resolve) => peer.subscribe("tpl-1.hello", { max: 1, callback: (_e, m) => resolve(m.string()) }));
    await peer.flush();
    const child = spawn(path.join(dir, "node_modules", ".bin", "nats-xs-sim"), ["main.js", `nats=${server.url}`, "id=tpl-1", "count=1"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(JSON.parse(await within(hello, `hello from the app (output: ${out})`, 20_000)).id).toBe("tpl-1");
    const reply = await peer.request("tpl-1.cmd.ping", "", { timeout: 10_000 });
    expect(reply.json()).toEqual({ id: "tpl-1", pings: 1 });
    expect(await within(exited, "the app to end after its ping", 15_000)).toBe(0);
    expect(out).toMatch(/tpl-1: ready/);
  }, 60_000);
});
