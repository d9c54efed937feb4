/**
 * nats-xs/auth: the authenticators of nats.js, for `connect({ authenticator })`. The nkey, JWT and
 * creds authenticators sign the server's nonce with Ed25519 (tweetnacl, bundled here so that an app
 * that does not sign carries none of it).
 *
 *   import { credsAuthenticator } from "nats-xs/auth";
 *   const nc = await connect({ servers, authenticator: credsAuthenticator(credsBytes) });
 *
 * Secrets: every seed decoded here, and the expanded secret key, are cleared (`fill(0)`) as soon as
 * the signature is made. The caller's own bytes are left as they were (a reconnect signs again); to
 * keep a seed out of RAM between connects, pass a function that reads it from storage each time.
 * No error message, trace or statistic ever contains a seed.
 */
import { InvalidArgumentError } from "nats-xs";
import type { Auth, Authenticator } from "nats-xs";
import TextEncoder from "text/encoder";
import { parseCreds } from "./creds.js";
import { sign } from "./ed25519.js";
import { base64url, decodeSeed, encodePublicKey } from "./nkeys.js";

export { parseCreds, MAX_CREDS_BYTES } from "./creds.js";
export type { ParsedCreds } from "./creds.js";
export { decodeSeed, encodePublicKey, crc16, base64url } from "./nkeys.js";
export type { RawSeed } from "./nkeys.js";
export { publicKeyOf } from "./ed25519.js";

/** Bytes or a function that returns them on each connect. */
export type Secret = Uint8Array | (() => Uint8Array);

function secret(value: Secret, what: string): Uint8Array {
  const bytes = typeof value === "function" ? value() : value;
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`${what} must be a Uint8Array (or a function returning one)`);
  return bytes;
}

function checkSecret(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array) && typeof value !== "function")
    throw new InvalidArgumentError(`${what} must be a Uint8Array (or a function returning one), e.g. new TextEncoder().encode("SU...")`);
}

/** Signs the nonce with an encoded seed ("SU..."): the public key and the signature. */
function signNonce(encodedSeed: Uint8Array, nonce: string | undefined): { nkey: string; sig: string } {
  const raw = decodeSeed(encodedSeed);
  try {
    const challenge = new TextEncoder().encode(nonce ?? "");
    const { signature, publicKey } = sign(raw.seed, challenge);
    // no nonce (a server without auth): say who we are, sign nothing, as nats.js does
    return { nkey: encodePublicKey(raw.role, publicKey), sig: nonce === undefined || nonce === "" ? "" : base64url(signature) };
  } finally {
    raw.seed.fill(0);
  }
}

/** nkey authentication: the user's seed ("SU...", as bytes) signs the server's nonce. */
export function nkeyAuthenticator(seed: Secret): Authenticator {
  checkSecret(seed, "nkeyAuthenticator(seed): seed");
  return (nonce?: string): Auth => signNonce(secret(seed, "the nkey seed"), nonce);
}

/** JWT authentication (decentralized auth): the user JWT, and the user's seed to sign the nonce. */
export function jwtAuthenticator(jwt: string | (() => string), seed?: Secret): Authenticator {
  if (typeof jwt !== "string" && typeof jwt !== "function") throw new InvalidArgumentError("jwtAuthenticator(jwt, seed): jwt must be a string or a function returning one");
  if (seed !== undefined) checkSecret(seed, "jwtAuthenticator(jwt, seed): seed");
  return (nonce?: string): Auth => {
    const token = typeof jwt === "function" ? jwt() : jwt;
    if (typeof token !== "string" || token.length === 0) throw new InvalidArgumentError("the JWT is empty");
    if (seed === undefined) return { jwt: token };
    return { jwt: token, ...signNonce(secret(seed, "the nkey seed"), nonce) };
  };
}

/** Authentication with the contents of a `.creds` file (user JWT and seed). */
export function credsAuthenticator(creds: Secret): Authenticator {
  checkSecret(creds, "credsAuthenticator(creds): creds");
  return (nonce?: string): Auth => {
    const parsed = parseCreds(secret(creds, "the creds"));
    return { jwt: parsed.jwt, ...signNonce(parsed.seed, nonce) };
  };
}

/** User and password (the same as the `user` and `pass` options), as nats.js has it. */
export function usernamePasswordAuthenticator(user: string | (() => string), pass?: string | (() => string)): Authenticator {
  return (): Auth => ({
    user: typeof user === "function" ? user() : user,
    pass: typeof pass === "function" ? pass() : pass,
  });
}

/** A token (the same as the `token` option), as nats.js has it. */
export function tokenAuthenticator(token: string | (() => string)): Authenticator {
  return (): Auth => ({ auth_token: typeof token === "function" ? token() : token });
}
