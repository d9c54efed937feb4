// "xs:host": controls of the XS host itself (host only).
//   exit(code)  ends the run now with that exit status (after the --memory line, when asked)
const host = globalThis.__xsHost;
export const exit = host.exit;
export default Object.freeze({ exit });
