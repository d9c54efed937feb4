// "bench-probe" on the XS host (tools/xs): live heap after a forced collection, and the number of
// collections so far. bench/moddable/probe.js is the same on Moddable's runtime.
import { collections as count, memory } from "xs:memory";

/** Garbage collections the machine has run so far. */
export function collections() {
  return count();
}

/** Live slots and chunk bytes after a forced, compacting collection. */
export function reading() {
  const m = memory();
  return { slots: m.slots, chunkBytes: m.chunkBytes };
}
