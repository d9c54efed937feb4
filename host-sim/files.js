// "embedded:storage/files" on Node: the files module of Moddable SDK 8.2.3 (modules/io/files, posix
// on lin, littlefs on esp32) over synchronous node:fs. The default export is the root Directory,
// frozen: openFile({ path, mode }) with mode "r" (default), "r+", "w", "w+"; File read(count or
// buffer, position), write(buffer, position), status(), setSize(length), flush(), close();
// Directory delete, move, status, createDirectory, openDirectory, scan, close.
//
// The root is `$NATS_XS_DEVICE_DIR/files` (created when missing); without NATS_XS_DEVICE_DIR each
// process gets a fresh temporary folder, removed at exit (not persistent). Paths are relative to
// the directory they are given to, as on the device: an empty path is the directory itself, and
// absolute paths, "." or ".." components, "//" and a trailing "/" throw "bad path", so nothing
// outside the root is reachable. Errors are plain Errors whose message is the C library's text
// (strerror), as the SDK's xsUnknownError(strerror(errno)) gives them.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STRERROR = Object.freeze({
  ENOENT: "No such file or directory",
  EBADF: "Bad file descriptor",
  EEXIST: "File exists",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  ENOTEMPTY: "Directory not empty",
  ENOSPC: "No space left on device",
  EACCES: "Permission denied",
  EINVAL: "Invalid argument",
  EXDEV: "Invalid cross-device link",
});

/** Runs a node:fs call; its error becomes the Error the SDK throws (strerror text). */
function sys(call) {
  try {
    return call();
  } catch (e) {
    if (e && typeof e.code === "string") throw new Error(STRERROR[e.code] ?? e.code);
    throw e;
  }
}

/** The SDK's path rule (getPath in files-posix.c): relative, no "." or ".." parts, no empty parts. */
function checkPath(path) {
  const p = String(path);
  if (p === "") return "";
  for (const part of p.split("/")) if (part === "" || part === "." || part === "..") throw new Error("bad path");
  return p;
}

