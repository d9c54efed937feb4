// The floor: the least a NATS client can be on a Moddable device. It speaks the protocol straight
// over embedded:io/socket/tcp with one small line buffer and one small payload buffer, matches
// messages by sid, never decodes a subject and keeps no options, no reconnect, no bounds. It is
// not a client to use: it is what issue 14's workload costs with nothing else in the way, measured
// beside nats-xs by bench/xs/workload.mjs (the same steps, the same device modules).
import TCP from "embedded:io/socket/tcp";

const CR = 13;
const LF = 10;

function ascii(text) {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return b;
}

export class Floor {
  #socket;
  #line = new Uint8Array(256);
  #lineLen = 0;
  #payload = new Uint8Array(256);
  #need = -1; // payload bytes (plus CRLF) still to read, -1 while reading a line
  #have = 0;
  #sid = 0;
  #size = 0;
  #subs = new Map();
  #pongs = [];
  #request = null;
  #nextSid = 1;
  #ready;
  #connected = false;
  /** Free space in the socket's send buffer, and what waits for it (a write never blocks). */
  #writable = 0;
  #waiting = [];

  constructor(address, port) {
    this.#ready = new Promise((resolve, reject) => {
      this.#pongs.push(resolve);
      this.#socket = new TCP({
        address,
        port,
        nodelay: true,
        onWritable: (count) => {
          this.#writable = count;
          if (!this.#connected) {
            this.#connected = true;
            this.#write('CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":false}\r\nPING\r\n');
          }
          while (this.#waiting.length > 0 && this.#waiting[0].length <= this.#writable) this.#writable = this.#socket.write(this.#waiting.shift());
        },
        onReadable: (count) => this.#read(count),
        onError: () => reject(new Error("floor: socket error")),
      });
    });
  }

  ready() {
    return this.#ready;
  }

  #write(text) {
    this.#send(ascii(text));
  }

  #send(bytes) {
    if (this.#waiting.length === 0 && bytes.length <= this.#writable) this.#writable = this.#socket.write(bytes);
    else this.#waiting.push(bytes.slice());
  }

  subscribe(subject, callback) {
    const sid = this.#nextSid++;
    this.#subs.set(sid, callback);
    this.#write(`SUB ${subject} ${sid}\r\n`);
    return sid;
  }

  publish(subject, data, reply) {
    this.#write(reply === undefined ? `PUB ${subject} ${data.length}\r\n` : `PUB ${subject} ${reply} ${data.length}\r\n`);
    this.#send(data);
    this.#write("\r\n");
  }

  flush() {
    return new Promise((resolve) => {
      this.#pongs.push(resolve);
      this.#write("PING\r\n");
    });
  }

  /** One request at a time through one inbox subscription. */
  request(subject, data) {
    if (this.#request === null) {
      this.#request = { sid: this.subscribe("_INBOX.floor.*", null), resolve: null };
    }
    return new Promise((resolve) => {
      this.#request.resolve = resolve;
      this.publish(subject, data, "_INBOX.floor.r");
    });
  }

  close() {
    this.#socket.close();
    this.#socket = null;
    this.#subs.clear();
    this.#request = null;
    return Promise.resolve();
  }

  #read(count) {
    const bytes = new Uint8Array(this.#socket.read());
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.#need >= 0) {
        if (this.#have < this.#size) this.#payload[this.#have] = b;
        this.#have++;
        if (--this.#need === 0) this.#deliver();
        continue;
      }
      if (b === LF) {
        this.#onLine(this.#lineLen > 0 && this.#line[this.#lineLen - 1] === CR ? this.#lineLen - 1 : this.#lineLen);
        this.#lineLen = 0;
      } else if (this.#lineLen < this.#line.length) this.#line[this.#lineLen++] = b;
    }
  }

  #onLine(n) {
    const l = this.#line;
    if (n >= 4 && l[0] === 80 && l[1] === 73) return this.#write("PONG\r\n"); // PING
    if (n >= 4 && l[0] === 80 && l[1] === 79) return this.#pongs.shift()?.(); // PONG
    if (!(n >= 3 && l[0] === 77)) return; // only MSG counts; +OK, INFO, -ERR are ignored
    // MSG <subject> <sid> [reply] <size>: the sid is the second token, the size the last
    let tokens = 0;
    let sid = 0;
    let size = 0;
    for (let i = 3; i < n; i++) {
      if (l[i] === 32) {
        tokens++;
        size = 0;
        continue;
      }
      const d = l[i] - 48;
      if (tokens === 2) sid = sid * 10 + d;
      size = size * 10 + d;
    }
    this.#sid = sid;
    this.#size = size;
    this.#have = 0;
    this.#need = size + 2;
  }

  #deliver() {
    this.#need = -1;
    const view = this.#payload.subarray(0, this.#size < this.#payload.length ? this.#size : this.#payload.length);
    const r = this.#request;
    if (r !== null && this.#sid === r.sid) {
      const resolve = r.resolve;
      r.resolve = null;
      resolve?.(view.slice());
      return;
    }
    this.#subs.get(this.#sid)?.(view);
  }
}
