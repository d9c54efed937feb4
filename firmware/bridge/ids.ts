/**
 * Identifiers and times of the envelope: version 4 UUIDs (RFC 9562) from Math.random, which XS
 * seeds from the platform's entropy, and ISO 8601 UTC timestamps. The reader's timestamps are
 * lenient: every published NATSBridge writes a different form.
 */

const HEX = "0123456789abcdef";

/** A random version 4 UUID, lower case: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx. */
export function uuid4(): string {
  let s = "";
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += "-";
    else if (i === 14) s += "4";
    else if (i === 19) s += HEX[8 + Math.floor(Math.random() * 4)];
    else s += HEX[Math.floor(Math.random() * 16)];
  }
  return s;
}

/** Now, as the writer emits it: ISO 8601 in UTC with milliseconds and `Z`. */
export function isoNow(): string {
  return new Date().toISOString();
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Milliseconds since the epoch of a timestamp in any form NATSBridge writers use, NaN when it is
 * none of them: ISO 8601 with `T` or a space, with or without seconds and fractions (any number of
 * digits), with `Z`, an offset (`+02:00`, `+0200`, `+02`) or no zone at all (taken as UTC, as the
 * Julia writer means it); and numbers, as seconds (below 1e11) or milliseconds since the epoch.
 */
export function parseTimestamp(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) ? (Math.abs(value) < 1e11 ? value * 1000 : value) : NaN;
  if (typeof value !== "string") return NaN;
  const s = value.trim();
  if (s.length > 0 && s.length < 15 && /^-?\d+(\.\d+)?$/.test(s)) return parseTimestamp(Number(s));
  // YYYY-MM-DD
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || s[4] !== "-" || s[7] !== "-") return NaN;
  let i = 10;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  if (i < s.length && (s[i] === "T" || s[i] === "t" || s[i] === " ")) {
    hour = digits(s, i + 1, 2);
    minute = digits(s, i + 4, 2);
    if (hour < 0 || hour > 24 || minute < 0 || minute > 59 || s[i + 3] !== ":") return NaN;
    i += 6;
    if (s[i] === ":") {
      second = digits(s, i + 1, 2);
      if (second < 0 || second > 60) return NaN;
      i += 3;
      if (s[i] === "." || s[i] === ",") {
        i++;
        let scale = 100;
        const start = i;
        while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
          ms += (s.charCodeAt(i) - 48) * scale;
          scale /= 10;
          i++;
        }
        if (i === start) return NaN;
      }
    }
  }
  let offset = 0;
  if (i < s.length) {
    const z = s[i];
    if ((z === "Z" || z === "z") && i + 1 === s.length) i++;
    else if (z === "+" || z === "-") {
      const oh = digits(s, i + 1, 2);
      let om = 0;
      let j = i + 3;
      if (s[j] === ":") j++;
      if (j < s.length) {
        om = digits(s, j, 2);
        j += 2;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59 || j !== s.length) return NaN;
      offset = (z === "+" ? 1 : -1) * (oh * 60 + om);
      i = j;
    } else return NaN;
  }
  if (i !== s.length) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(ms)) - offset * 60000;
}

/** The writer's form of a reader's timestamp: ISO 8601 UTC with `Z`, or the text as it came when it
 *  is no time at all (kept rather than lost). */
export function normalizeTimestamp(value: unknown): string {
  const t = parseTimestamp(value);
  if (Number.isNaN(t)) return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  return new Date(t).toISOString();
}
