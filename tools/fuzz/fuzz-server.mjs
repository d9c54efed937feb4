// The hostile server of the connection fuzz: for each client that completes the handshake it
// writes generated frames in batches of 100, each followed by a sync message (`MSG fz.sync 1
// _sync.<k> 0`) that the client answers with an empty publish to `_sync.<k>`; a client that
// answers within 30 ms (after the frames before it were parsed) survived the batch and gets the
// next one on the same connection, any other is dropped (it refused a frame, or a frame left it
// waiting for bytes that never come) and gets the next batch once it reconnects. When `total` frames were fed, the next client to answer gets
// `MSG fz.end 1 4` + `done`, which tells it the run is over.
import { frames, KINDS } from "./frames.mjs";
import { hostileServer } from "./hostile.mjs";

const BATCH = 100;
const PONG_WAIT_MS = 30;

export async function fuzzServer(seed, total, mix = [1990, 7, 3]) {
  let gen = null;
  const counts = { frames: 0, valid: 0, mutated: 0, malformed: 0, connections: 0, batchesSurvived: 0, batchesCut: 0, ended: false };
  let resolveEnded;
  const ended = new Promise((r) => (resolveEnded = r));
  const server = await hostileServer({
    answerPings: true,
    onClient: (socket) => {
      counts.connections++;
      let seen = "";
      socket.on("data", (chunk) => {
        seen = (seen + chunk.toString("latin1")).slice(-4096);
      });
      const closed = new Promise((r) => socket.once("close", r));
      const waitSync = (k) =>
        new Promise((resolve) => {
          const started = Date.now();
          const mark = `_sync.${k} 0`;
          const check = () => {
            if (seen.includes(mark)) return resolve(true);
            if (socket.destroyed || Date.now() - started > PONG_WAIT_MS) return resolve(false);
            setTimeout(check, 1);
          };
          check();
        });
      void (async () => {
        let k = 0;
        while (!socket.destroyed) {
          if (counts.frames >= total) {
            socket.write("MSG fz.end 1 4\r\ndone\r\n");
            counts.ended = true;
            resolveEnded();
            await closed;
            return;
          }
          const parts = [];
          const n = Math.min(BATCH, total - counts.frames);
          for (let i = 0; i < n; i++) {
            const f = gen.next();
            counts[KINDS[f.kind]]++;
            parts.push(f.bytes);
          }
          counts.frames += n;
          k++;
          parts.push(Buffer.from(`MSG fz.sync 1 _sync.${k} 0\r\n\r\n`));
          socket.write(Buffer.concat(parts));
          if (await waitSync(k)) counts.batchesSurvived++;
          else {
            counts.batchesCut++;
            socket.destroy();
            return;
          }
        }
      })();
    },
  });
  gen = frames(seed, { mix, sids: 6, port: server.port });
  return { server, counts, ended };
}
