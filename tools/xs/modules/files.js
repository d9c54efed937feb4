// "embedded:storage/files": Moddable SDK 8.2.3's files module (modules/io/files, posix on lin) over
// the natives of tools/xs/host/files.c, rooted at $NATS_XS_DEVICE_DIR/files. The default export is
// the root Directory, frozen; openFile({ path, mode }) returns a File with read(count or buffer,
// position), write(buffer, position), status(), setSize(length), flush(), close().
const host = globalThis.__xsHost;
const FileHandle = host.FileHandle;
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

function status(size, mode) {
  const s = new Status();
  if (size !== undefined) s.size = size;
  s.mode = mode;
  return s;
}

class File {
  #handle;
  constructor(handle) {
    if (!(handle instanceof FileHandle)) throw new Error("use openFile");
    this.#handle = handle;
  }
  read(buffer, position) {
    return this.#handle.read(buffer, position);
  }
  write(buffer, position) {
    this.#handle.write(buffer, position);
  }
  status() {
    return status(this.#handle.size(), this.#handle.mode());
  }
  setSize(length) {
    this.#handle.setSize(length);
  }
  flush() {
    this.#handle.flush();
  }
  close() {
    this.#handle.close();
  }
}

class Directory {
  openFile(options) {
    return new File(new FileHandle(options?.path, options?.mode));
  }
  delete(path) {
    return host.filesDelete(path);
  }
  move(from, to) {
    host.filesMove(from, to);
  }
  status(path) {
    if (path === undefined) throw new Error("path required");
    const [size, mode] = host.filesStatus(path);
    return status(size, mode);
  }
  createDirectory(path) {
    return host.filesCreateDirectory(path);
  }
  scan(path) {
    return host.filesScan(path ?? "")[Symbol.iterator]();
  }
  close() {}
  [Symbol.iterator]() {
    return this.scan();
  }
}

export default Object.freeze(new Directory());
