// What a device does not have: the globals of Node and browsers that device code must not touch.
// The host simulator refuses to load device code that uses one (host-sim/hooks.js), so an app that
// would fail on XS with "setTimeout is not defined" fails in the simulator first, with the device
// module to use instead.
//
// A device's globals are ECMAScript's built-ins (XS implements ES2024) and Moddable's `trace`; all
// else comes from a device module (`import Timer from "timer"`). Checked by parsing the module
// (acorn) and listing the identifiers it reads without declaring them anywhere: a reference made
// under `typeof` is feature detection (`typeof self !== "undefined" ? self.crypto : null`): a module
// that tests a name that way is trusted to guard its other uses of it.
import { parse } from "acorn";

/** Node and browser globals a device lacks, with what to use there instead. */
export const NOT_ON_DEVICE = Object.freeze({
  setTimeout: 'Timer.set(callback, ms) from the "timer" device module',
  setInterval: 'Timer.repeat(callback, ms) from the "timer" device module',
  setImmediate: 'Timer.set(callback) from the "timer" device module',
  clearTimeout: 'Timer.clear(id) from the "timer" device module',
  clearInterval: 'Timer.clear(id) from the "timer" device module',
  clearImmediate: 'Timer.clear(id) from the "timer" device module',
  queueMicrotask: "Promise.resolve().then(callback)",
  Buffer: "Uint8Array (and the text/encoder, text/decoder device modules for strings)",
  process: 'the "mc/config" device module for settings; there is no process on a device',
  console: "trace(text) (Moddable's global; add the newline yourself)",
  require: "a static import (modules are bundled into the firmware)",
  module: "ES module exports",
  exports: "ES module exports",
  __dirname: "nothing: a device has no file system path for its modules",
  __filename: "nothing: a device has no file system path for its modules",
  global: "globalThis",
  TextEncoder: 'the "text/encoder" device module (import TextEncoder from "text/encoder")',
  TextDecoder: 'the "text/decoder" device module (import TextDecoder from "text/decoder")',
  fetch: "nats-xs/bridge's HTTP client, or the device's HTTP module",
  crypto: 'the "crypt" device module',
  performance: "Date.now() or Timer",
  URL: "your own parsing: a device has no URL class",
  URLSearchParams: "your own parsing: a device has no URLSearchParams",
  AbortController: "your own flag or a Timer",
  WebSocket: 'a ws:// server URL with connect() (nats-xs) or the "embedded:network/websocket/client" device module',
  atob: "Uint8Array.fromBase64 (XS) or nats-xs/bridge's Base64Decoder",
  btoa: "Uint8Array.prototype.toBase64 (XS) or nats-xs/bridge's Base64Encoder",
  structuredClone: "a copy of your own",
  navigator: "nothing: there is no browser on a device",
  window: "globalThis",
  self: "globalThis",
  document: "nothing: there is no browser on a device",
  localStorage: 'the files or "embedded:storage/flash" device modules',
});

/** Adds every name a binding pattern declares to `out`. */
function declare(pattern, out) {
  if (pattern === null || pattern === undefined) return;
  switch (pattern.type) {
    case "Identifier":
      out.add(pattern.name);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties) declare(p.type === "RestElement" ? p.argument : p.value, out);
      break;
    case "ArrayPattern":
      for (const e of pattern.elements) declare(e, out);
      break;
    case "RestElement":
      declare(pattern.argument, out);
      break;
    case "AssignmentPattern":
      declare(pattern.left, out);
      break;
  }
}

/** Whether an Identifier at `key` of `parent` is a name, not a reference to a variable. */
function isName(parent, key) {
  if (parent === null) return false;
  switch (parent.type) {
    case "MemberExpression":
      return key === "property" && !parent.computed;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return key === "key" && !parent.computed;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return true;
    case "ImportSpecifier":
    case "ExportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
    case "ExportAllDeclaration":
      return true;
    case "MetaProperty":
      return true;
  }
  return false;
}

/**
 * The Node or browser globals a module's source reads (outside `typeof`), each with where it is
 * first used (line) and what to use on a device instead.
 * @param {string} source
 * @returns {{ name: string, line: number, instead: string }[]}
 */
export function deviceGlobalViolations(source) {
  const ast = parse(source, { ecmaVersion: "latest", sourceType: "module", locations: true, allowHashBang: true });
  const declared = new Set();
  /** @type {Map<string, number>} */
  const used = new Map();
  const detected = new Set();
  const stack = [[ast, null, null]];
  while (stack.length > 0) {
    const [node, parent, key] = stack.pop();
    switch (node.type) {
      case "VariableDeclarator":
        declare(node.id, declared);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (node.id) declared.add(node.id.name);
        for (const p of node.params) declare(p, declared);
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        if (node.id) declared.add(node.id.name);
        break;
      case "CatchClause":
        declare(node.param, declared);
        break;
      case "ImportSpecifier":
      case "ImportDefaultSpecifier":
      case "ImportNamespaceSpecifier":
        declared.add(node.local.name);
        break;
      case "Identifier":
        if (!isName(parent, key) && Object.hasOwn(NOT_ON_DEVICE, node.name)) {
          if (parent !== null && parent.type === "UnaryExpression" && parent.operator === "typeof") detected.add(node.name);
          else if (!used.has(node.name)) used.set(node.name, node.loc.start.line);
        }
        break;
    }
    for (const k of Object.keys(node)) {
      const v = node[k];
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) if (v[i] !== null && typeof v[i] === "object" && typeof v[i].type === "string") stack.push([v[i], node, k]);
      } else if (v !== null && typeof v === "object" && typeof v.type === "string" && k !== "loc") stack.push([v, node, k]);
    }
  }
  const out = [];
  for (const [name, line] of used) if (!declared.has(name) && !detected.has(name)) out.push({ name, line, instead: NOT_ON_DEVICE[name] });
  return out.sort((a, b) => a.line - b.line);
}
