/**
 * The entries a journal holds, as two growing typed arrays (12 bytes an entry, instead of a Map's
 * slots): keys in increasing order (they are given out in that order and a file keeps it), and
 * where each record is (offset * 65,536 + bytes; 0 once removed). A removed entry leaves a hole
 * until the arrays are packed, which happens when holes are half of them.
 */
export class Entries {
  #keys = new Uint32Array(0);
  #where = new Float64Array(0);
  /** Slots in use, holes included. */
  #used = 0;
  #size = 0;

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Slots in use (holes included): for iterating with keyAt and whereAt. */
  get used(): number {
    return this.#used;
  }

  /** The largest key ever pushed since the last clear (0: none). */
  get lastKey(): number {
    return this.#used === 0 ? 0 : this.#keys[this.#used - 1];
  }

  keyAt(i: number): number {
    return this.#keys[i];
  }

  whereAt(i: number): number {
    return this.#where[i];
  }

  setWhereAt(i: number, where: number): void {
    this.#where[i] = where;
  }

  clear(): void {
    this.#keys = new Uint32Array(0);
    this.#where = new Float64Array(0);
    this.#used = this.#size = 0;
  }

  /** Adds an entry; its key must be larger than every key held. */
  push(key: number, where: number): void {
    if (this.#used === this.#keys.length) this.#room();
    this.#keys[this.#used] = key;
    this.#where[this.#used++] = where;
    this.#size++;
  }

  /** Where the entry `key` is, or 0 when it is not held. */
  get(key: number): number {
    const i = this.#find(key);
    return i < 0 ? 0 : this.#where[i];
  }

  /** Removes an entry; returns where it was (0: it was not held). */
  delete(key: number): number {
    const i = this.#find(key);
    if (i < 0) return 0;
    const where = this.#where[i];
    this.#where[i] = 0;
    this.#size--;
    return where;
  }

  /** The keys held, in order. */
  keys(): Uint32Array {
    const out = new Uint32Array(this.#size);
    for (let i = 0, j = 0; i < this.#used; i++) if (this.#where[i] !== 0) out[j++] = this.#keys[i];
    return out;
  }

  #find(key: number): number {
    const keys = this.#keys;
    let lo = 0;
    let hi = this.#used - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k === key) return this.#where[mid] === 0 ? -1 : mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Packs out the holes when they are half the slots, else doubles the arrays. */
  #room(): void {
    const packed = this.#size * 2 <= this.#used && this.#used > 0;
    const capacity = packed ? this.#keys.length : Math.max(8, this.#keys.length * 2);
    const keys = packed ? this.#keys : new Uint32Array(capacity);
    const where = packed ? this.#where : new Float64Array(capacity);
    let j = 0;
    for (let i = 0; i < this.#used; i++) {
      const w = this.#where[i];
      if (w === 0) continue;
      keys[j] = this.#keys[i];
      where[j++] = w;
    }
    this.#keys = keys;
    this.#where = where;
    this.#used = j;
  }
}
