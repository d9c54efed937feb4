// nkey, JWT and creds authentication (nats-xs/auth): the device's signatures checked byte for byte
// against @nats-io/nkeys, then real nats-servers with nkey users and decentralized JWT auth (an
// operator, accounts and users made here with @nats-io/nkeys and @nats-io/jwt, memory resolver),
// nats.js as the peer, and the failures a field device meets: wrong key, expired or revoked JWT,
// unreadable creds.
import { afterEach, describe, expect, test } from "vitest";
import { createAccount, createOperator, createUser, fromSeed } from "@nats-io/nkeys";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { AuthorizationError, connect, InvalidArgumentError } from "../dist/nats-xs.js";
import {
  base64url,
  credsAuthenticator,
  decodeSeed,
  encodePublicKey,
  jwtAuthenticator,
  nkeyAuthenticator,
  parseCreds,
  publicKeyOf,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "../dist/nats-xs-auth.js";
import { Collector, Fixture, within } from "./helpers.js";

const fx = new Fixture();
afterEach(() => fx.cleanup());
const te = new TextEncoder();
const td = new TextDecoder();

/** A message from the device reaches a nats.js peer on the same server (and account). */
async function exchange(nc: Awaited<ReturnType<typeof connect>>, peer: Awaited<ReturnType<Fixture["js"]>>, subject: string): Promise<void> {
  const got = new Collector<string>(1, "messages");
  peer.subscribe(subject, { callback: (_e, m) => got.push(m.string()) });
  await peer.flush();
  nc.publish(subject, "signed in");
  expect(await got.done).toEqual(["signed in"]);
}

describe("nkeys on the device", () => {
  test("a decoded seed gives the public key and the signatures @nats-io/nkeys gives", () => {
    for (const make of [createUser, createAccount, createOperator]) {
      const kp = make();
      const seed = kp.getSeed();
      const raw = decodeSeed(seed);
      const pub = encodePublicKey(raw.role, publicKeyOf(raw.seed));
      expect(pub).toBe(kp.getPublicKey());
      const nonce = te.encode("6uTGRHRp1cHQ3mk");
      const theirs = kp.sign(nonce);
      const auth = nkeyAuthenticator(seed)("6uTGRHRp1cHQ3mk");
      expect(auth.nkey).toBe(kp.getPublicKey());
      expect(auth.sig).toBe(base64url(theirs));
      expect(Buffer.from(auth.sig as string, "base64url")).toEqual(Buffer.from(theirs));
    }
  });

  test("the base64url of every length matches Node's", () => {
    for (let n = 0; n < 70; n++) {
      const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      expect(base64url(b)).toBe(Buffer.from(b).toString("base64url"));
    }
  });

  test("without a nonce the authenticator names the key and signs nothing, as nats.js does", () => {
    const kp = createUser();
    expect(nkeyAuthenticator(kp.getSeed())(undefined)).toEqual({ nkey: kp.getPublicKey(), sig: "" });
  });

  test("a bad seed is refused with a message that never quotes it", () => {
    const seed = td.decode(createUser().getSeed());
    const mistyped = seed.slice(0, 20) + (seed[20] === "A" ? "B" : "A") + seed.slice(21);
    const cases: [string, RegExp][] = [
      [mistyped, /checksum/],
      [createUser().getPublicKey(), /does not start with 'S'/],
      [seed.slice(0, 40), /decodes to/],
      [seed.slice(0, 30) + "1" + seed.slice(31), /not base32/],
      ["", /empty/],
    ];
    for (const [text, why] of cases) {
      let caught: unknown;
      try {
        nkeyAuthenticator(te.encode(text))("nonce");
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as Error).message).toMatch(why);
      if (text.length > 8) expect((caught as Error).message).not.toContain(text.slice(2, 12));
    }
  });

  test("the caller's seed bytes are left as given, so a reconnect can sign again", () => {
    const kp = createUser();
    const seed = kp.getSeed();
    const copy = seed.slice();
    const auth = nkeyAuthenticator(seed);
    expect(auth("a").nkey).toBe(kp.getPublicKey());
    expect(seed).toEqual(copy);
    expect(auth("b").sig).toBe(base64url(kp.sign(te.encode("b"))));
  });

  test("a creds file is read as nsc writes it; a broken one is refused clearly", () => {
    const user = createUser();
    const creds = fmtCreds("eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVIn0.c2ln", user);
    const parsed = parseCreds(creds);
    expect(parsed.jwt).toBe("eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVIn0.c2ln");
    expect(td.decode(parsed.seed)).toBe(td.decode(user.getSeed()));
    // CRLF line ends and extra blank lines, as a file edited on another system has them
    const crlf = te.encode(td.decode(creds).replace(/\n/g, "\r\n\r\n"));
    expect(td.decode(parseCreds(crlf).seed)).toBe(td.decode(user.getSeed()));
    expect(() => parseCreds(te.encode("no markers here"))).toThrow(/unable to parse the creds/);
    expect(() => parseCreds(new Uint8Array(40000))).toThrow(/larger than/);
    expect(() => credsAuthenticator(te.encode("-----A-----\nx y\n-----B-----\n-----C-----\nS\n-----D-----\n"))("n")).toThrow(/JWT has a character/);
  });

  test("arguments of the wrong type are refused when the authenticator is made", async () => {
    expect(() => nkeyAuthenticator("SUA..." as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(() => credsAuthenticator(undefined as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(() => jwtAuthenticator(5 as unknown as string)).toThrow(InvalidArgumentError);
    await expect(connect({ authenticator: "x" as never })).rejects.toThrow(/authenticator must be a function/);
  });
});

describe("nkey users on a real server", () => {
  async function nkeyServer() {
    const user = createUser();
    const server = await fx.server({ config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n` });
    return { user, server };
  }

  test("the device signs the nonce and talks to a nats.js peer signed in with the same nkey", async () => {
    const { user, server } = await nkeyServer();
    const { nc } = await fx.xs({ servers: server.url, authenticator: nkeyAuthenticator(user.getSeed()) });
    const peer = await fx.js({ servers: server.url, authenticator: (await import("@nats-io/transport-node")).nkeyAuthenticator(user.getSeed()) });
    await exchange(nc, peer, "auth.nkey");
  });

  test("the seed can come from a function, read again on every connect (here after a restart)", async () => {
    const { user, server } = await nkeyServer();
    let reads = 0;
    const { nc, status } = await fx.xs({
      servers: server.url,
      reconnectTimeWait: 100,
      authenticator: nkeyAuthenticator(() => {
        reads++;
        return user.getSeed();
      }),
    });
    await server.restart();
    await status.next("reconnect", 15_000);
    await nc.flush();
    expect(reads).toBe(2);
  });

  test("another user's seed is refused with AuthorizationError", async () => {
    const { server } = await nkeyServer();
    const err = await within(connect({ servers: server.url, authenticator: nkeyAuthenticator(createUser().getSeed()) }), "connect", 10_000).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect((err as Error).message).toMatch(/refused the credentials.*Authorization Violation/);
  });

  test("a seed that cannot be decoded fails the connection with AuthorizationError, naming the cause, not the seed", async () => {
    const { server, user } = await nkeyServer();
    const seed = td.decode(user.getSeed());
    // a character in the middle: the last one also carries padding bits, and A -> B there changes
    // nothing that is decoded (1 seed in 8 would then sign in)
    const bad = te.encode(seed.slice(0, 40) + (seed[40] === "A" ? "B" : "A") + seed.slice(41));
    const err = await within(connect({ servers: server.url, authenticator: nkeyAuthenticator(bad) }), "connect", 10_000).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect((err as Error).message).toMatch(/authenticator could not sign in: the nkey seed fails its checksum/);
    expect((err as Error).message).not.toContain(seed.slice(3, 20));
  });

  test("user/password and token authenticators work as nats.js's do", async () => {
    const a = await fx.server({ config: "authorization { user: dev, password: pw }\n" });
    await (await fx.xs({ servers: a.url, authenticator: usernamePasswordAuthenticator("dev", () => "pw") })).nc.flush();
    const b = await fx.server({ config: "authorization { token: s3cret }\n" });
    await (await fx.xs({ servers: b.url, authenticator: tokenAuthenticator("s3cret") })).nc.flush();
  });
});

describe("decentralized JWT auth on a real server", () => {
  /** An operator with a system account and an app account, preloaded into a memory resolver. */
  async function operatorSetup(accountExtra: Record<string, unknown> = {}, userKp = createUser(), userOpts: Record<string, unknown> = {}) {
    const op = createOperator();
    const sys = createAccount();
    const acct = createAccount();
    const opJwt = await encodeOperator("OP", op, { system_account: sys.getPublicKey() });
    const sysJwt = await encodeAccount("SYS", sys, {}, { signer: op });
    const acctJwt = await encodeAccount("APP", acct, { limits: { conn: -1, subs: -1, data: -1, payload: -1 }, ...accountExtra }, { signer: op });
    const userJwt = await encodeUser("device-7", userKp, acct, {}, userOpts);
    const config = `operator: ${opJwt}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${sysJwt}
  ${acct.getPublicKey()}: ${acctJwt}
}
`;
    const server = await fx.server({ config });
    return { server, acct, userKp, userJwt, creds: fmtCreds(userJwt, userKp) };
  }

  test("creds: the device connects as the user and a nats.js peer with the same creds hears it", async () => {
    const { server, creds } = await operatorSetup();
    const { nc } = await fx.xs({ servers: server.url, authenticator: credsAuthenticator(creds) });
    const { credsAuthenticator: jsCreds } = await import("@nats-io/transport-node");
    const peer = await fx.js({ servers: server.url, authenticator: jsCreds(creds) });
    await exchange(nc, peer, "auth.jwt");
  });

  test("jwtAuthenticator(jwt, seed) signs in the same way", async () => {
    const { server, userJwt, userKp } = await operatorSetup();
    const { nc } = await fx.xs({ servers: server.url, authenticator: jwtAuthenticator(userJwt, userKp.getSeed()) });
    await nc.flush();
  });

  test("a JWT signed for another user's key is refused", async () => {
    const { server, userJwt } = await operatorSetup();
    const err = await within(connect({ servers: server.url, authenticator: jwtAuthenticator(userJwt, createUser().getSeed()) }), "connect", 10_000).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
  });

  test("an expired user JWT is refused with AuthorizationError", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const { server, creds } = await operatorSetup({}, createUser(), { exp: past });
    const err = await within(connect({ servers: server.url, authenticator: credsAuthenticator(creds) }), "connect", 10_000).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
  });

  test("a revoked user is refused with AuthorizationError", async () => {
    const userKp = createUser();
    const now = Math.floor(Date.now() / 1000) + 5;
    const { server, creds } = await operatorSetup({ revocations: { [userKp.getPublicKey()]: now } }, userKp);
    const err = await within(connect({ servers: server.url, authenticator: credsAuthenticator(creds) }), "connect", 10_000).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
  });

  test("with waitOnFirstConnect the device keeps retrying per its options, then reports the refusal", async () => {
    const { server } = await operatorSetup();
    const stranger = credsAuthenticator(fmtCreds(await encodeUser("x", createUser(), createAccount()), createUser()));
    let attempts = 0;
    const err = await within(
      connect({
        servers: server.url,
        waitOnFirstConnect: true,
        maxReconnectAttempts: 3,
        reconnectTimeWait: 100,
        authenticator: (nonce?: string) => {
          attempts++;
          return stranger(nonce);
        },
      }),
      "connect",
      20_000,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect(attempts).toBe(3);
  });

  test("the seed of a creds file is decoded from the caller's bytes without changing them", () => {
    const kp = fromSeed(createUser().getSeed());
    const creds = fmtCreds("a.b.c", kp);
    const before = creds.slice();
    credsAuthenticator(creds)("nonce");
    expect(creds).toEqual(before);
  });
});
