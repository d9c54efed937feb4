// Fetches the https URL given on the command line with the bridge's HTTP client in a build that lacks
// the TLS layer (see without-layers.mjs) and prints `<error name> <code> <message>`, or `fetched`.
import { HttpExchange, parseUrl } from "nats-xs/bridge";

const url = process.argv[2];
const handler = { head() {}, data() {} };
try {
  await new HttpExchange("GET", parseUrl(url), [], -1, null, handler, { timeout: 10_000, bufferBytes: 1024, dnsServers: [], tls: undefined }).run();
  console.log("fetched");
} catch (e) {
  console.log(`${e.name} ${e.code} ${e.message}`);
}
