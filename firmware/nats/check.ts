/**
 * Option names checked against what nats-xs honours: an option a nats.js user passes and nats-xs
 * does not have is refused with what to do instead, and an unknown name (a typo) is refused too,
 * rather than silently ignored.
 */
import { InvalidArgumentError } from "./errors.js";

/** Names nats.js has and nats-xs does not honour, each with what to do instead. */
export type Refusals = Readonly<Record<string, string>>;

const NONE: Refusals = Object.freeze({});

/**
 * Throws InvalidArgumentError for the first own key of `options` that is not in `known` (a frozen
 * list of honoured names), saying what to do instead for the names in `refused`. `what` names the
 * call ("connect()", "subscribe()"...). The layers above the core (bridge, KV) check with it too.
 */
export function checkNames(options: object, known: readonly string[], what: string, refused: Refusals = NONE): void {
  for (const key in options) {
    if (!Object.prototype.hasOwnProperty.call(options, key) || known.indexOf(key) >= 0) continue;
    // a name given as undefined is as good as absent (spread defaults do that)
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    const why = Object.prototype.hasOwnProperty.call(refused, key) ? refused[key] : undefined;
    if (why !== undefined) throw new InvalidArgumentError(`${what}: nats-xs does not support the nats.js option ${key}: ${why}`);
    throw new InvalidArgumentError(`${what}: unknown option ${key}; the options are ${known.join(", ")}`);
  }
}
