// nkey and JWT sign-in on the XS engine under the ESP32 budget, nats-xs and nats-xs/auth preloaded
// as the auth manifest preloads them. Driven by test/xs-auth.test.ts, which runs the servers (an
// nkey user; an operator with a memory resolver) and the nats.js peers that hear the device.
//
//   npm run xs -- test/xs/auth.mjs --preload nats-xs --preload nats-xs/auth \
//     nkeyServer=nats://... seed=SU... jwtServer=nats://... jwt=eyJ... jwtSeed=SU... subject=...
//
// Lines: `sign {"ms":n,"rounds":n}` (time of one nonce signature, with the public key derivation),
// `nkey {memory}` and `jwt {memory}` (heap after connecting and publishing, before close),
// `refused <error name>` (another user's seed), `done`. `FAIL <why>` and exit 1 otherwise.
import config from "mc/config";
import TextEncoder from "text/encoder";
import { memory } from "xs:memory";
import { fail, say, watchdog } from "./report.mjs";
import { connect, AuthorizationError } from "nats-xs";
import { credsAuthenticator, nkeyAuthenticator } from "nats-xs/auth";

const dog = watchdog(Number(config.timeout ?? 25000));
const te = new TextEncoder();
const before = memory();
say(`memory ${JSON.stringify(Object.assign({ stage: "before" }, before))}`);

// signing time: the authenticator decodes the seed, derives the key pair and signs
const ROUNDS = 3;
const seed = te.encode(config.seed);
const sign = nkeyAuthenticator(seed);
const started = Date.now();
let auth;
for (let i = 0; i < ROUNDS; i++) auth = sign(`nonce-${i}-abcdefghijklmnop`);
say(`sign ${JSON.stringify({ ms: (Date.now() - started) / ROUNDS, rounds: ROUNDS, nkey: auth.nkey })}`);

async function signIn(servers, authenticator, what) {
  const nc = await connect({ servers, authenticator, reconnect: false });
  nc.publish(config.subject, `${what} from xs`);
  await nc.flush();
  const m = memory();
  say(`${what} ${JSON.stringify({ slots: m.slots - before.slots, chunkBytes: m.chunkBytes - before.chunkBytes, slotsPeak: m.slotsPeak, chunkBytesPeak: m.chunkBytesPeak })}`);
  await nc.close();
}

try {
  await signIn(config.nkeyServer, sign, "nkey");
  const creds = te.encode(
    `-----BEGIN NATS USER JWT-----\n${config.jwt}\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${config.jwtSeed}\n------END USER NKEY SEED------\n`,
  );
  await signIn(config.jwtServer, credsAuthenticator(creds), "jwt");
  try {
    await connect({ servers: config.nkeyServer, authenticator: nkeyAuthenticator(te.encode(config.otherSeed)), reconnect: false });
    fail("another user's seed was accepted");
  } catch (e) {
    if (!(e instanceof AuthorizationError)) fail(`expected AuthorizationError, got ${e}`);
    say(`refused ${e.name}`);
  }
  say("done");
} catch (e) {
  fail(`${e?.name}: ${e?.message}`);
}
import("timer").then(({ default: Timer }) => Timer.clear(dog));
