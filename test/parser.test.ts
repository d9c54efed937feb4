import { describe, expect, test } from "vitest";
import { Delivery, Parser } from "nats-xs";
// @ts-expect-error plain ES module shared with the XS suite
import { FIXTURES, runFixtures, runFuzz } from "./shared/parser-suite.mjs";

const decoder = new TextDecoder();

describe("parser", () => {
  test("every fixture parses the same whole, byte by byte and split at every point", () => {
    const r = runFixtures(Parser, Delivery, decoder);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBeGreaterThan(FIXTURES.length * 3);
  });

  test("random frame streams cut at random points parse exactly (fixed seed)", () => {
    const r = runFuzz(Parser, Delivery, decoder, 20261122, 400);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(400);
  });

  test("a whole frame in one chunk is handed out as a view of that chunk, not a copy", () => {
    const chunk = new TextEncoder().encode("MSG a 1 5\r\nhello\r\n");
    let seen: Uint8Array | null = null;
    const p = new Parser(
      {
        onInfo() {},
        onPing() {},
        onPong() {},
        onOk() {},
        onErr() {},
        onMsgHead: () => Delivery.Whole,
        onMsg: (_h: Uint8Array | null, d: Uint8Array) => {
          seen = d;
        },
        onChunk() {},
        onProtocolError() {},
      },
      decoder,
      64,
    );
    p.parse(chunk, 0, chunk.length);
    expect(seen!.buffer).toBe(chunk.buffer);
    expect(p.scratchBytes).toBe(0);
  });
});
