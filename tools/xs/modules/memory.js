// "xs:memory": XS heap figures of the app machine, for tests and benchmarks (host only).
//   memory()  forces a garbage collection, then returns {slots, slotsPeak, chunkBytes, chunkBytesPeak}
//   gc()      forces a garbage collection
//   budget()  the creation budget: {chunkBytes, slots, stackSlots}
//   stack()   stack slots in use by the caller's frames (of the 512 a device has)
//   collections()  garbage collections the app machine has run so far (modulo 65536)
const host = globalThis.__xsHost;
export const memory = host.memory;
export const gc = host.gc;
export const budget = host.budget;
export const stack = host.stack;
export const collections = host.collections;
export default Object.freeze({ memory, gc, budget, stack, collections });
