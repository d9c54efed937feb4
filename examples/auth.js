// An nkey user: the server knows the user's public key, the device signs the server's nonce with
// its seed ("SU...", from flash; here from the `seed` setting).
//   node --import ./host-sim/register.js examples/auth.js nats=nats://127.0.0.1:4222 seed=SU...
import config from "mc/config";
import TextEncoder from "text/encoder";
// #region auth
import { connect } from "nats-xs";
import { credsAuthenticator, nkeyAuthenticator, jwtAuthenticator } from "nats-xs/auth";
// #endregion auth

const servers = typeof config.nats === "string" ? config.nats : "nats://127.0.0.1:4222";
const seedBytes = new TextEncoder().encode(typeof config.seed === "string" ? config.seed : "");
// #region auth
const nc = await connect({ servers, authenticator: nkeyAuthenticator(seedBytes) });
// or credsAuthenticator(credsFileBytes) (a .creds file's bytes), or jwtAuthenticator(userJwt, seedBytes)
// #endregion auth
trace(`auth: connected to ${nc.getServer()} as an nkey user\n`);
await nc.close();
