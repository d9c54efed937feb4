// Sends a link payload to the Object Store bucket given on the command line in a build that lacks
// nats-xs/obj (see without-obj.mjs) and prints `<error name> <code> <message>`, or `sent`.
import { connect } from "nats-xs";
import { smartsend } from "nats-xs/bridge";

const [url, bucket] = process.argv.slice(2);
const nc = await connect({ servers: url });
try {
  await smartsend(nc, "plain.obj", [{ dataname: "x", type: "binary", data: new Uint8Array(5000) }], { object_store: bucket, size_threshold: 1024 });
  console.log("sent");
} catch (e) {
  console.log(`${e.name} ${e.code} ${e.message}`);
}
await nc.close();
