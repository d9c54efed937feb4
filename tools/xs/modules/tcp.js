// "embedded:io/socket/tcp": the native TCP class (tools/xs/host/tcp.c).
const TCP = globalThis.__xsHost.TCP;
export default TCP;
