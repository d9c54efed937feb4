// The README's and docs' examples type-check as they are written (issue 13, point 3): every ```js
// and ```ts block of README.md and docs/*.md, and every script directly under examples/, is
// checked by `tsc --strict` without skipLibCheck (a block quoted from a file of examples/, as all
// of them are now, is checked as part of that whole file) against the published declarations (dist/types,
// through the package's own name, as a project that depends on nats-xs sees them), with the device
// declarations (nats-xs/device) and the documented preamble of fragments (docs/examples-preamble.d.ts).
// A block is compiled as a module of its own, so its names do not meet another block's.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// inside the checkout, so that `nats-xs` resolves to this package by its own name (package exports)
const DIR = join(ROOT, "test", `.doc-examples-${process.pid}`);

interface Block {
  file: string;
  line: number;
  code: string;
}

function blocks(): Block[] {
  const files = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  const out: Block[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), "utf8");
    const fence = /^```(?:js|ts)\n([\s\S]*?)^```/gm;
    let m: RegExpExecArray | null;
    while ((m = fence.exec(text)) !== null) out.push({ file, line: text.slice(0, m.index).split("\n").length + 1, code: m[1] });
  }
  return out;
}

/** Scripts under examples/, except in folders that are projects of their own (a tsconfig.json of
 *  their own, checked by their own test, as examples/project-template is). */
function exampleScripts(dir: string, rel: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (rel !== "" && entries.some((e) => e.name === "tsconfig.json")) return [];
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && e.name !== "node_modules") out.push(...exampleScripts(join(dir, e.name), `${rel}${e.name}/`));
    else if (e.isFile() && /\.(m?js|ts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(`${rel}${e.name}`);
  }
  return out;
}

/** tsc --strict over `include` (relative to `dir`), with the device declarations, as a project
 *  that depends on nats-xs compiles: no skipLibCheck. */
function typecheck(dir: string, include: string[]): { status: number | null; report: string } {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        lib: ["ES2023"],
        types: [],
        allowJs: true,
        checkJs: true,
        strict: true,
        noEmit: true,
      },
      include: [...include, "../../../firmware/device/modules.d.ts"],
    }),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, report: `${r.stdout}${r.stderr}` };
}

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe("documentation examples under tsc --strict", () => {
  it("type-checks every code block of README.md and docs/*.md (fragments with the preamble) and every script of examples/", () => {
    const all = blocks();
    expect(all.length).toBeGreaterThanOrEqual(10);
    // a block quoted from a file of examples/ is checked in that file, whole, below
    const quotes = exampleScripts(join(ROOT, "examples"), "").flatMap((f) => quotable(f));
    const found = all.filter((b) => !quotes.includes(b.code));
    const dir = join(DIR, "docs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "none.ts"), "export {};\n");
    const names = new Map<string, Block>();
    found.forEach((b, i) => {
      const name = `block${String(i).padStart(2, "0")}.ts`;
      names.set(name, b);
      writeFileSync(join(dir, name), `${b.code}\nexport {};\n`);
    });
    const r = typecheck(dir, ["*.ts", "../../../docs/examples-preamble.d.ts"]);
    // name each error by the document and line it comes from
    const report = r.report.replace(/^(block\d+\.ts)\((\d+),(\d+)\)/gm, (_all, name: string, line: string) => {
      const b = names.get(name) as Block;
      return `${b.file}:${b.line + Number(line) - 1}`;
    });
    expect(report).toBe("");
    expect(r.status).toBe(0);
    // the scripts of examples/ are whole files: checked without the preamble, they define what they use
    const scripts = exampleScripts(join(ROOT, "examples"), "");
    if (scripts.length > 0) {
      const own = join(DIR, "examples");
      mkdirSync(own, { recursive: true });
      const e = typecheck(own, scripts.map((f) => `../../../examples/${f}`));
      expect(e.report).toBe("");
      expect(e.status).toBe(0);
    }
  }, 120_000);

  it("the published declarations leave the internal hooks out", () => {
    const connection = readFileSync(join(ROOT, "dist", "types", "nats", "connection.d.ts"), "utf8");
    for (const hook of ["onMsgHead", "onInfo", "onMsg(", "onChunk", "literalSubject", "streamWrite", "streamEnd", "streamAbort", "drainSubscription", "decoder"])
      expect(connection, hook).not.toContain(hook);
    expect(connection).not.toMatch(/implements/);
    const index = readFileSync(join(ROOT, "dist", "types", "index.d.ts"), "utf8");
    for (const name of ["Parser", "ParserSink", "Delivery"]) expect(index, name).not.toMatch(new RegExp(`\\b${name}\\b`));
    const subscription = readFileSync(join(ROOT, "dist", "types", "nats", "subscription.d.ts"), "utf8");
    for (const hook of ["enqueue", "firstDrop", "finish("]) expect(subscription, hook).not.toContain(hook);
  });
});

/** The text of `file` under examples/ and of each of its marked regions (`// #region name` to
 *  `// #endregion name`; a name used more than once is its parts joined by a blank line). */
function quotable(file: string): string[] {
  const text = readFileSync(join(ROOT, "examples", file), "utf8");
  const parts = new Map<string, string[]>();
  const region = /^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion \1\n/gm;
  let m: RegExpExecArray | null;
  while ((m = region.exec(text)) !== null) parts.set(m[1], [...(parts.get(m[1]) ?? []), m[2]]);
  return [text, ...[...parts.values()].map((p) => p.join("\n"))];
}

describe("documentation examples are quoted from examples/", () => {
  it("every js/ts block of README.md and docs/*.md is a file under examples/ or a marked region of one", () => {
    const quotes = exampleScripts(join(ROOT, "examples"), "").flatMap((f) => quotable(f));
    const unquoted = blocks()
      .filter((b) => !quotes.includes(b.code))
      .map((b) => `${b.file}:${b.line}`);
    expect(unquoted).toEqual([]);
  });
});
