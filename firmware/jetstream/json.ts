/**
 * JetStream replies are JSON from the network: hostile until checked. Before `JSON.parse` sees a
 * reply its size is capped and its nesting depth counted with a byte scan (a deeply nested reply
 * would overflow the 512-slot stack of XS inside the parser); after it, every field used is checked
 * for type and range. A reply that fails is a JetStreamResponseError and is dropped.
 */
import type TextDecoder from "text/decoder";
import { checkJson, JsonLimitError } from "nats-xs";
import { apiError, JetStreamResponseError } from "./errors.js";

/** Deepest nesting accepted: stream info, the deepest reply JetStream sends, needs 4. */
export const MAX_DEPTH = 12;
/** Longest string accepted for a name from the server (stream, consumer, domain). */
const MAX_NAME = 256;


/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** Parses a reply that must be one JSON object, within `maxBytes` and MAX_DEPTH. */
export function parseReply(bytes: Uint8Array, decoder: TextDecoder, maxBytes: number): Json {
  if (bytes.length === 0) throw new JetStreamResponseError("the reply is empty");
  if (bytes.length > maxBytes) throw new JetStreamResponseError(`the reply has ${bytes.length} bytes, more than the ${maxBytes} accepted (option maxResponseBytes)`);
  try {
    // the core's bounded check: a deep reply would overflow the device's stack inside JSON.parse
    checkJson(bytes, { maxDepth: MAX_DEPTH, maxBytes });
  } catch (e) {
    if (e instanceof JsonLimitError && e.limit === "depth") throw new JetStreamResponseError(`the reply nests deeper than ${MAX_DEPTH} levels`);
    throw new JetStreamResponseError(`the reply is past a bound: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new JetStreamResponseError("the reply is not valid JSON");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new JetStreamResponseError("the reply is not a JSON object");
  return v as Json;
}

/** Parses an API reply and throws the typed error it carries, if any. */
export function parseApiReply(bytes: Uint8Array, decoder: TextDecoder, maxBytes: number): Json {
  const v = parseReply(bytes, decoder, maxBytes);
  const e = v.error;
  if (e !== undefined) {
    if (e === null || typeof e !== "object") throw new JetStreamResponseError("the error field is not an object");
    const o = e as Json;
    const description = typeof o.description === "string" ? o.description.substring(0, 512) : "";
    throw apiError({ code: uint(o, "code", "error"), err_code: optUint(o, "err_code", "error"), description });
  }
  return v;
}

/** A non-negative safe integer field. */
export function uint(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new JetStreamResponseError(`${where}.${key} is not a whole number`);
  return v;
}

/** A whole-number field that may be absent (0 then). */
export function optUint(o: Json, key: string, where: string): number {
  return o[key] === undefined ? 0 : uint(o, key, where);
}

/** A string field that names something: non-empty and at most MAX_NAME characters. */
export function name(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_NAME) throw new JetStreamResponseError(`${where}.${key} is not a name`);
  return v;
}

/** A short string field that may be absent. */
export function optString(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.length > MAX_NAME) throw new JetStreamResponseError(`${where}.${key} is not a short string`);
  return v;
}

/** A boolean field that may be absent (false then). */
export function optBool(o: Json, key: string, where: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new JetStreamResponseError(`${where}.${key} is not true or false`);
  return v;
}

/** An object field. */
export function obj(o: Json, key: string, where: string): Json {
  const v = o[key];
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new JetStreamResponseError(`${where}.${key} is not an object`);
  return v as Json;
}
