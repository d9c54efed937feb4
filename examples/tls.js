// TLS to the server: the device checks the server's certificate against the CA it was given (PEM
// text or bytes; here from the `ca` setting, MC_CA in the environment), and may show its own.
//   MC_CA="$(cat ca.pem)" node --import ./host-sim/register.js examples/tls.js nats=tls://127.0.0.1:4222
import config from "mc/config";
import { connect } from "nats-xs";

const servers = typeof config.nats === "string" ? config.nats : "tls://127.0.0.1:4222";
const caPem = typeof config.ca === "string" ? config.ca : "";
// #region tls
const nc = await connect({
  servers,                                     // "tls://nats.example.com:4222"
  tls: { ca: caPem },                          // and cert, key (a client certificate), serverName
});
// #endregion tls
trace(`tls: connected to ${nc.getServer()}, tls_required ${nc.info?.tls_required}\n`);
await nc.close();
