/**
 * Unique ids for inboxes: 12 random base-62 characters, then a 10-character sequence that moves by
 * a random step, so that ids from one generator are cheap and ids from two devices do not collide.
 */
const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIX_LENGTH = 12;
const SEQ_LENGTH = 10;
/** Kept below 2^53 so that the arithmetic stays exact. */
const MAX_SEQ = 62 ** 8 * 60;

// internal state and methods are TypeScript-private, not #private: XS gives every instance a slot
// per #method, and, imported at run time, every method a slot per #field it names (bench/MEMORY.md)
export class Nuid {
  private prefix = "";
  private seq = 0;
  private inc = 0;

  constructor() {
    this.reset();
  }

  /** @internal */
  private reset(): void {
    let p = "";
    for (let i = 0; i < PREFIX_LENGTH; i++) p += DIGITS[Math.floor(Math.random() * 62)];
    this.prefix = p;
    this.seq = Math.floor(Math.random() * (MAX_SEQ / 2));
    this.inc = 33 + Math.floor(Math.random() * 300);
  }

  /** The next id (22 characters). */
  next(): string {
    this.seq += this.inc;
    if (this.seq >= MAX_SEQ) this.reset();
    let s = "";
    let v = this.seq;
    for (let i = 0; i < SEQ_LENGTH; i++) {
      s = DIGITS[v % 62] + s;
      v = Math.floor(v / 62);
    }
    return this.prefix + s;
  }
}
