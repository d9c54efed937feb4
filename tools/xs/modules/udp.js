// "embedded:io/socket/udp": the native UDP class (tools/xs/host/udp.c), minimal.
const UDP = globalThis.__xsHost.UDP;
export default UDP;
