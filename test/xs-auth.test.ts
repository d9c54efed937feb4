// nkey and decentralized JWT sign-in by the built library on the XS engine under the ESP32 budget,
// with nats-xs and nats-xs/auth preloaded; nats.js peers hear what the device publishes once signed
// in. Prints the signing time and the heap after connecting.
import { join } from "node:path";
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../tools/nats-server.mjs";
import { ROOT, explain, field, prepareXs, runXs } from "./xs-harness.ts";

beforeAll(prepareXs, 300_000);

const td = new TextDecoder();

describe("nkey and JWT sign-in on XS", () => {
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  const peers: NatsConnection[] = [];
  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  it("signs the nonce with an nkey and with creds, publishes to nats.js peers, and is refused with another seed", async () => {
    const user = createUser();
    const nkeyServer = await startServer({ jetstream: false, config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n` });
    servers.push(nkeyServer);

    const op = createOperator();
    const sys = createAccount();
    const acct = createAccount();
    const jwtUser = createUser();
    const opJwt = await encodeOperator("OP", op, { system_account: sys.getPublicKey() });
    const sysJwt = await encodeAccount("SYS", sys, {}, { signer: op });
    const acctJwt = await encodeAccount("APP", acct, { limits: { conn: -1, subs: -1, data: -1, payload: -1 } }, { signer: op });
    const userJwt = await encodeUser("xs-device", jwtUser, acct);
    const jwtServer = await startServer({
      jetstream: false,
      config: `operator: ${opJwt}\nsystem_account: ${sys.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${sys.getPublicKey()}: ${sysJwt}\n  ${acct.getPublicKey()}: ${acctJwt}\n}\n`,
    });
    servers.push(jwtServer);

    const subject = `xs.auth.${process.pid}`;
    const heard: string[] = [];
    const p1 = await connect({ servers: nkeyServer.url, authenticator: nkeyAuthenticator(user.getSeed()) });
    const p2 = await connect({ servers: jwtServer.url, authenticator: credsAuthenticator(fmtCreds(userJwt, jwtUser)) });
    peers.push(p1, p2);
    for (const p of [p1, p2]) {
      p.subscribe(subject, { callback: (_e, m) => heard.push(m.string()) });
      await p.flush();
    }

    const r = await runXs(
      join(ROOT, "test", "xs", "auth.mjs"),
      ["nats-xs", "nats-xs/auth"],
      [
        `nkeyServer=${nkeyServer.url}`,
        `seed=${td.decode(user.getSeed())}`,
        `otherSeed=${td.decode(createUser().getSeed())}`,
        `jwtServer=${jwtServer.url}`,
        `jwt=${userJwt}`,
        `jwtSeed=${td.decode(jwtUser.getSeed())}`,
        `subject=${subject}`,
        "timeout=50000",
      ],
      undefined,
      60_000,
    );
    expect(r.code, explain(r)).toBe(0);
    expect(r.lines).toContain("done");
    expect(r.lines).toContain("refused AuthorizationError");
    const sign = field<{ ms: number; nkey: string }>(r, "sign");
    expect(sign.nkey).toBe(user.getPublicKey());
    const nkey = field<Record<string, number>>(r, "nkey");
    const jwt = field<Record<string, number>>(r, "jwt");
    await p1.flush();
    await p2.flush();
    expect(heard.sort()).toEqual(["jwt from xs", "nkey from xs"]);
    console.log(`xs auth: sign ${sign.ms} ms per nonce; after connect (above the state before) nkey ${JSON.stringify(nkey)}, jwt ${JSON.stringify(jwt)}`);
  }, 90_000);
});
