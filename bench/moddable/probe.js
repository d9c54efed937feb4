// "bench-probe" on Moddable's runtime (an instrumented build, mcconfig -i or -d): live heap after
// Debug.gc(), and the number of collections so far, through the SDK's instrumentation module.
// bench/xs/probe-xs.js is the same on the XS host.
//
// The runtime zeroes its collection counter each time it prints its once-a-second `instruments:`
// line, so collections() also traces `C <count>`: bench/lib/workload.mjs adds up the counts of the
// `instruments:` lines printed between two marks to get the collections in between.
import Debug from "debug";
import Instrumentation from "instrumentation";

/** Bytes of a slot on the runtime's machine (32 on a 64-bit Linux build, 16 on an ESP32). */
const SLOT_BYTES = 32;

function get(name) {
  return Instrumentation.get(Instrumentation.map(name));
}

/** Garbage collections the machine has run so far. */
export function collections() {
  const n = get("XS Garbage Collection Count");
  trace(`C ${n}\n`);
  return n;
}

/** Live slots and chunk bytes after a forced collection. */
export function reading() {
  Debug.gc();
  return { slots: get("XS Slot Heap Used") / SLOT_BYTES, chunkBytes: get("XS Chunk Heap Used") };
}
