// The shared parser suite (test/shared/parser-suite.mjs), run unchanged on the XS engine against
// the built library: fixtures whole, byte by byte and at every split point, then the fixed-seed
// fuzz. Prints one line per part: `fixtures {json}` and `fuzz {json}` with passed/failed/failures.
//
//   npm run xs -- test/xs/parser.mjs [--preload nats-xs] [seed=N] [rounds=N] [part=fixtures|fuzz|all]
import config from "mc/config";
import TextDecoder from "text/decoder";
import { Delivery, Parser } from "nats-xs";
import { runFixtures, runFuzz } from "../shared/parser-suite.mjs";

const part = config.part ?? "all";
const decoder = new TextDecoder();
if (part === "all" || part === "fixtures") {
  trace(`fixtures ${JSON.stringify(runFixtures(Parser, Delivery, decoder))}\n`);
}
if (part === "all" || part === "fuzz") {
  const seed = config.seed ?? 20261122;
  const rounds = config.rounds ?? 400;
  trace(`fuzz ${JSON.stringify(runFuzz(Parser, Delivery, decoder, seed, rounds))}\n`);
}
