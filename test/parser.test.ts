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

  test("a literal subscription's subject is reused only when the MSG carries exactly it (JetStream push deliveries carry their own)", () => {
    const subjects: string[] = [];
    const p = new Parser(
      {
        onInfo() {},
        onPing() {},
        onPong() {},
        onOk() {},
        onErr() {},
        literalSubject: () => "_INBOX.abc",
        onMsgHead: (subject: string) => {
          subjects.push(subject);
          return Delivery.Whole;
        },
        onMsg() {},
        onChunk() {},
        onProtocolError() {},
      },
      decoder,
      64,
    );
    const chunk = new TextEncoder().encode("MSG _INBOX.abc 1 1\r\na\r\nMSG $KV.b.key 1 1\r\nb\r\nMSG _INBOX.abd 1 1\r\nc\r\n");
    p.parse(chunk, 0, chunk.length);
    expect(subjects).toEqual(["_INBOX.abc", "$KV.b.key", "_INBOX.abd"]);
  });
});
