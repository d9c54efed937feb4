/**
 * Subject and queue-name rules (tokens split by dots, none empty; `*` and `>` are wildcards only as
 * a whole token, so `a.b*` is a literal subject; `>` only last), checked before anything reaches the wire: without pedantic mode the
 * server silently accepts subjects that can never match, so the client has to refuse them.
 */
import { InvalidSubjectError } from "./errors.js";
import { charCode, utf8Length } from "./text.js";

const DOT = 46;
const STAR = 42;
const GT = 62;

/** Reasons by number, so the checks themselves allocate nothing. */
const REASONS = Object.freeze([
  "",
  "it is empty",
  "it contains white space or a control character",
  "it has an empty token (a leading, trailing or double dot)",
  "",
  "'>' may only be the last token",
  "a publish subject may not contain wildcards",
  "it is not a string",
]);

/** The subject's length in UTF-8 bytes when valid (at least 1), else minus an index into REASONS:
 *  for an ASCII subject (the usual case) one pass both checks it and sizes it for the frame. */
function scan(subject: unknown, wildcards: boolean): number {
  if (typeof subject !== "string") return -7;
  // charCode.call: no garbage per character on XS (see text.ts)
  const n = subject.length;
  if (n === 0) return -1;
  let ascii = true;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? charCode.call(subject, i) : DOT;
    if (c === DOT) {
      const len = i - tokenStart;
      if (len === 0) return -3;
      if (len === 1) {
        const t = charCode.call(subject, tokenStart);
        if (t === STAR || t === GT) {
          if (!wildcards) return -6;
          if (t === GT && i !== n) return -5;
        }
      }
      tokenStart = i + 1;
    } else if (c <= 32 || c === 127) {
      return -2;
    } else if (c >= 0x80) ascii = false;
  }
  return ascii ? n : utf8Length(subject);
}

/** Throws InvalidSubjectError unless `subject` is a valid subject to publish to (no wildcards). */
export function checkPublishSubject(subject: unknown): asserts subject is string {
  publishSubjectBytes(subject);
}

/** checkPublishSubject, returning the subject's UTF-8 length from the same pass (publish's hot path). */
export function publishSubjectBytes(subject: unknown): number {
  const r = scan(subject, false);
  if (r < 0) throw new InvalidSubjectError(String(subject), REASONS[-r]);
  return r;
}

/** Throws InvalidSubjectError unless `subject` is a valid subscription subject (wildcards allowed). */
export function checkSubscribeSubject(subject: unknown): asserts subject is string {
  const r = scan(subject, true);
  if (r < 0) throw new InvalidSubjectError(String(subject), REASONS[-r]);
}

/** Throws InvalidSubjectError unless `queue` is a valid queue group name. */
export function checkQueue(queue: unknown): asserts queue is string {
  if (typeof queue !== "string") throw new InvalidSubjectError(String(queue), "a queue group name must be a string");
  if (queue.length === 0) throw new InvalidSubjectError(queue, "a queue group name may not be empty");
  for (let i = 0; i < queue.length; i++) {
    const c = queue.charCodeAt(i);
    if (c <= 32 || c === 127) throw new InvalidSubjectError(queue, "a queue group name may not contain white space or control characters");
  }
}

/** True when `subject` has no wildcard token, so that every message of a subscription to it carries
 *  exactly this subject (and the parser need not decode it). */
export function isLiteral(subject: string): boolean {
  const n = subject.length;
  for (let i = 0; i < n; i++) {
    const c = charCode.call(subject, i);
    if ((c === STAR || c === GT) && (i === 0 || charCode.call(subject, i - 1) === DOT) && (i + 1 === n || charCode.call(subject, i + 1) === DOT)) return false;
  }
  return true;
}
