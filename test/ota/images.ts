// Images for the OTA suites: test/ota/device.mjs bundled with firmware/apps/sensor/update.ts by
// esbuild (types stripped, nothing else transformed), device modules and nats-xs left as imports,
// as the factory image and as update images. `padding` adds a comment of that many bytes (an image
// of a given size that costs nothing to load).
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const EXTERNAL = ["nats-xs", "nats-xs/*", "ota", "ota/*", "crypt", "timer", "mc/*", "text/*", "embedded:*"];

export async function deviceImage(version: string, opts: { crash?: boolean; padding?: number } = {}): Promise<Uint8Array> {
  const out = await build({
    entryPoints: [join(ROOT, "test", "ota", "device.mjs")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    external: EXTERNAL,
    define: { VERSION: JSON.stringify(version), CRASH: String(opts.crash === true) },
    logLevel: "silent",
  });
  let text = out.outputFiles[0].text;
  if (opts.padding !== undefined && opts.padding > 0) text += `/*${"x".repeat(opts.padding)}*/\n`;
  return new TextEncoder().encode(text);
}
