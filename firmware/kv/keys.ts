/**
 * Names in a bucket, as ADR-8 allows them: bucket names of `A-Z a-z 0-9 _ -`, keys of those and
 * `/ = .` (not starting or ending with `.`, no empty token), and search keys that may also hold the
 * wildcards `*` and `>` as whole tokens. Checked with a loop over char codes, no regular expression.
 */
import { InvalidArgumentError } from "nats-xs";

/** Longest key accepted (a subject token list; the server's control line is 4096 bytes). */
export const MAX_KEY = 1024;

function word(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

/** A bucket name: `[-\w]+`. */
export function validateBucket(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 240) throw new InvalidArgumentError(`invalid bucket name: ${String(name)}`);
  for (let i = 0; i < name.length; i++) if (!word(name.charCodeAt(i))) throw new InvalidArgumentError(`invalid bucket name: ${name} (use A-Z a-z 0-9 _ -)`);
  return name;
}

/** A key: `[-/=.\w]+`, not starting or ending with `.`, no empty token. With `search`, `*` and `>`
 *  are allowed as whole tokens (`>` last). Returns whether it holds a wildcard. */
export function validateKey(key: unknown, search = false): boolean {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY) throw new InvalidArgumentError(`invalid key: ${String(key)}`);
  let wild = false;
  let start = 0;
  for (let i = 0; i <= key.length; i++) {
    const c = i < key.length ? key.charCodeAt(i) : 46;
    if (c === 46) {
      const n = i - start;
      if (n === 0) throw new InvalidArgumentError(`invalid key: ${key} (empty token)`);
      if (n === 1) {
        const t = key.charCodeAt(start);
        if (t === 42 || t === 62) {
          if (!search) throw new InvalidArgumentError(`invalid key: ${key} (no wildcards here)`);
          if (t === 62 && i !== key.length) throw new InvalidArgumentError(`invalid key: ${key} ('>' must be last)`);
          wild = true;
        }
      }
      start = i + 1;
    } else if (!(word(c) || c === 47 || c === 61 || ((c === 42 || c === 62) && search))) {
      throw new InvalidArgumentError(`invalid key: ${key}`);
    } else if ((c === 42 || c === 62) && (i !== start || (i + 1 < key.length && key.charCodeAt(i + 1) !== 46))) {
      throw new InvalidArgumentError(`invalid key: ${key} (wildcards are whole tokens)`);
    }
  }
  return wild;
}
