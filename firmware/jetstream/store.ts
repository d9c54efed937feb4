/**
 * The interface between the outbox and a persistent store of its entries (the `outboxStore` option
 * of jetstream()). nats-xs/jetstream knows only this interface; `fileStore()` of
 * nats-xs/outbox-file implements it over the device's files, so an app without storage carries no
 * file code.
 */
import type { MsgHdrs } from "nats-xs";

/** One entry read back from a store, to be sent. */
export interface OutboxRecord {
  subject: string;
  /** The headers, Nats-Msg-Id included. */
  headers: MsgHdrs;
  data: Uint8Array;
}

/** Counters of a store. */
export interface OutboxStoreStatus {
  /** Entries held (not yet removed). */
  entries: number;
  /** Bytes the store uses, and its bound. */
  bytes: number;
  maxBytes: number;
  /** Entries found when the store was opened. */
  restored: number;
  /** Damaged records found when opened: the replay stopped at the first (see `error`). */
  corrupt: number;
  /** Bytes discarded when opened: a record torn by a power loss, or everything after a damaged one. */
  discarded: number;
  /** Compactions since opened. */
  compactions: number;
  /** What was wrong with the first damaged record, if any. */
  error?: string;
}

/**
 * Where the outbox keeps its entries so that they outlive a reboot. Every method is
 * synchronous: when `add` returns, the entry survives a power loss.
 */
export interface OutboxStore {
  /** Opens the store (once per jetstream() context); returns the keys of the entries it holds
   *  from before, in publish order. */
  open(): ArrayLike<number>;
  /** Writes an entry durably; its key, or -1 when the store has no room for it. The headers are
   *  a MsgHdrs, or only the Nats-Msg-Id. */
  add(subject: string, headers: MsgHdrs | string, data: Uint8Array | string | undefined): number;
  /** Reads an entry back. Throws when it cannot be read. */
  read(key: number): OutboxRecord;
  /** The entry is settled (acked, or failed for good): it is not restored again. */
  remove(key: number): void;
  status(): OutboxStoreStatus;
  /** Releases the store; what it holds stays for the next open. */
  close(): void;
}
