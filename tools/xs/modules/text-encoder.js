// "text/encoder": the native UTF-8 TextEncoder (tools/xs/host/text.c).
const TextEncoder = globalThis.__xsHost.TextEncoder;
export default TextEncoder;
