// The raw-socket limit: NATS spoken directly over node:net with pre-built frames, and the simplest
// scanner that can count MSG frames. Nothing here is a client library: it is the floor that any
// client's cost is measured against (what the server, the kernel and Node's socket can move).
import net from "node:net";

const CRLF = Buffer.from("\r\n");
const CONNECT = Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,"lang":"raw","version":"0"}\r\nPING\r\n');
const PING = Buffer.from("PING\r\n");
const PONG = Buffer.from("PONG\r\n");

/** The bytes of one PUB frame carrying `payload`. */
export function pubFrame(subject, payload, reply = "") {
  const head = Buffer.from(`PUB ${subject} ${reply === "" ? "" : `${reply} `}${payload.length}\r\n`);
  return Buffer.concat([head, payload, CRLF]);
}

/** A block of whole PUB frames about `target` bytes long (at least one frame); and how many it holds. */
export function pubBlock(subject, payload, target = 64 * 1024) {
  const frame = pubFrame(subject, payload);
  const count = Math.max(1, Math.floor(target / frame.length));
  const block = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(block, i * frame.length);
  return { block, count, frame };
}

/** A payload of `size` bytes of printable filler (the same bytes every client sends). */
export function payloadOf(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/**
 * One raw NATS connection: CONNECT+PING on open, PONG to the server's PINGs, a MSG counter with a
 * callback per frame, and write() that honours the socket's backpressure.
 */
export class RawConn {
  /** @type {net.Socket} */
  socket;
  /** Called once per MSG frame. */
  onMsg = () => {};
  #pongs = [];
  // scanner state: payload bytes (plus CRLF) still to skip, and a split control line
  #skip = 0;
  /** @type {Buffer | null} */
  #line = null;

  /** Connects and resolves after the server answered the first PING. */
  static async open(url) {
    const u = new URL(url);
    const c = new RawConn();
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    socket.setNoDelay(true);
    c.socket = socket;
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.on("data", (chunk) => c.#scan(chunk));
    socket.on("error", () => {});
    const ready = new Promise((resolve) => c.#pongs.push(resolve));
    socket.write(CONNECT);
    await ready;
    return c;
  }

  /** Writes `buf`; resolves at once when the socket took it, or once it drained. */
  write(buf) {
    if (this.socket.write(buf)) return undefined;
    return new Promise((resolve) => this.socket.once("drain", resolve));
  }

  /** PING; resolves on its PONG (the server has processed everything written before). */
  ping() {
    const p = new Promise((resolve) => this.#pongs.push(resolve));
    this.socket.write(PING);
    return p;
  }

  close() {
    this.socket.destroy();
  }

  // The simplest scanner that is still correct: find each line end; a line starting with M is a
  // MSG, whose last token is the payload size to skip; PING gets PONG, PONG resolves a ping().
  #scan(chunk) {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#skip > 0) {
        const t = Math.min(this.#skip, n - i);
        this.#skip -= t;
        i += t;
        continue;
      }
      const lf = chunk.indexOf(10, i);
      if (lf < 0) {
        const rest = chunk.subarray(i);
        this.#line = this.#line === null ? Buffer.from(rest) : Buffer.concat([this.#line, rest]);
        return;
      }
      let buf = chunk;
      let s = i;
      let e = lf;
      if (this.#line !== null) {
        buf = Buffer.concat([this.#line, chunk.subarray(i, lf + 1)]);
        this.#line = null;
        s = 0;
        e = buf.length - 1;
      }
      i = lf + 1;
      const c = buf[s];
      if (c === 77 /* M */) {
        let q = e - 1; // before LF; skip CR
        if (buf[q] === 13) q--;
        let size = 0;
        let scale = 1;
        while (buf[q] >= 48 && buf[q] <= 57) {
          size += (buf[q] - 48) * scale;
          scale *= 10;
          q--;
        }
        this.#skip = size + 2;
        this.onMsg();
      } else if (c === 80 /* P */) {
        if (buf[s + 1] === 73 /* PING */) this.socket.write(PONG);
        else {
          const done = this.#pongs.shift();
          if (done !== undefined) done();
        }
      } else if (c === 45 /* -ERR */) {
        process.stderr.write(`raw: ${buf.toString("latin1", s, e)}\n`);
      }
    }
  }
}

/** Publishes `n` copies of a pre-built frame as fast as the socket takes them (in ~64 KB blocks). */
export async function rawPublish(conn, subject, payload, n) {
  const { block, count, frame } = pubBlock(subject, payload);
  let left = n;
  while (left >= count) {
    const w = conn.write(block);
    left -= count;
    if (w !== undefined) await w;
  }
  if (left > 0) {
    const w = conn.write(block.subarray(0, left * frame.length));
    if (w !== undefined) await w;
  }
}
