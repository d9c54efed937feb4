// One client under measurement, in a process of its own (started by bench/run.mjs with
// `node --import ./host-sim/register.js`, the same for all three clients, so that they pay the same
// process setup and share no heap or JIT). It takes operations over the IPC channel one at a time
// and answers each with its figures.
//
//   node --import ./host-sim/register.js bench/child.mjs <limit|natsjs|natsxs> <nats url>
import { apiClient, rawClient } from "./lib/clients.mjs";

const [kind, url] = process.argv.slice(2);

async function load() {
  if (kind === "limit") return rawClient();
  if (kind === "natsjs") return apiClient((await import("@nats-io/transport-node")).connect);
  // BENCH_XS_OPTIONS: connect options for nats-xs only (JSON), to try buffer sizes; the default
  // run uses the shipped defaults
  if (kind === "natsxs") return apiClient((await import("nats-xs")).connect, JSON.parse(process.env.BENCH_XS_OPTIONS || "{}"));
  throw new Error(`unknown client ${kind}`);
}

const client = await load();
await client.open(url);

process.on("message", async (m) => {
  if (m.op === "exit") {
    await client.close();
    process.disconnect();
    return;
  }
  try {
    const result = await client[m.op](m.args, () => process.send({ id: m.id, ready: true }));
    process.send({ id: m.id, result });
  } catch (e) {
    process.send({ id: m.id, error: e?.stack ?? String(e) });
  }
});
process.send({ ready: true });
