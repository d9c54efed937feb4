/**
 * The outbound half of the protocol: the exact length of each frame first, then the frame written
 * in order straight into a buffer (the outbound batch, or a copy when it does not fit). Numbers
 * become digits and ASCII strings become bytes without any intermediate string.
 */
import type TextEncoder from "text/encoder";
import type { MsgHdrsImpl } from "./headers.js";
import { uintLength, utf8Length as utf8, writeAscii, writeString, writeUint } from "./text.js";

const SP = 32;
const CR = 13;
const LF = 10;

/** Bytes of `PUB subject [reply] total\r\n` or `HPUB subject [reply] hdrLen total\r\n`, from the
 *  UTF-8 lengths of subject and reply (0: no reply); `hdrLen` is -1 for PUB. */
export function pubLineLength(subjectLen: number, replyLen: number, hdrLen: number, total: number): number {
  return (hdrLen < 0 ? 4 : 6 + uintLength(hdrLen)) + subjectLen + (replyLen === 0 ? 0 : replyLen + 1) + 1 + uintLength(total) + 2;
}

/**
 * Writes the PUB/HPUB line and the headers, then the payload and its CRLF unless `byReference`
 * (the caller then queues the payload and the CRLF itself). Returns the new position.
 */
export function encodePub(
  b: Uint8Array,
  pos: number,
  subject: string,
  reply: string,
  hdrs: MsgHdrsImpl | null,
  hdrLen: number,
  total: number,
  data: Uint8Array | string | undefined,
  byReference: boolean,
  encoder: TextEncoder,
): number {
  pos = writeAscii(b, pos, hdrs === null ? "PUB " : "HPUB ");
  pos = writeString(b, pos, subject, encoder);
  b[pos++] = SP;
  if (reply !== "") {
    pos = writeString(b, pos, reply, encoder);
    b[pos++] = SP;
  }
  if (hdrs !== null) {
    pos = writeUint(b, pos, hdrLen);
    b[pos++] = SP;
  }
  pos = writeUint(b, pos, total);
  b[pos++] = CR;
  b[pos++] = LF;
  if (hdrs !== null) pos = hdrs.encode(b, pos, encoder);
  if (byReference) return pos;
  if (typeof data === "string") pos = writeString(b, pos, data, encoder);
  else if (data !== undefined) {
    b.set(data, pos);
    pos += data.length;
  }
  b[pos++] = CR;
  b[pos++] = LF;
  return pos;
}

/** Bytes of `SUB subject [queue] sid\r\n`. */
export function subLength(subject: string, queue: string, sid: number): number {
  return 4 + utf8(subject) + (queue === "" ? 0 : 1 + utf8(queue)) + 1 + uintLength(sid) + 2;
}

export function encodeSub(b: Uint8Array, pos: number, subject: string, queue: string, sid: number, encoder: TextEncoder): number {
  pos = writeAscii(b, pos, "SUB ");
  pos = writeString(b, pos, subject, encoder);
  if (queue !== "") {
    b[pos++] = SP;
    pos = writeString(b, pos, queue, encoder);
  }
  b[pos++] = SP;
  pos = writeUint(b, pos, sid);
  b[pos++] = CR;
  b[pos++] = LF;
  return pos;
}

/** Bytes of `UNSUB sid [max]\r\n` (max 0: none). */
export function unsubLength(sid: number, max: number): number {
  return 6 + uintLength(sid) + (max > 0 ? 1 + uintLength(max) : 0) + 2;
}

export function encodeUnsub(b: Uint8Array, pos: number, sid: number, max: number): number {
  pos = writeAscii(b, pos, "UNSUB ");
  pos = writeUint(b, pos, sid);
  if (max > 0) {
    b[pos++] = SP;
    pos = writeUint(b, pos, max);
  }
  b[pos++] = CR;
  b[pos++] = LF;
  return pos;
}
