/**
 * The `.creds` file that `nsc` and the NATS account servers hand out: a user JWT and the user's
 * nkey seed, each between dashed marker lines:
 *
 *   -----BEGIN NATS USER JWT-----
 *   eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...
 *   ------END NATS USER JWT------
 *   (a warning paragraph)
 *   -----BEGIN USER NKEY SEED-----
 *   SUAM...
 *   ------END USER NKEY SEED------
 *
 * Read as bytes, line by line: the seed is returned as a view into the caller's bytes (no string,
 * no copy), the JWT as a string (it is public).
 */
import { InvalidArgumentError } from "nats-xs";

/** A creds file larger than this is refused: real ones are 1-3 KB (a JWT with many permissions). */
export const MAX_CREDS_BYTES = 32768;

/** The JWT and a view of the seed inside the creds bytes. */
export interface ParsedCreds {
  jwt: string;
  seed: Uint8Array;
}

/** Whether bytes [start, end) are a marker line: at least three dashes at each end. */
function isMarker(b: Uint8Array, start: number, end: number): boolean {
  if (end - start < 6) return false;
  return b[start] === 45 && b[start + 1] === 45 && b[start + 2] === 45 && b[end - 1] === 45 && b[end - 2] === 45 && b[end - 3] === 45;
}

/** Splits the creds into the contents of its first two marked blocks; throws a clear error. */
export function parseCreds(b: Uint8Array): ParsedCreds {
  if (!(b instanceof Uint8Array)) throw new InvalidArgumentError("creds must be the bytes of a .creds file (a Uint8Array)");
  if (b.length > MAX_CREDS_BYTES) throw new InvalidArgumentError(`creds of ${b.length} bytes are larger than ${MAX_CREDS_BYTES}: is this a .creds file?`);
  // blocks[i] = [start, end) of the content between the 2i-th and (2i+1)-th marker lines
  const found: number[] = [];
  let open = -1;
  let lineStart = 0;
  for (let i = 0; i <= b.length && found.length < 4; i++) {
    if (i < b.length && b[i] !== 10) continue;
    let s = lineStart;
    let e = i;
    while (s < e && b[s] <= 32) s++;
    while (e > s && b[e - 1] <= 32) e--;
    if (isMarker(b, s, e)) {
      if (open < 0) open = i + 1;
      else {
        found.push(open, lineStart);
        open = -1;
      }
    }
    lineStart = i + 1;
  }
  if (found.length < 4) throw new InvalidArgumentError("unable to parse the creds: expected a JWT block and a seed block between dashed marker lines");
  const jwt = trimmed(b, found[0], found[1]);
  const seed = trimmed(b, found[2], found[3]);
  if (jwt.length === 0 || seed.length === 0) throw new InvalidArgumentError("unable to parse the creds: a block is empty");
  let text = "";
  for (let i = 0; i < jwt.length; i++) {
    const c = jwt[i];
    // base64url letters and the two dots of a JWT
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46))
      throw new InvalidArgumentError(`the creds' JWT has a character that no JWT has, at ${i + 1}`);
    text += String.fromCharCode(c);
  }
  return { jwt: text, seed };
}

function trimmed(b: Uint8Array, start: number, end: number): Uint8Array {
  while (start < end && b[start] <= 32) start++;
  while (end > start && b[end - 1] <= 32) end--;
  return b.subarray(start, end);
}
