// A device that must lose no reading across power losses (run by tools/outbox-reboot.mjs in the
// host simulator, killed with SIGKILL at random points): it numbers its readings per boot, publishes
// each through the JetStream outbox kept in a file (nats-xs/outbox-file), and prints
// "accepted <boot> <n>" the moment js.publish() has accepted reading n (the journal write has been
// flushed then). A reading the outbox refuses (full) is tried again, so the numbers have no gaps.
//   config: nats=<url> subject=<subject> boot=<n> interval=<ms> publish=<true|false>
// With publish=false it only sends what the file holds, prints "drained" and exits.
import config from "mc/config";
import Timer from "timer";
import { connect } from "nats-xs";
import { jetstream } from "nats-xs/jetstream";
import files from "embedded:storage/files";
import { fileStore } from "nats-xs/outbox-file";

const boot = Number(config.boot);
const nc = await connect({ servers: String(config.nats), waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100, reconnectJitter: 20 });
const store = fileStore(files, "outbox", { maxBytes: 8192 });
const js = jetstream(nc, { outboxStore: store, outboxBytes: 64 * 640, timeout: 1000 });
const st = js.outboxStatus();
trace(`booted ${boot} restored=${st.restored} corrupt=${st.corrupt} discarded=${store.status().discarded}\n`);

if (config.publish === false) {
  await js.outboxIdle();
  const s = js.outboxStatus();
  trace(`drained acked=${s.acked} duplicates=${s.duplicates} failed=${s.failed}\n`);
  await nc.close();
} else {
  let n = 0;
  const ignore = () => {};
  Timer.repeat(() => {
    const before = js.outboxStatus().published;
    js.publish(String(config.subject), JSON.stringify({ boot, n }), {}).then(ignore, ignore);
    if (js.outboxStatus().published > before) trace(`accepted ${boot} ${n++}\n`);
  }, Number(config.interval ?? 10));
}
