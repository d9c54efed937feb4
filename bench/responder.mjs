// The request/reply peer of every client: a nats.js responder in its own process that echoes the
// request's payload back to its reply subject.
//
//   node bench/responder.mjs <nats url> <subject>
import { connect } from "@nats-io/transport-node";

const [url, subject] = process.argv.slice(2);
const nc = await connect({ servers: url, name: "bench-responder" });
nc.subscribe(subject, { callback: (_err, msg) => msg.respond(msg.data) });
await nc.flush();
process.send?.({ ready: true });
process.on("disconnect", () => nc.close().then(() => process.exit(0)));
