// "crypt": Moddable's Digest, SHA256 only (tools/xs/host/crypt.c).
export const Digest = globalThis.__xsHost.Digest;
export default Object.freeze({ Digest });
