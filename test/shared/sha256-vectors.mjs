// SHA-256 test vectors of FIPS 180-4 (NIST's examples, "SHA256.pdf" of the Cryptographic Standards
// and Guidelines examples) and NIST's CAVP short/long messages, as {name, parts, repeat, hex}: the
// message is `parts` (strings, hashed as UTF-8 / ASCII) written `repeat` times. Plain JS, no Node
// API: the same table runs in host-sim tests and inside the XS engine.
export const VECTORS = Object.freeze([
  { name: "empty", parts: [""], repeat: 1, hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { name: "abc (FIPS 180-4 one block)", parts: ["abc"], repeat: 1, hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  {
    name: "448 bits (FIPS 180-4 two blocks)",
    parts: ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"],
    repeat: 1,
    hex: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  },
  {
    name: "896 bits",
    parts: ["abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"],
    repeat: 1,
    hex: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
  },
  { name: "one million 'a' (written 1000 at a time)", parts: ["a".repeat(1000)], repeat: 1000, hex: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
  { name: "55 bytes (padding fits one block)", parts: ["a".repeat(55)], repeat: 1, hex: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
  { name: "56 bytes (padding needs a second block)", parts: ["a".repeat(56)], repeat: 1, hex: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
  { name: "64 bytes, written 1 + 63", parts: ["a", "a".repeat(63)], repeat: 1, hex: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
]);
