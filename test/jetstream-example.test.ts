// The user's own use of JetStream: examples/image-metadata publishes file metadata with a
// `file-name` header to IMAGE_STREAM on images.process. The example runs as a device script under
// the host simulator (as `node --import ./host-sim/register.js` runs it) and nats.js reads it back.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { jetstream as peerJetstream, jetstreamManager as peerManager } from "@nats-io/jetstream";
import { Fixture, within } from "./helpers.js";

const fx = new Fixture();
afterEach(() => fx.cleanup());

const register = fileURLToPath(new URL("../host-sim/register.js", import.meta.url));
const example = fileURLToPath(new URL("../examples/image-metadata/main.js", import.meta.url));

function run(url: string, ...words: string[]): Promise<{ code: number | null; out: string }> {
  return within(
    new Promise((resolve) => {
      const child = spawn(process.execPath, ["--import", register, example, `nats=${url}`, ...words], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("exit", (code) => resolve({ code, out }));
    }),
    "the example to finish",
    30_000,
  );
}

test("the image metadata example stores each file's metadata once, with its file-name header, as nats.js reads it", async () => {
  const server = await fx.server({ jetstream: true });
  const first = await run(server.url, "count=3");
  expect(first.out).toContain("3 acked, 0 already stored, 0 failed");
  expect(first.code).toBe(0);
  // a second run (a reboot) finds the stream and stores nothing twice
  const second = await run(server.url, "count=3");
  expect(second.out).toContain("3 acked, 3 already stored, 0 failed");

  const peer = await fx.js({ servers: server.url });
  const info = await (await peerManager(peer)).streams.info("IMAGE_STREAM");
  expect(info.config.subjects).toEqual(["images.process"]);
  expect(info.state.messages).toBe(3);
  const c = await peerJetstream(peer).consumers.get("IMAGE_STREAM");
  const got: { name: string; meta: Record<string, unknown> }[] = [];
  for await (const m of await c.fetch({ max_messages: 3, expires: 5000 })) {
    expect(m.subject).toBe("images.process");
    got.push({ name: m.headers?.get("file-name") ?? "", meta: m.json() });
  }
  expect(got.map((g) => g.name)).toEqual(["cam-1-0001.jpg", "cam-1-0002.jpg", "cam-1-0003.jpg"]);
  expect(got[0].meta).toMatchObject({ file_name: "cam-1-0001.jpg", content_type: "image/jpeg", width: 1600 });
});
