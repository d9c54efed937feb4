// "text/decoder": the native UTF-8 TextDecoder (tools/xs/host/text.c).
const TextDecoder = globalThis.__xsHost.TextDecoder;
export default TextDecoder;
