// A hostile NATS peer on loopback: a small node:net server that speaks just enough of the protocol
// (INFO, then PONG to the client's handshake PING) to get a client connected, and then does what an
// attacker would: floods, stalls, sends frames of its choosing. It is not a stand-in for
// nats-server (tests use the real one for everything a server should do); it is the attacker.
import net from "node:net";

/** INFO as nats-server 2.9 sends it, with `extra` fields merged in. */
export function infoLine(port, extra = {}) {
  const info = {
    server_id: "HOSTILE",
    server_name: "hostile",
    version: "2.9.10",
    proto: 1,
    headers: true,
    max_payload: 1048576,
    host: "127.0.0.1",
    port,
    ...extra,
  };
  return `INFO ${JSON.stringify(info)} \r\n`;
}

/**
 * Starts the server. For each connection: sends `info` (a whole line; default infoLine()), waits for
 * the client's CONNECT and PING, answers PONG unless `handshake` is false, then calls
 * `onClient(socket, state)`. `state.received` holds the text the client sent so far (bounded to the
 * last 64 KB); `answerPings` (default true) answers each later client PING with PONG.
 * @param {{ info?: (port: number) => string, handshake?: boolean, answerPings?: boolean,
 *           onClient?: (socket: net.Socket, state: { received: string, connects: string[] }) => void }} options
 */
export async function hostileServer(options = {}) {
  const sockets = new Set();
  /** CONNECT lines of every client, in order. */
  const connects = [];
  let clients = 0;
  const server = net.createServer((socket) => {
    clients++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const state = { received: "", connects };
    let greeted = false;
    socket.write(options.info ? options.info(port) : infoLine(port));
    socket.on("data", (chunk) => {
      state.received += chunk.toString("latin1");
      if (state.received.length > 65536) state.received = state.received.slice(-65536);
      if (!greeted) {
        const at = state.received.indexOf("CONNECT ");
        const ping = state.received.indexOf("PING\r\n", at);
        if (at < 0 || ping < 0) return;
        connects.push(state.received.slice(at, state.received.indexOf("\r\n", at)));
        greeted = true;
        state.received = state.received.slice(ping + 6);
        if (options.handshake === false) return;
        socket.write("PONG\r\n");
        options.onClient?.(socket, state);
        return;
      }
      if (options.answerPings !== false) {
        let n = 0;
        let at;
        while ((at = state.received.indexOf("PING\r\n")) >= 0) {
          state.received = state.received.slice(at + 6);
          n++;
        }
        if (n > 0 && !socket.destroyed) socket.write("PONG\r\n".repeat(n));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    connects,
    get clients() {
      return clients;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `total` bytes made by `piece()` to `socket`, honouring its backpressure; resolves when
 *  done or when the socket closed. */
export async function flood(socket, piece, total) {
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    const b = piece();
    sent += b.length;
    if (!socket.write(b)) {
      const ok = await new Promise((resolve) => {
        const done = (v) => {
          socket.off("drain", onDrain);
          socket.off("close", onClose);
          resolve(v);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        socket.on("drain", onDrain);
        socket.on("close", onClose);
      });
      if (!ok) break;
    }
  }
  return sent;
}