/** Bytes of an ArrayBuffer or a view of one. */
function bytesOf(buffer) {
  if (buffer instanceof ArrayBuffer || buffer instanceof SharedArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new TypeError("expected ArrayBuffer or view");
}

const S_IFMT = 0o170000;

class Status {
  isFile() {
    return (this.mode & S_IFMT) === 0o100000;
  }
  isDirectory() {
    return (this.mode & S_IFMT) === 0o040000;
  }
  isSymbolicLink() {
    return (this.mode & S_IFMT) === 0o120000;
  }
}

const MODES = Object.freeze({ r: "r", "r+": "r+", w: "w", "w+": "w+" });

class File {
  #fd = -1;
  constructor(options) {
    if (options !== INTERNAL) throw new Error("use openFile");
  }
  static open(absolute, flags) {
    const f = new File(INTERNAL);
    f.#fd = sys(() => openSync(absolute, flags, 0o666));
    return f;
  }
  #handle() {
    if (this.#fd < 0) throw new Error("closed");
    return this.#fd;
  }
  close() {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
  /** `read(count, position)` -> ArrayBuffer (shorter at the end of the file);
   *  `read(buffer, position)` -> bytes read into buffer. */
  read(buffer, position) {
    const fd = this.#handle();
    const at = Math.trunc(Number(position)) || 0;
    if (typeof buffer === "number") {
      const out = new ArrayBuffer(Math.max(0, Math.trunc(buffer)));
      const n = sys(() => readSync(fd, new Uint8Array(out), 0, out.byteLength, at));
      return n === out.byteLength ? out : out.slice(0, n);
    }
    const into = bytesOf(buffer);
    return sys(() => readSync(fd, into, 0, into.length, at));
  }
  write(buffer, position) {
    const fd = this.#handle();
    const from = bytesOf(buffer);
    const at = Math.trunc(Number(position)) || 0;
    let done = 0;
    while (done < from.length) done += sys(() => writeSync(fd, from, done, from.length - done, at + done));
  }
  status() {
    const fd = this.#handle();
    const s = sys(() => fstatSync(fd));
    const status = new Status();
    status.size = s.size;
    status.mode = s.mode;
    return status;
  }
  setSize(length) {
    const fd = this.#handle();
    sys(() => ftruncateSync(fd, Math.trunc(Number(length)) || 0));
  }
  flush() {
    const fd = this.#handle();
    sys(() => fsyncSync(fd));
  }
}

const INTERNAL = Symbol("internal");

class Directory {
  #root = "";
  constructor(options) {
    if (options !== INTERNAL) throw new Error("use openDirectory");
  }
  static at(absolute) {
    const d = new Directory(INTERNAL);
    d.#root = absolute;
    return d;
  }
  #path(path) {
    if (this.#root === "") throw new Error("closed");
    const p = checkPath(path);
    return p === "" ? this.#root : join(this.#root, p);
  }
  close() {
    // the root directory of the module is frozen and stays open, as on the device
  }
  openFile(options) {
    const mode = options?.mode === undefined ? "r" : MODES[options.mode];
    if (mode === undefined) throw new Error("invalid mode");
    const absolute = this.#path(options?.path);
    let s;
    try {
      s = lstatSync(absolute);
    } catch (e) {
      if (mode === "r" || mode === "r+") sys(() => { throw e; });
    }
    if (s !== undefined && !s.isFile()) throw new Error("not file");
    return File.open(absolute, mode);
  }
  openDirectory(options) {
    const absolute = this.#path(options?.path);
    const s = sys(() => lstatSync(absolute));
    if (!s.isDirectory()) throw new Error("not directory");
    return Directory.at(absolute);
  }
  /** true when something was deleted, false when nothing was there. */
  delete(path) {
    const absolute = this.#path(path);
    let s;
    try {
      s = lstatSync(absolute);
    } catch (e) {
      if (e?.code === "ENOENT") return false;
      throw e;
    }
    sys(() => (s.isDirectory() ? rmdirSync(absolute) : unlinkSync(absolute)));
    return true;
  }
  /** Renames `from` to `to`, replacing `to` (atomically, as rename(2) and lfs_rename do). */
  move(from, to, directory) {
    const source = this.#path(from);
    const target = directory instanceof Directory ? directory.#path(to) : this.#path(to);
    sys(() => renameSync(source, target));
  }
  /** A Status; for a missing path its mode is 0 and it has no size. */
  status(path) {
    if (path === undefined) throw new Error("path required");
    const absolute = this.#path(path);
    const status = new Status();
    let s;
    try {
      s = lstatSync(absolute);
    } catch (e) {
      if (e?.code !== "ENOENT") sys(() => { throw e; });
      status.mode = 0;
      return status;
    }
    status.size = s.size;
    status.mode = s.mode;
    return status;
  }
  /** true when made, false when the directory was already there. */
  createDirectory(path) {
    const absolute = this.#path(path);
    try {
      mkdirSync(absolute, 0o777);
    } catch (e) {
      if (e?.code === "EEXIST" && lstatSync(absolute).isDirectory()) return false;
      sys(() => { throw e; });
    }
    return true;
  }
  /** The names in the directory (or in `path` under it), "." and ".." left out. */
  *scan(path) {
    const absolute = path === undefined ? this.#path("") : this.#path(path);
    yield* sys(() => readdirSync(absolute));
  }
  [Symbol.iterator]() {
    return this.scan();
  }
}

function rootFolder() {
  const dir = process.env.NATS_XS_DEVICE_DIR;
  if (dir !== undefined && dir !== "") {
    const root = join(dir, "files");
    mkdirSync(root, { recursive: true });
    return root;
  }
  const temporary = mkdtempSync(join(tmpdir(), "nats-xs-device-"));
  process.once("exit", () => rmSync(temporary, { recursive: true, force: true }));
  const root = join(temporary, "files");
  mkdirSync(root);
  return root;
}

const files = Directory.at(rootFolder());
export default Object.freeze(files);
