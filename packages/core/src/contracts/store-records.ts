import type { JsonValue } from './json.js';
import type { HistoryEntry, Session } from './session.js';
import type { DeadLetter, Task } from './task.js';

/**
 * A task as `agentd store copy` moves it: every field, and the reply it still owes (the outbox
 * row), if any.
 */
export interface TaskRecord {
  readonly kind: 'task';
  readonly task: Task;
  /** The reply owed: due at `dueAt` (epoch ms), after `attempts` delivery attempts; null: none. */
  readonly reply: { dueAt: number; attempts: number } | null;
}

/** A session with its whole history, oldest entry first. */
export interface SessionRecord {
  readonly kind: 'session';
  readonly session: Session;
  readonly history: readonly HistoryEntry[];
}

/** One plugin state value (schedule progress, the Telegram offset, cooldowns). */
export interface StateRecord {
  readonly kind: 'state';
  readonly namespace: string;
  readonly key: string;
  readonly value: JsonValue;
  /** Epoch ms after which the value is forgotten; null: kept. */
  readonly expiresAt: number | null;
}

/** A dead letter, whatever its status. */
export interface DeadLetterRecord {
  readonly kind: 'deadLetter';
  readonly letter: DeadLetter;
}

/**
 * One record of a store, as {@link StoreRecords.exportRecords} gives it and
 * {@link StoreRecords.importRecords} takes it. Stores export tasks first (oldest first), then
 * dead letters, sessions and state, so session history can refer to tasks already imported.
 *
 * @example
 * ```ts
 * const record: StoreRecord = { kind: 'state', namespace: 'scheduler', key: 'daily', value: 1, expiresAt: null };
 * ```
 */
export type StoreRecord = TaskRecord | SessionRecord | StateRecord | DeadLetterRecord;

/** The kinds of {@link StoreRecord}, in export order. */
export const STORE_RECORD_KINDS = ['task', 'deadLetter', 'session', 'state'] as const;

/** What {@link StoreRecords.importRecords} did with a batch. */
export interface ImportReport {
  /**
   * The id each imported task got, by the id it had (stores number tasks themselves, so ids
   * change in a copy). Copy rewrites the task ids in session history with it.
   */
  readonly taskIds: ReadonlyMap<string, string>;
}

/**
 * What a store offers to be copied into another (`agentd store copy`): every record out, in
 * batches, and records in, as they were (statuses, attempts, results, run-at, keys, leases,
 * owed replies), unlike `enqueue`, which makes new pending tasks. Optional on a {@link Store};
 * the copy refuses a store without it, naming it.
 *
 * @example
 * ```ts
 * for await (const batch of source.exportRecords({ batchSize: 500 })) {
 *   await target.importRecords(batch);
 * }
 * ```
 */
export interface StoreRecords {
  /** Every record, in batches of at most `batchSize` (default 500), tasks first. */
  exportRecords(options?: { batchSize?: number }): AsyncIterable<StoreRecord[]>;
  /**
   * Stores the records in one transaction, as they are, with new task and dead-letter ids. A
   * task whose idempotency key is taken, a session whose id exists, and a state key that is set
   * are left as they are (a second copy adds nothing twice).
   */
  importRecords(records: readonly StoreRecord[]): Promise<ImportReport>;
}
