// text/decoder on Node: Node's WHATWG TextDecoder (UTF-8 with `fatal`, `ignoreBOM` and
// `decode(bytes, { stream })`), the same surface as Moddable's module.
import { TextDecoder } from "node:util";

export default TextDecoder;
