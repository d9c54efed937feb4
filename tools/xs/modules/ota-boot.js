// "ota/boot": the running image's rollback state and the restart (tools/xs/host/ota.c).
const host = globalThis.__xsHost;
export const running = host.otaRunning;
export const state = host.otaState;
export const next = host.otaNext;
export const lastInvalid = host.otaLastInvalid;
export const markValid = host.otaMarkValid;
export const rollback = host.otaRollback;
export const restart = host.otaRestart;
export default Object.freeze({ running, state, next, lastInvalid, markValid, rollback, restart });
