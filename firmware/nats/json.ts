/**
 * Bounds for untrusted JSON. `JSON.parse` recurses once per nesting level and allocates a slot or
 * more per value: on a 512-slot stack a few hundred `[` overflow it, and a few KB of `[],` fill the
 * slot heap. `checkJson` scans the text first (no allocation, no recursion) and refuses what goes
 * past the limits; `parseJson` parses only what passed. The core uses it for INFO; the bridge and
 * the JetStream modules use it for what peers and the server send them.
 */
import { JsonLimitError } from "./errors.js";

/** Limits for checkJson(); each is optional. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays (default 16). */
  maxDepth?: number;
  /** Longest text in UTF-8 bytes (a string counts its UTF-16 units, a lower bound; default 65536). */
  maxBytes?: number;
  /** Most values (members and elements, containers included; default 4096). */
  maxValues?: number;
  /** What the text is, for the error message (default "JSON text"). */
  what?: string;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;

/**
 * Throws JsonLimitError when `text` (a string, or bytes of UTF-8) nests deeper, is longer or holds
 * more values than `limits` allow. It checks bounds only; JSON.parse still checks the syntax.
 */
export function checkJson(text: string | Uint8Array, limits: JsonLimits = {}): void {
  const maxDepth = limits.maxDepth ?? 16;
  const maxBytes = limits.maxBytes ?? 65536;
  const maxValues = limits.maxValues ?? 4096;
  const what = limits.what ?? "JSON text";
  const isString = typeof text === "string";
  const n = text.length;
  if (n > maxBytes) throw new JsonLimitError("bytes", maxBytes, what);
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = isString ? (text as string).charCodeAt(i) : (text as Uint8Array)[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === 123 || c === 91) {
      // { or [
      if (++depth > maxDepth) throw new JsonLimitError("depth", maxDepth, what);
      if (++values > maxValues) throw new JsonLimitError("values", maxValues, what);
    } else if (c === 125 || c === 93) depth--;
    else if (c === COMMA && ++values > maxValues) throw new JsonLimitError("values", maxValues, what);
  }
}

/** checkJson() then JSON.parse(); throws JsonLimitError or SyntaxError. */
export function parseJson(text: string, limits: JsonLimits = {}): unknown {
  checkJson(text, limits);
  return JSON.parse(text);
}
