// "crypt" on Node: Moddable's Digest (modules/crypt/digest/crypt.js) over node:crypto, SHA256 only
// (the one nats-xs uses). Same surface: new Digest(type), write(data), close(more) -> ArrayBuffer,
// reset(), blockSize, outputSize. A string is hashed as its UTF-8 bytes, as Moddable hashes its
// C string; any other type throws as Moddable does ("crypt: unsupported digest").
import { createHash } from "node:crypto";

function bytesOf(data) {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("crypt: write a string, an ArrayBuffer or a view of one");
}

export class Digest {
  #hash;
  #closed = false;
  constructor(type) {
    if (type !== "SHA256") throw new Error("crypt: unsupported digest");
    this.#hash = createHash("sha256");
  }
  write(data) {
    if (this.#closed) throw new Error("crypt: can't call digest write after close");
    this.#hash.update(bytesOf(data));
  }
  close(more) {
    if (this.#closed) throw new Error("crypt: digest already closed");
    let out;
    if (more) out = this.#hash.copy().digest();
    else {
      out = this.#hash.digest();
      this.#closed = true;
    }
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
  reset() {
    this.#hash = createHash("sha256");
    this.#closed = false;
  }
  get blockSize() {
    return 64;
  }
  get outputSize() {
    return 32;
  }
}

export default Object.freeze({ Digest });
