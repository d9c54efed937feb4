/**
 * What ADR-32 allows in names: service and endpoint names of `A-Z a-z 0-9 - _`, versions that are
 * SemVer 2.0 (the grammar of semver.org, checked by a loop, no regular expression), group names
 * that are subject prefixes without `>`.
 */
import { InvalidArgumentError } from "nats-xs";

/** Longest name accepted: a subject token (the server's control line is 4096 bytes). */
const MAX_NAME = 256;

function nameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

/** Throws InvalidArgumentError unless `name` is a non-empty string of `A-Z a-z 0-9 - _`. */
export function validateName(what: string, name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME)
    throw new InvalidArgumentError(`${what} name must be a string of 1 to ${MAX_NAME} characters`);
  for (let i = 0; i < name.length; i++)
    if (!nameChar(name.charCodeAt(i))) throw new InvalidArgumentError(`invalid ${what} name ${JSON.stringify(name)}: use only A-Z a-z 0-9 - _`);
  return name;
}

/** End of the dot-separated identifiers starting at `i` (SemVer pre-release or build part), or -1
 *  when one is empty, holds a character other than `A-Z a-z 0-9 -`, or (`numeric` rule of the
 *  pre-release) is a number with a leading zero. */
function identifiers(v: string, i: number, stop: number, leadingZero: boolean): number {
  let start = i;
  let digits = true;
  for (; ; i++) {
    const c = i < v.length ? v.charCodeAt(i) : -1;
    if (c === 46 || c === -1 || c === stop) {
      if (i === start || (!leadingZero && digits && i - start > 1 && v.charCodeAt(start) === 48)) return -1;
      if (c !== 46) return i;
      start = i + 1;
      digits = true;
    } else if (c >= 48 && c <= 57) {
      // a digit keeps the identifier numeric
    } else if (nameChar(c) && c !== 95) digits = false;
    else return -1;
  }
}

/** Throws InvalidArgumentError unless `version` is SemVer 2.0: `1.2.3`, `1.0.0-rc.1`, `1.0.0+build.5`. */
export function validateVersion(version: unknown): string {
  const bad = () => new InvalidArgumentError(`version ${JSON.stringify(version)} is not SemVer (MAJOR.MINOR.PATCH[-pre][+build], e.g. 1.0.0)`);
  if (typeof version !== "string" || version.length > MAX_NAME) throw bad();
  let i = 0;
  for (let part = 0; part < 3; part++) {
    const start = i;
    while (i < version.length && version.charCodeAt(i) >= 48 && version.charCodeAt(i) <= 57) i++;
    if (i === start || (i - start > 1 && version.charCodeAt(start) === 48)) throw bad();
    if (part < 2 && version.charCodeAt(i++) !== 46) throw bad();
  }
  if (i < version.length && version.charCodeAt(i) === 45) i = identifiers(version, i + 1, 43, false);
  if (i >= 0 && i < version.length && version.charCodeAt(i) === 43) i = identifiers(version, i + 1, -2, true);
  if (i !== version.length) throw bad();
  return version;
}

/** Throws InvalidArgumentError when a group name holds white space or a `>` token (a group is a
 *  subject prefix); the rest of the subject rules are checked when an endpoint subscribes. */
export function validateGroup(name: unknown): string {
  if (typeof name !== "string") throw new InvalidArgumentError("a group name must be a string");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c === 127) throw new InvalidArgumentError(`group name ${JSON.stringify(name)} may not hold white space`);
    if (c === 62 && (i === 0 || name.charCodeAt(i - 1) === 46) && (i + 1 === name.length || name.charCodeAt(i + 1) === 46))
      throw new InvalidArgumentError(`group name ${JSON.stringify(name)} may not hold a '>' token: it is a subject prefix`);
  }
  return name;
}
