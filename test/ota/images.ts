// Images for the OTA suites: modules of test/ota/ bundled with firmware/apps/sensor/update.ts by
// esbuild (types stripped, nothing else transformed), device modules and nats-xs left as imports,
// as factory images and as update images. `padding` adds a comment of that many bytes (an image of
// a given size that costs nothing to load: comments are not kept).
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const EXTERNAL = ["nats-xs", "nats-xs/*", "ota", "ota/*", "crypt", "timer", "mc/*", "text/*", "embedded:*", "xs:*"];

/** An ES module bundled from `entry` (a file of test/ota/) with `define`d constants, plus a
 *  comment of `padding` bytes. */
export async function bundle(entry: string, define: Record<string, string> = {}, padding = 0): Promise<Uint8Array> {
  const out = await build({
    entryPoints: [join(ROOT, "test", "ota", entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    external: EXTERNAL,
    define,
    logLevel: "silent",
  });
  let text = out.outputFiles[0].text;
  if (padding > 0) text += `/*${"x".repeat(padding)}*/\n`;
  return new TextEncoder().encode(text);
}

/** test/ota/device.mjs as the image of `version`; `crash`: it throws at boot. */
export function deviceImage(version: string, opts: { crash?: boolean; padding?: number } = {}): Promise<Uint8Array> {
  return bundle("device.mjs", { VERSION: JSON.stringify(version), CRASH: String(opts.crash === true) }, opts.padding ?? 0);
}
