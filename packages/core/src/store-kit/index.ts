/**
 * What every store implementation shares: the rules a new task, session, state value or dead
 * letter must follow, the defaults applied, and strict JSON checks. Stores call these and only
 * map the results to their rows, so every store accepts and refuses the same input.
 */
export {
  checkDeadLetterQuery,
  checkSettleStatus,
  cutUtf8,
  DEAD_LETTER_STATUSES,
  type PreparedDeadLetter,
  prepareDeadLetter,
} from './dead-letter.js';
export {
  completeAndClaimIn,
  completeManyIn,
  completeTurnAndClaimIn,
  enqueueManyInto,
  recordTurnIn,
} from './fast-paths.js';
export {
  forwardingStoreParts,
  type OptionalTaskStoreMethod,
  type StoreParts,
} from './forwarding.js';
export { canonicalJson, parseJson, toJsonText } from './json-text.js';
export {
  atTaskIndex,
  checkTaskTime,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_TASK_PRIORITY,
  DEFAULT_TASK_TYPE,
  MAX_RUN_AT,
  type NewTaskJson,
  newTaskJson,
  prepareAnswer,
  prepareNewTask,
  TASK_DESCRIPTION_MAX,
} from './new-task.js';
export { type ExportSources, exportRecordsThrough, renumberHistory } from './records.js';
export {
  checkHistoryEntry,
  checkHistoryLimit,
  DEFAULT_IDLE_TIMEOUT_MS,
  type PreparedSession,
  type PreparedSessionPatch,
  prepareNewSession,
  prepareSessionPatch,
  unknownSession,
} from './session-rules.js';
export { checkStateName, stateExpiresAt, stateValueText } from './state-rules.js';
export {
  DEFAULT_TASK_PAGE_LIMIT,
  MAX_TASK_PAGE_LIMIT,
  MAX_TASK_TEXT_FILTER,
  type PreparedTaskPageQuery,
  pageTasksIn,
  prepareTaskPageQuery,
  TASK_PAGE_SCAN_LIMIT,
  taskMatchesText,
} from './task-page.js';
export {
  checkClaimLimit,
  checkClaimOwner,
  notHoldable,
  notReleasable,
  type PrunePlan,
  preparePrune,
  recoveryError,
  resultOwesReply,
  taskErrorText,
  taskResultText,
} from './task-rules.js';
export { addToTaskStats, emptyTaskStats, taskStatsOf } from './task-stats.js';
