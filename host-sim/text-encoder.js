// text/encoder on Node: Node's WHATWG TextEncoder (UTF-8), the same surface as Moddable's module.
import { TextEncoder } from "node:util";

export default TextEncoder;
