// The file-backed JetStream outbox (nats-xs/outbox-file) on the XS engine under the ESP32 budget,
// nats-xs, nats-xs/jetstream and nats-xs/outbox-file preloaded. Run twice by
// test/xs-outbox-file.test.ts with the same NATS_XS_DEVICE_DIR (the device's files kept):
//
//   phase=fill    connected                <- the test stops the server
//                 accepted <n>                n readings accepted while the server is away
//                 memory {...}                heap with them pending (stage "pending")
//                 (exits: the power goes)
//   phase=drain   restored <n> corrupt=0      the next boot found them in the file
//                 memory {...}                heap before and after jetstream() restored them
//                 drained acked=<n> failed=0  all sent (with their Nats-Msg-Id) and acked
//                 done
import config from "mc/config";
import { memory } from "xs:memory";
import { exit } from "xs:host";
import { fail, say, until, watchdog } from "./report.mjs";
import { connect } from "nats-xs";
import { jetstream } from "nats-xs/jetstream";
import { fileStore } from "nats-xs/outbox-file";
import files from "embedded:storage/files";

const N = config.count ?? 50;
const dog = watchdog(config.timeout ?? 25000);

function stage(name) {
  say(`memory ${JSON.stringify(Object.assign({ stage: name }, memory()))}`);
}

/** The SDK semantics the journal relies on, on the XS host's embedded:storage/files. */
function checkFiles() {
  const refused = (what, f, text) => {
    try {
      f();
    } catch (e) {
      if (!String(e?.message).includes(text)) fail(`${what}: ${e?.message}`);
      return;
    }
    fail(`${what}: not refused`);
  };
  for (const p of ["/etc/passwd", "../x", "a/../../x", "./a", "a//b", "a/", ".."]) refused(`path ${p}`, () => files.openFile({ path: p, mode: "w" }), "bad path");
  refused("missing file", () => files.openFile({ path: "missing" }), "No such file");
  refused("mode", () => files.openFile({ path: "x", mode: "a" }), "invalid mode");
  const f = files.openFile({ path: "probe", mode: "w+" });
  f.write(Uint8Array.of(1, 2, 3, 4), 0);
  f.write(Uint8Array.of(9).buffer, 6);
  const all = new Uint8Array(f.read(10, 0));
  if (all.join() !== "1,2,3,4,0,0,9") fail(`read back ${all.join()}`);
  const into = new Uint8Array(3);
  if (f.read(into, 2) !== 3 || into.join() !== "3,4,0") fail(`read into ${into.join()}`);
  f.setSize(2);
  f.flush();
  if (f.status().size !== 2 || !f.status().isFile()) fail("setSize");
  f.close();
  refused("closed file", () => f.read(1, 0), "closed");
  files.openFile({ path: "other", mode: "w" }).close();
  files.move("probe", "other");
  if (files.status("probe").mode !== 0 || files.status("other").size !== 2) fail("move");
  if (files.delete("other") !== true || files.delete("other") !== false) fail("delete");
  if (files.createDirectory("d") !== true || files.createDirectory("d") !== false || !files.status("d").isDirectory()) fail("createDirectory");
  files.delete("d");
  say("files ok");
}

async function fill() {
  checkFiles();
  const nc = await connect({ servers: config.server, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  const js = jetstream(nc, { outboxStore: fileStore(files, "outbox", { maxBytes: 16384 }), outboxBytes: 64 * 640 });
  stage("base");
  say("connected");
  await until(() => nc.getServer() === "", 15000, "the server to go away", 20);
  let accepted = 0;
  const ignore = () => {};
  for (let i = 0; i < N; i++) {
    const before = js.outboxStatus().published;
    js.publish(config.subject, `{"reading":${i},"celsius":21.5}`, { msgID: `xs-${i}` }).then(ignore, ignore);
    if (js.outboxStatus().published > before) accepted++;
  }
  say(`accepted ${accepted}`);
  stage("pending");
  exit(0); // the power goes: nothing is closed
}

async function drain() {
  const nc = await connect({ servers: config.server, reconnectTimeWait: 100, reconnectJitter: 0, maxReconnectAttempts: -1 });
  // what the journal's index of N entries costs alone (kept while measuring)
  const probe = fileStore(files, "outbox", { maxBytes: 16384 });
  stage("probe");
  const keys = probe.open();
  stage("probed");
  probe.close();
  say(`probe keys=${keys.length}`);
  const store = fileStore(files, "outbox", { maxBytes: 16384 });
  stage("before");
  const js = jetstream(nc, { outboxStore: store, outboxBytes: 64 * 640 });
  const s = js.outboxStatus();
  say(`restored ${s.restored} corrupt=${s.corrupt}`);
  stage("restored");
  await js.outboxIdle();
  const d = js.outboxStatus();
  say(`drained acked=${d.acked} failed=${d.failed} duplicates=${d.duplicates}`);
  say(`file bytes=${store.status().bytes}`);
  stage("drained");
  await nc.close();
}

(config.phase === "fill" ? fill() : drain()).then(
  () => {
    Timer.clear(dog);
    say("done");
  },
  (e) => fail(`${e?.name}: ${e?.message}`),
);
import Timer from "timer";
