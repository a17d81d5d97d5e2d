/**
 * @module @agentd/core/store
 * For store authors: the store contracts' full data model (claims, leases, recovery, replies owed,
 * dead letters, sessions, backups), the task constants, and the store kit: the rules every store
 * applies to a new task, answer, session, state value or dead letter, so a store only maps the
 * prepared values to its rows. Pair it with the contract suites in `@agentd/core/testing`.
 */

export type {
  HistoryEntry,
  NewSession,
  Session,
  SessionPatch,
  SessionStatus,
  SessionTurn,
} from '../contracts/session.js';
export type { StateSetOptions } from '../contracts/state.js';
export type { StoreBackup, StoreOpenMode } from '../contracts/store.js';
export { StoreOpenModeToken } from '../contracts/store.js';
export type {
  DeadLetterRecord,
  ImportReport,
  SessionRecord,
  StateRecord,
  StoreRecord,
  StoreRecords,
  TaskRecord,
} from '../contracts/store-records.js';
export { STORE_RECORD_KINDS } from '../contracts/store-records.js';
export type {
  ClaimRequest,
  DeadLetter,
  DeadLetterStatus,
  FailOptions,
  LeaseInfo,
  NewAnswer,
  NewDeadLetter,
  OwedReply,
  RecoverOptions,
  RecoveryReport,
  ReplyOutcome,
  TaskError,
  TaskPage,
  TaskPageQuery,
  TaskQuery,
  TaskStats,
} from '../contracts/task.js';
export {
  DEAD_LETTER_RAW_LIMIT,
  MAX_TASK_ATTEMPTS,
  REPLY_HOLD_MS,
  TASK_STATUSES,
  TaskPriorities,
} from '../contracts/task.js';
export * from '../store-kit/index.js';
