// Connects to each URL given on the command line with a build that lacks the layers (see
// without-layers.mjs) and prints `<url> <error name> <code> <message>` per URL.
import { connect } from "nats-xs";

for (const url of process.argv.slice(2)) {
  try {
    const nc = await connect({ servers: url, timeout: 10_000 });
    console.log(`${url} connected`);
    await nc.close();
  } catch (e) {
    console.log(`${url} ${e.name} ${e.code} ${e.message}`);
  }
}
