// Runs first in the preparation machine: freezes the JavaScript built-ins the way the Moddable
// linker does for a device image, so that firmware which writes to a built-in (for example
// `this.name = "X"` in an Error subclass constructor, which would write through to the frozen
// Error.prototype.name) fails here as it fails on the board. The global object itself stays open.
const skip = new Set(["globalThis", "global", "trace", "__xsHost"]);
const seen = new WeakSet();

function freeze(value) {
  if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    if ("value" in descriptor) freeze(descriptor.value);
    else {
      freeze(descriptor.get);
      freeze(descriptor.set);
    }
  }
  freeze(Reflect.getPrototypeOf(value));
}

for (const key of Reflect.ownKeys(globalThis)) {
  if (skip.has(key)) continue;
  const descriptor = Reflect.getOwnPropertyDescriptor(globalThis, key);
  if (descriptor !== undefined && "value" in descriptor) freeze(descriptor.value);
}
// Intrinsics that no global names.
freeze(function* () {});
freeze(async function () {});
freeze(async function* () {});
freeze([][Symbol.iterator]());
freeze(new Map()[Symbol.iterator]());
freeze(new Set()[Symbol.iterator]());
freeze(""[Symbol.iterator]());
freeze(/x/[Symbol.matchAll](""));
freeze(Promise.resolve());
export default true;
