// "timer": Moddable's Timer on the host's loop (tools/xs/host/timer.c).
const host = globalThis.__xsHost;
const Timer = Object.freeze({
  set: host.timerSet,
  repeat: host.timerRepeat,
  schedule: host.timerSchedule,
  clear: host.timerClear,
  delay: host.timerDelay,
});
export default Timer;
