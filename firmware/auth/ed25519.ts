/**
 * Ed25519 signing for nonce challenges, through tweetnacl (the library nats.js's nkeys use).
 *
 * Chosen by measurement on the XS engine under the ESP32 budget (README, "nkeys and JWT"): a
 * table-driven BigInt implementation (@noble/ed25519) signs ten times faster but keeps about 950 KB
 * of precomputed points alive, twelve times the whole ESP32 heap; tweetnacl computes with 16-limb
 * Float64Arrays, keeps nothing between calls, and fits.
 */
import nacl from "tweetnacl";

/** The public key of a raw 32-byte seed. The expanded secret key is cleared before returning. */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  const kp = nacl.sign.keyPair.fromSeed(seed);
  kp.secretKey.fill(0);
  return kp.publicKey;
}

/** Signs `message` with a raw 32-byte seed; returns the 64-byte signature and the public key.
 *  The expanded secret key is cleared before returning. */
export function sign(seed: Uint8Array, message: Uint8Array): { signature: Uint8Array; publicKey: Uint8Array } {
  const kp = nacl.sign.keyPair.fromSeed(seed);
  try {
    return { signature: nacl.sign.detached(message, kp.secretKey), publicKey: kp.publicKey };
  } finally {
    kp.secretKey.fill(0);
  }
}
