/**
 * The entries a journal holds, as two growing typed arrays (12 bytes an entry, instead of a Map's
 * slots): keys in increasing order (they are given out in that order and a file keeps it), and
 * where each record is (offset * 65,536 + bytes; 0 once removed). A removed entry leaves a hole
 * until the arrays are packed, which happens when holes are half of them.
 */
export class Entries {
  private _keys = new Uint32Array(0);
  private where = new Float64Array(0);
  /** Slots in use, holes included. */
  private _used = 0;
  private _size = 0;

  /** Entries held. */
  get size(): number {
    return this._size;
  }

  /** Slots in use (holes included): for iterating with keyAt and whereAt. */
  get used(): number {
    return this._used;
  }

  /** The largest key ever pushed since the last clear (0: none). */
  get lastKey(): number {
    return this._used === 0 ? 0 : this._keys[this._used - 1];
  }

  keyAt(i: number): number {
    return this._keys[i];
  }

  whereAt(i: number): number {
    return this.where[i];
  }

  setWhereAt(i: number, where: number): void {
    this.where[i] = where;
  }

  clear(): void {
    this._keys = new Uint32Array(0);
    this.where = new Float64Array(0);
    this._used = this._size = 0;
  }

  /** Adds an entry; its key must be larger than every key held. */
  push(key: number, where: number): void {
    if (this._used === this._keys.length) this.room();
    this._keys[this._used] = key;
    this.where[this._used++] = where;
    this._size++;
  }

  /** Where the entry `key` is, or 0 when it is not held. */
  get(key: number): number {
    const i = this.find(key);
    return i < 0 ? 0 : this.where[i];
  }

  /** Removes an entry; returns where it was (0: it was not held). */
  delete(key: number): number {
    const i = this.find(key);
    if (i < 0) return 0;
    const where = this.where[i];
    this.where[i] = 0;
    this._size--;
    return where;
  }

  /** The keys held, in order. */
  keys(): Uint32Array {
    const out = new Uint32Array(this._size);
    for (let i = 0, j = 0; i < this._used; i++) if (this.where[i] !== 0) out[j++] = this._keys[i];
    return out;
  }

  private find(key: number): number {
    const keys = this._keys;
    let lo = 0;
    let hi = this._used - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k === key) return this.where[mid] === 0 ? -1 : mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Packs out the holes when they are half the slots, else doubles the arrays. */
  private room(): void {
    const packed = this._size * 2 <= this._used && this._used > 0;
    const capacity = packed ? this._keys.length : Math.max(8, this._keys.length * 2);
    const keys = packed ? this._keys : new Uint32Array(capacity);
    const where = packed ? this.where : new Float64Array(capacity);
    let j = 0;
    for (let i = 0; i < this._used; i++) {
      const w = this.where[i];
      if (w === 0) continue;
      keys[j] = this._keys[i];
      where[j++] = w;
    }
    this._keys = keys;
    this.where = where;
    this._used = j;
  }
}
