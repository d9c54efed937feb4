// The "crypt" device module on the XS engine: SHA-256 test vectors (test/shared/sha256-vectors.mjs),
// byte views, close(more), reset() and an unsupported type. One line per check: `ok <name>` or
// `FAIL <why>`; the last line is `done`.
import { Digest } from "crypt";
import { VECTORS } from "../shared/sha256-vectors.mjs";
import { fail, say } from "./report.mjs";

function hex(buffer) {
  const b = new Uint8Array(buffer);
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

function expect(name, got, want) {
  if (got !== want) fail(`${name}: ${got} instead of ${want}`);
  say(`ok ${name}`);
}

for (const v of VECTORS) {
  const d = new Digest("SHA256");
  for (let r = 0; r < v.repeat; r++) for (const p of v.parts) d.write(p);
  expect(v.name, hex(d.close()), v.hex);
}

// bytes: an ArrayBuffer, a Uint8Array view into the middle of a larger buffer, a DataView
const abc = new Uint8Array([0, 97, 98, 99, 0]);
let d = new Digest("SHA256");
d.write(abc.subarray(1, 2));
d.write(new DataView(abc.buffer, 2, 1));
d.write(abc.slice(3, 4).buffer);
expect("abc from views", hex(d.close()), VECTORS[1].hex);

// close(true) keeps the state; reset() starts over
d = new Digest("SHA256");
d.write("ab");
d.close(true);
d.write("c");
expect("close(more) then write", hex(d.close()), VECTORS[1].hex);
d.reset();
expect("reset", hex(d.close()), VECTORS[0].hex);
expect("sizes", `${d.blockSize}/${d.outputSize}`, "64/32");

let threw = false;
try {
  new Digest("MD4");
} catch {
  threw = true;
}
expect("unsupported type throws", threw, true);
say("done");
