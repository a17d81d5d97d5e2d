import {
  type Address,
  AgentdError,
  type EnqueueResult,
  type JsonObject,
  type JsonValue,
  type NewTask,
  type Task,
  type TaskPriority,
  type TaskStatus,
  type TaskStore,
} from '@agentd/core';
import {
  type ClaimRequest,
  checkClaimLimit,
  checkClaimOwner,
  checkHistoryEntry,
  checkTaskTime,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type DeadLetter,
  type DeadLetterStatus,
  type FailOptions,
  type LeaseInfo,
  type NewAnswer,
  type NewDeadLetter,
  notHoldable,
  notReleasable,
  type OwedReply,
  parseJson,
  prepareAnswer,
  preparePrune,
  REPLY_HOLD_MS,
  type RecoverOptions,
  type RecoveryReport,
  type ReplyOutcome,
  resultOwesReply,
  type SessionTurn,
  TASK_STATUSES,
  type TaskError,
  type TaskPage,
  type TaskPageQuery,
  type TaskQuery,
  type TaskStats,
  taskErrorText,
  taskResultText,
  toJsonText,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteDeadLetters } from './dead-letters.js';
import { StoreFaults } from './faults.js';
import { counted, OpenTaskTally } from './open-task-tally.js';
import { queryBuilder, StatementCache, type TaskRow } from './schema.js';
import { prepareTurnWrite } from './session-turn.js';
import type { SharedCommits } from './shared-commits.js';
import { TASK_ID_PREFIX_KEY, TaskIds } from './task-ids.js';
import { TaskInserter } from './task-insert.js';
import { pageSqliteTasks } from './task-page.js';
import { ADD_TO_TASK_COUNT_SQL, countKey, MoveTaskCount, SqliteTaskStats } from './task-stats.js';

/** A completion and its claim (and session turn), as the store writes them in one transaction. */
interface Completion {
  seq: number | undefined;
  owner: string;
  text: string | null;
  turn: SessionTurn | undefined;
  claim: ClaimRequest;
}

interface QueuedCompletion {
  item: Completion;
  resolve: (done: { completed: boolean; claimed: Task[] }) => void;
  reject: (error: unknown) => void;
}

/**
 * Options of {@link SqliteTaskStore}.
 *
 * @example
 * ```ts
 * new SqliteTaskStore(db, { maxPayloadBytes: 256 * 1024 });
 * ```
 */
export interface TaskStoreOptions {
  /** Largest accepted `input` plus `metadata`, as UTF-8 JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /**
   * Where failures are recorded for the store's health check, and how long a call waits for
   * another process's write lock (default: its own, with a 5000 ms budget).
   */
  faults?: StoreFaults;
  /**
   * Where a settled reply's record is queued to share a commit with others of the same turn
   * (default: none, each commits alone).
   */
  commits?: SharedCommits;
}

const DEFAULT_LIST_LIMIT = 100;
/**
 * The columns every task read selects, in this order. Reads fetch rows as arrays (better-sqlite3's
 * `raw()`), which costs about half of building a 21-key object per row on the claim path.
 */
const TASK_COLUMNS = [
  'seq',
  'status',
  'priority',
  'run_at',
  'session_key',
  'idempotency_key',
  'type',
  'agent',
  'description',
  'input',
  'attempts',
  'max_attempts',
  'created_at',
  'started_at',
  'finished_at',
  'result',
  'error',
  'reply_to',
  'metadata',
  'lease_owner',
  'lease_expires_at',
] as const satisfies readonly (keyof TaskRow)[];
const COLUMNS_SQL = TASK_COLUMNS.join(', ');
const column = Object.fromEntries(TASK_COLUMNS.map((name, i) => [name, i])) as {
  [K in (typeof TASK_COLUMNS)[number]]: number;
};
/** A `tasks` row as better-sqlite3 returns it in raw mode: values in {@link TASK_COLUMNS} order. */
type TaskValues = unknown[];
/** A task's status and priority, read before a write whose effect depends on them. */
type StatusRow = { status: TaskStatus; priority: number };
/** A task whose lease was recovered, and where it went. */
type RecoveredRow = { seq: number; status: TaskStatus; priority: number };

function toTask(v: TaskValues, ids: TaskIds): Task {
  const text = (i: number) => v[i] as string;
  const json = <T>(i: number) => (v[i] === null ? null : parseJson<T>(text(i)));
  return {
    id: ids.format(v[column.seq] as number),
    input: parseJson(text(column.input)),
    description: text(column.description),
    type: text(column.type),
    agent: v[column.agent] as string | null,
    priority: v[column.priority] as TaskPriority,
    status: v[column.status] as TaskStatus,
    attempts: v[column.attempts] as number,
    maxAttempts: v[column.max_attempts] as number,
    createdAt: v[column.created_at] as number,
    runAt: v[column.run_at] as number,
    startedAt: v[column.started_at] as number | null,
    finishedAt: v[column.finished_at] as number | null,
    result: json<JsonValue>(column.result),
    error: json<TaskError>(column.error),
    idempotencyKey: v[column.idempotency_key] as string | null,
    sessionKey: v[column.session_key] as string | null,
    replyTo: json<Address>(column.reply_to),
    metadata: parseJson<JsonObject>(text(column.metadata)),
    leaseOwner: v[column.lease_owner] as string | null,
    leaseExpiresAt: v[column.lease_expires_at] as number | null,
  };
}

/** The columns that hold JSON text, which a damaged or hand-edited row may hold unreadable. */
const JSON_COLUMNS = ['input', 'metadata', 'result', 'error', 'reply_to'] as const;

function parses(text: unknown): boolean {
  try {
    parseJson(text as string);
    return true;
  } catch {
    return false;
  }
}

/** The JSON columns of a row that do not hold readable JSON. */
function unreadableColumns(v: TaskValues): (typeof JSON_COLUMNS)[number][] {
  return JSON_COLUMNS.filter((c) => v[column[c]] !== null && !parses(v[column[c]]));
}

/**
 * A task for reading (get, list, replies) even when a column of its row holds unreadable JSON:
 * such a column reads as null (`metadata` as `{}`), and the row stays as it is in the file. A
 * claim never runs such a task: it ends it failed instead (see `#failUnreadable`).
 */
function readableTask(v: TaskValues, ids: TaskIds): Task {
  try {
    return toTask(v, ids);
  } catch (error) {
    const bad = unreadableColumns(v);
    if (bad.length === 0) throw error;
    const copy = [...v];
    for (const c of bad) copy[column[c]] = c === 'metadata' ? '{}' : 'null';
    return toTask(copy, ids);
  }
}

// The runnable tasks, best first. A task of a session is claimable only when no task of that
// session runs and no earlier one is waiting to run. An earlier task blocks it once it is due,
// or if it already started once (a retry keeps its place); a task scheduled for later that
// never started does not, so a reminder set for next week cannot stall the session's messages
// until then. `priority IN (...)` lets SQLite walk tasks_open per priority in index order,
// skipping tasks scheduled for later instead of scanning them, and running tasks by the status
// in the index; INDEXED BY pins that plan whatever statistics ANALYZE gathers. SQLite uses a
// partial index only when the query implies its WHERE clause, hence the repeated conditions.
const CLAIMABLE_SQL = `
  SELECT ${TASK_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM tasks t INDEXED BY tasks_open
  WHERE (t.status = 'pending' OR t.status = 'running') AND t.status = 'pending'
    AND t.priority IN (0, 1, 2, 3) AND t.run_at <= @now
    AND (t.session_key IS NULL OR (
      NOT EXISTS (
        SELECT 1 FROM tasks r
        WHERE r.session_key = t.session_key AND r.status IN ('pending', 'running')
          AND r.status = 'running'
      )
      AND NOT EXISTS (
        SELECT 1 FROM tasks o
        WHERE o.session_key = t.session_key AND o.status IN ('pending', 'running')
          AND o.status = 'pending' AND o.seq < t.seq AND (o.run_at <= @now OR o.attempts > 0)
      )
    ))
  ORDER BY t.priority, t.run_at, t.seq`;

// The limit is written into the SQL, not bound: with a bound LIMIT, SQLite's plan for this
// query runs about nine times slower (measured: 37 µs against 4 µs for one row).
const limitTo = (sql: string) => (limit: number) => ({ sql: `${sql} LIMIT ${limit}`, raw: true });
// A claim's limit varies with the runner's free slots, and preparing the claim query costs as
// much as a hundred claims: statements are prepared per power of two (the bucket) and read only
// as many rows as asked.
const bucketOf = (limit: number) => 2 ** Math.ceil(Math.log2(limit));

// Claims read the runnable rows, then mark them running, inside one IMMEDIATE transaction (so
// no other process can claim in between). Cheaper than one UPDATE ... RETURNING *: SQLite
// buffers RETURNING rows in a temporary table, which cost more than the update itself. Several
// rows are marked by one statement (`seq IN (...)`, about half the cost of one statement per
// row). Hot statements bind by position: binding by name cost about a fifth of the update.
const MARK_RUNNING_SQL = `UPDATE tasks SET status = 'running', attempts = attempts + 1,
    started_at = ?, lease_owner = ?, lease_expires_at = ?`;
// Rows per marking statement: SQLite takes at most 32,766 parameters in one.
const MARK_RUNNING_MAX = 1024;
const markRunningIn = (limit: number) => ({
  sql: `${MARK_RUNNING_SQL} WHERE seq IN (${'?, '.repeat(limit - 1)}?)`,
  raw: false,
});

// The outbox: the statement that ends a task with something to tell (a result other than null
// or "", or a failure for good) is followed, in the same transaction, by this one, which records
// the reply if the task has a reply_to. Completions without a result skip it entirely.
const OWE_REPLY_SQL = `
  INSERT OR IGNORE INTO task_replies (seq, due_at)
  SELECT seq, ? FROM tasks WHERE seq = ? AND reply_to IS NOT NULL`;

const COMPLETE_SQL = `
  UPDATE tasks SET status = 'completed', finished_at = ?, result = ?, lease_owner = NULL,
    lease_expires_at = NULL
  WHERE seq = ? AND status = 'running' AND lease_owner = ?`;

const FAIL_SQL = `
  UPDATE tasks SET
    status = CASE WHEN @retryAt IS NOT NULL AND attempts < max_attempts THEN 'pending' ELSE 'failed' END,
    run_at = CASE WHEN @retryAt IS NOT NULL AND attempts < max_attempts THEN @retryAt ELSE run_at END,
    finished_at = CASE WHEN @retryAt IS NOT NULL AND attempts < max_attempts THEN NULL ELSE @now END,
    error = @error, lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
  WHERE seq = @seq AND status = 'running' AND lease_owner = @owner
  RETURNING ${COLUMNS_SQL}`;

// Running tasks are found through tasks_open (see migration 0004): a walk over the open tasks'
// entries, reading status from the index. recoverExpired first looks with a plain read, which
// takes no write lock, and writes only when a lease did expire. The attempt was counted by the
// claim, so a requeued task simply waits for its next claim. @owners (a JSON array) names
// runners known to be gone, whose leases are recovered before they expire.
const ANY_EXPIRED_SQL = `
  SELECT 1 FROM tasks INDEXED BY tasks_open
  WHERE (status = 'pending' OR status = 'running') AND status = 'running'
    AND lease_expires_at <= ?
  LIMIT 1`;
const RECOVER_SQL = `
  UPDATE tasks INDEXED BY tasks_open SET
    status = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE @now END,
    error = CASE WHEN lease_expires_at <= @now
      THEN json_object('name', 'LeaseExpired', 'message',
        'the lease of ' || coalesce(lease_owner, '?') || ' expired before the task finished (runner crashed or stalled)')
      ELSE json_object('name', 'RunnerGone', 'message',
        'the process holding the lease (' || lease_owner || ') is gone (killed or crashed) and the task did not finish')
      END,
    lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
  WHERE (status = 'pending' OR status = 'running') AND status = 'running'
    AND (lease_expires_at <= @now OR lease_owner IN (SELECT value FROM json_each(@owners)))
  RETURNING seq, status, priority`;
// Every running task's lease: a few rows per runner, read once per recovery tick.
const LEASES_SQL = `
  SELECT seq, lease_owner, lease_expires_at, lease_process FROM tasks INDEXED BY tasks_open
  WHERE (status = 'pending' OR status = 'running') AND status = 'running'
  ORDER BY lease_expires_at`;

// Replies due, oldest due first; claimReplies then holds each for the caller's lease.
const OWED_REPLIES_SQL = `
  SELECT ${TASK_COLUMNS.map((c) => `t.${c}`).join(', ')}, r.attempts
  FROM task_replies r INDEXED BY task_replies_due JOIN tasks t ON t.seq = r.seq
  WHERE r.due_at <= @now
  ORDER BY r.due_at`;
const CLAIMABLE_BY_LIMIT = limitTo(CLAIMABLE_SQL);
const OWED_REPLIES_BY_LIMIT = limitTo(OWED_REPLIES_SQL);

// One index seek per priority instead of a scan of every pending task.
const NEXT_RUN_SQL = `
  SELECT min(v) AS next FROM (
    SELECT (SELECT min(run_at) FROM tasks WHERE status = 'pending' AND priority = 0 AND run_at > @now) AS v
    UNION ALL SELECT (SELECT min(run_at) FROM tasks WHERE status = 'pending' AND priority = 1 AND run_at > @now)
    UNION ALL SELECT (SELECT min(run_at) FROM tasks WHERE status = 'pending' AND priority = 2 AND run_at > @now)
    UNION ALL SELECT (SELECT min(run_at) FROM tasks WHERE status = 'pending' AND priority = 3 AND run_at > @now)
  )`;

/**
 * The SQLite {@link TaskStore}. The hot path (enqueue, claim, renew, complete, fail) runs
 * statements prepared once; every change is a single statement or an IMMEDIATE transaction,
 * so processes sharing the file queue on the write lock instead of failing with SQLITE_BUSY.
 * Usually reached through {@link openSqliteStore}.
 *
 * @example
 * ```ts
 * const tasks = new SqliteTaskStore(openDatabase({ path: 'agentd.db' }));
 * const { task } = await tasks.enqueue({ input: 'hello' }, Date.now());
 * const [claimed] = await tasks.claim({ owner: 'me', leaseMs: 30_000, now: Date.now() });
 * await tasks.complete(claimed!.id, 'me', 'done', Date.now());
 * ```
 */
export class SqliteTaskStore implements TaskStore {
  readonly #ids: TaskIds;
  readonly #queries: StatementCache;
  readonly #inserter: TaskInserter;
  readonly #bySeq: BetterSqlite3.Statement;
  readonly #byIdempotencyKey: BetterSqlite3.Statement;
  readonly #db: BetterSqlite3.Database;
  readonly #faults: StoreFaults;
  readonly #failUnreadable: BetterSqlite3.Statement;
  /** Claim and owed-reply statements by the bucket of their literal LIMIT (see bucketOf). */
  readonly #claimableByLimit = new Map<number, BetterSqlite3.Statement>();
  readonly #owedRepliesByLimit = new Map<number, BetterSqlite3.Statement>();
  /** Marks claimed rows running: one row, or several (by bucket, see bucketOf). */
  readonly #markRunning: BetterSqlite3.Statement;
  readonly #markRunningByLimit = new Map<number, BetterSqlite3.Statement>();
  /**
   * The connection's open-task figures, which every write below tells what it did to pending and
   * running tasks (see OpenTaskTally): the `#...Write` functions run a write counted by it.
   */
  readonly #tally: OpenTaskTally;
  /** Moves `task_counts` for the writes that take a task out of the hot statuses or back. */
  readonly #moveCount: MoveTaskCount;
  readonly #enqueueWrite: (task: NewTask, now: number) => EnqueueResult;
  readonly #enqueueManyWrite: (tasks: readonly NewTask[], now: number) => EnqueueResult[];
  readonly #claimWrite: (request: ClaimRequest) => Task[];
  readonly #renewWrite: (at: number, seq: number, owner: string) => BetterSqlite3.RunResult;
  readonly #complete: BetterSqlite3.Statement;
  readonly #oweReply: BetterSqlite3.Statement;
  readonly #holdReply: BetterSqlite3.Statement;
  readonly #completeOne: BetterSqlite3.Transaction<
    (seq: number, owner: string, result: string | null, now: number) => boolean
  >;
  readonly #completeWrite: (
    seq: number,
    owner: string,
    result: string | null,
    now: number,
  ) => boolean;
  readonly #failWrite: (params: Record<string, unknown>) => TaskValues | undefined;
  readonly #recoverWrite: (now: number, owners: string) => RecoveredRow[];
  readonly #recordProcessWrite: (
    text: string,
    seq: number,
    owner: string,
  ) => BetterSqlite3.RunResult;
  readonly #leases: BetterSqlite3.Statement;
  readonly #retryReply: BetterSqlite3.Statement;
  readonly #settleReply: BetterSqlite3.Statement;
  readonly #commits: SharedCommits | undefined;
  readonly #claimRepliesWrite: (now: number, leaseMs: number, limit: number) => OwedReply[];
  readonly #replyWrite: (statement: BetterSqlite3.Statement, params: unknown) => unknown;
  readonly #fail: BetterSqlite3.Statement;
  readonly #cancelWrite: (seq: number, now: number) => Task | undefined;
  readonly #holdWrite: (seq: number) => Task | undefined;
  readonly #releaseWrite: (seq: number) => Task | undefined;
  readonly #pruneWrite: (query: { sql: string; parameters: readonly unknown[] }) => number;
  readonly #recover: BetterSqlite3.Statement;
  readonly #anyExpired: BetterSqlite3.Statement;
  readonly #countReplies: BetterSqlite3.Statement;
  readonly #nextRun: BetterSqlite3.Statement;
  readonly #stats: SqliteTaskStats;
  readonly #finishWrite: (item: Completion) => { completed: boolean; claimed: Task[] };
  readonly #finishAllWrite: (
    items: readonly Completion[],
  ) => { completed: boolean; claimed: Task[] }[];
  /** Completions waiting for the end of the current tick (see #finishSoon). */
  #completions: QueuedCompletion[] = [];
  readonly #completeManyWrite: (
    items: { seq: number; result: string | null }[],
    owner: string,
    now: number,
  ) => number;

  constructor(db: BetterSqlite3.Database, options: TaskStoreOptions = {}) {
    const prefix = db
      .prepare('SELECT value FROM meta WHERE key = ?')
      .pluck()
      .get(TASK_ID_PREFIX_KEY);
    if (typeof prefix !== 'string') {
      throw new AgentdError('E_STORE', 'the database has no task id prefix; was it migrated?');
    }
    this.#ids = new TaskIds(prefix);
    this.#faults = options.faults ?? new StoreFaults(db, 5000);
    this.#commits = options.commits;
    this.#failUnreadable = db.prepare(
      `UPDATE tasks SET status = 'failed', finished_at = ?, error = ?, lease_owner = NULL,
         lease_expires_at = NULL WHERE seq = ?`,
    );
    this.#queries = new StatementCache(db);
    this.#bySeq = db.prepare(`SELECT ${COLUMNS_SQL} FROM tasks WHERE seq = ?`).raw();
    this.#byIdempotencyKey = db
      .prepare(`SELECT ${COLUMNS_SQL} FROM tasks WHERE idempotency_key = ?`)
      .raw();
    this.#db = db;
    const moveCount = new MoveTaskCount(db);
    this.#moveCount = moveCount;
    const tally = OpenTaskTally.of(db);
    this.#tally = tally;
    this.#inserter = new TaskInserter(
      db,
      this.#ids,
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      (key) => this.#row(this.#byIdempotencyKey, key),
      tally,
    );
    const inserter = this.#inserter;
    this.#enqueueWrite = counted(tally, (task: NewTask, now: number) => inserter.one(task, now));
    this.#enqueueManyWrite = counted(tally, (tasks: readonly NewTask[], now: number) =>
      inserter.many(tasks, now),
    );
    this.#markRunning = db.prepare(`${MARK_RUNNING_SQL} WHERE seq = ?`);
    this.#claimWrite = counted(
      tally,
      db.transaction((request: ClaimRequest) => this.#claimNow(request)).immediate,
    );
    const renew = db.prepare(
      `UPDATE tasks SET lease_expires_at = ? WHERE seq = ? AND status = 'running' AND lease_owner = ?`,
    );
    this.#renewWrite = counted(tally, (at: number, seq: number, owner: string) =>
      renew.run(at, seq, owner),
    );
    this.#complete = db.prepare(COMPLETE_SQL);
    this.#oweReply = db.prepare(OWE_REPLY_SQL);
    this.#holdReply = db.prepare('UPDATE task_replies SET due_at = @dueAt WHERE seq = @seq');
    this.#retryReply = db.prepare(
      'UPDATE task_replies SET due_at = @dueAt, attempts = attempts + 1 WHERE seq = @seq',
    );
    this.#settleReply = db.prepare('DELETE FROM task_replies WHERE seq = ?');
    this.#replyWrite = counted(tally, (statement: BetterSqlite3.Statement, params: unknown) =>
      statement.run(params),
    );
    const claimReplies = db.transaction((now: number, leaseMs: number, limit: number) => {
      const statement = this.#cached(this.#owedRepliesByLimit, limit, OWED_REPLIES_BY_LIMIT);
      const rows = this.#first(statement, limit, { now });
      const dueAt = Math.floor(now + leaseMs);
      const owed: OwedReply[] = [];
      for (const values of rows) {
        const task = this.#toTask(values);
        // A reply_to that cannot be read (a damaged row) has nowhere to go: settled, not retried.
        if (task.replyTo === null) {
          this.#settleReply.run(values[column.seq]);
          continue;
        }
        this.#holdReply.run({ seq: values[column.seq], dueAt });
        owed.push({ task, attempts: values.at(-1) as number });
      }
      return owed;
    });
    this.#claimRepliesWrite = counted(tally, claimReplies.immediate);
    this.#fail = db.prepare(FAIL_SQL).raw();
    // Cancel, hold and release read the task's status first: what they move depends on it.
    const statusOf = db.prepare('SELECT status, priority FROM tasks WHERE seq = ?');
    const cancel = db
      .prepare(
        `UPDATE tasks SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL,
           lease_process = NULL
         WHERE seq = ? AND status IN ('pending', 'held', 'running')
         RETURNING ${COLUMNS_SQL}`,
      )
      .raw();
    // A held task leaves the open-tasks index (claims never see it) and keeps every column but
    // its status; holding a held task (releasing a pending one) matches and changes nothing.
    const hold = db
      .prepare(
        `UPDATE tasks SET status = 'held' WHERE seq = ? AND (status = 'pending' OR status = 'held')
         RETURNING ${COLUMNS_SQL}`,
      )
      .raw();
    const release = db
      .prepare(
        `UPDATE tasks SET status = 'pending' WHERE seq = ? AND (status = 'held' OR status = 'pending')
         RETURNING ${COLUMNS_SQL}`,
      )
      .raw();
    const changeStatus = (
      statement: BetterSqlite3.Statement,
      move: (seq: number, was: StatusRow) => void,
    ) =>
      counted(
        tally,
        db.transaction((seq: number, ...params: unknown[]): Task | undefined => {
          const was = statusOf.get(seq) as StatusRow | undefined;
          const values = statement.get(...params, seq) as TaskValues | undefined;
          if (values && was) {
            move(seq, was);
            moveCount.run(was.status, values[column.status] as string, was.priority);
          }
          return values && this.#toTask(values);
        }).immediate,
      );
    this.#cancelWrite = changeStatus(cancel, (seq, was) => {
      if (was.status === 'pending') tally.withdrawn(was.priority);
      else if (was.status === 'running') tally.stopped(seq, false, was.priority);
    });
    this.#holdWrite = changeStatus(hold, (_seq, was) => {
      if (was.status === 'pending') tally.withdrawn(was.priority);
    });
    this.#releaseWrite = changeStatus(release, (_seq, was) => {
      if (was.status === 'held') tally.added(was.priority);
    });
    // Prune deletes finished tasks only: none of them is open.
    this.#pruneWrite = counted(tally, (query: { sql: string; parameters: readonly unknown[] }) =>
      this.#queries.run(query),
    );
    this.#recover = db.prepare(RECOVER_SQL);
    const recordProcess = db.prepare(
      `UPDATE tasks SET lease_process = ? WHERE seq = ? AND status = 'running' AND lease_owner = ?`,
    );
    this.#recordProcessWrite = counted(tally, (text: string, seq: number, owner: string) =>
      recordProcess.run(text, seq, owner),
    );
    this.#leases = db.prepare(LEASES_SQL);
    this.#anyExpired = db.prepare(ANY_EXPIRED_SQL).pluck();
    this.#countReplies = db.prepare('SELECT count(*) FROM task_replies').pluck();
    this.#nextRun = db.prepare(NEXT_RUN_SQL);
    this.#stats = new SqliteTaskStats(db, tally);
    this.#completeOne = db.transaction(
      (seq: number, owner: string, result: string | null, now: number) =>
        this.#completeNow(seq, owner, result, now),
    );
    // "This one is done, give me the next", with the end of its session run when there is one
    // (which the session store would write in its own transaction, SqliteSessionStore.recordTurn;
    // recorded only with a completion that holds): the runner's hot path.
    const writeTurn = prepareTurnWrite(db);
    const finishNow = (item: Completion): { completed: boolean; claimed: Task[] } => {
      const { seq, turn, claim } = item;
      const completed =
        seq !== undefined && this.#completeNow(seq, item.owner, item.text, claim.now);
      if (completed && turn) writeTurn(turn.sessionId, turn.entries, turn.lastActivityAt);
      return { completed, claimed: this.#claimNow(claim) };
    };
    this.#finishWrite = counted(tally, db.transaction(finishNow).immediate);
    this.#finishAllWrite = counted(
      tally,
      db.transaction((items: readonly Completion[]) => items.map(finishNow)).immediate,
    );
    this.#completeWrite = counted(
      tally,
      (seq: number, owner: string, result: string | null, now: number) =>
        this.#completeNowOrOwe(seq, owner, result, now),
    );
    this.#completeManyWrite = counted(
      tally,
      db.transaction(
        (items: { seq: number; result: string | null }[], owner: string, now: number) => {
          let held = 0;
          for (const item of items) {
            if (this.#completeNow(item.seq, owner, item.result, now)) held++;
          }
          return held;
        },
      ).immediate,
    );
    this.#failWrite = counted(
      tally,
      db.transaction((params: Record<string, unknown>) => {
        const values = this.#fail.get(params) as TaskValues | undefined;
        if (!values) return values;
        const status = values[column.status];
        tally.stopped(
          params.seq as number,
          status === 'pending',
          values[column.priority] as number,
        );
        if (status === 'failed') {
          moveCount.run('running', status, values[column.priority] as number);
          if (values[column.reply_to] !== null) {
            this.#recordOwedReply(params.seq as number, params.now as number);
          }
        }
        return values;
      }).immediate,
    );
    this.#recoverWrite = counted(
      tally,
      db.transaction((now: number, owners: string) => {
        const rows = this.#recover.all({ now, owners }) as RecoveredRow[];
        for (const row of rows) {
          tally.stopped(row.seq, row.status === 'pending', row.priority);
          if (row.status === 'failed') {
            moveCount.run('running', 'failed', row.priority);
            this.#recordOwedReply(row.seq, now);
          }
        }
        return rows;
      }).immediate,
    );
  }

  /** For reads: a row with an unreadable JSON column still reads (see readableTask). */
  #toTask = (values: TaskValues): Task => readableTask(values, this.#ids);
  /** For claims: a row that cannot be read throws, and the claim fails it instead. */
  #toRunnableTask = (values: TaskValues): Task => toTask(values, this.#ids);

  /**
   * Ends claimed rows that cannot be read as failed, naming the column (never its content),
   * and returns the others: one damaged row must not make every claim fail. Runs inside the
   * claim's transaction, after the rows were marked running; the slow path of a claim.
   */
  #runnableOf(rows: TaskValues[], now: number): Task[] {
    const tasks: Task[] = [];
    for (const values of rows) {
      try {
        tasks.push(this.#toRunnableTask(values));
      } catch (error) {
        const bad = unreadableColumns(values);
        const what =
          bad.length > 0
            ? `its ${bad.map((c) => `"${c}"`).join(', ')} column${bad.length > 1 ? 's do' : ' does'} not hold valid JSON`
            : `it could not be read (${error instanceof Error ? error.name : 'error'})`;
        const message = `the stored task cannot be run: ${what}; it was failed instead of run, and what is stored is kept as it was, for inspection`;
        const seq = values[column.seq] as number;
        this.#failUnreadable.run(now, JSON.stringify({ name: 'UnreadableTask', message }), seq);
        this.#tally.stopped(seq, false, values[column.priority] as number);
        // The claim marked it running just before, in this transaction.
        this.#moveCount.run('running', 'failed', values[column.priority] as number);
        // A reply is owed only to an address that can be read.
        if (values[column.reply_to] !== null && !bad.includes('reply_to')) {
          this.#recordOwedReply(seq, now);
        }
      }
    }
    return tasks;
  }

  /** Completes a running task held by `owner`; call inside a transaction (it may owe a reply). */
  #completeNow(seq: number, owner: string, result: string | null, now: number): boolean {
    if (this.#complete.run(now, result, seq, owner).changes !== 1) return false;
    this.#tally.stopped(seq, false);
    if (resultOwesReply(result)) this.#recordOwedReply(seq, now);
    return true;
  }

  /** Records the reply task `seq` owes, if it has a reply_to; call in the ending transaction. */
  #recordOwedReply(seq: number, endedAt: number): void {
    this.#oweReply.run(endedAt + REPLY_HOLD_MS, seq);
  }

  /** Runs a raw-mode statement returning at most one task row. */
  #row(statement: BetterSqlite3.Statement, ...params: unknown[]): Task | undefined {
    const values = statement.get(...params) as TaskValues | undefined;
    return values && this.#toTask(values);
  }

  // Every write below runs its statement at once; only when it fails (another process holds
  // the write lock past the few milliseconds SQLite waits in place, the disk is full, ...) does
  // it go to StoreFaults.retry, which waits for the lock on timers and records store faults for
  // the health check. The path that succeeds allocates and awaits nothing more than before.

  async enqueue(task: NewTask, now: number): Promise<EnqueueResult> {
    try {
      return this.#enqueueWrite(task, now);
    } catch (error) {
      return this.#faults.retry(error, 'tasks.enqueue', undefined, this.#enqueueWrite, task, now);
    }
  }

  async enqueueMany(tasks: readonly NewTask[], now: number): Promise<EnqueueResult[]> {
    try {
      return this.#enqueueManyWrite(tasks, now);
    } catch (error) {
      const write = this.#enqueueManyWrite;
      return this.#faults.retry(error, 'tasks.enqueueMany', undefined, write, tasks, now);
    }
  }

  async claim(request: ClaimRequest): Promise<Task[]> {
    try {
      const claimed = this.#claimWrite(request);
      if (this.#faults.claim !== undefined) this.#faults.claim = undefined;
      return claimed;
    } catch (error) {
      return this.#retryClaim(error, this.#claimWrite, request);
    }
  }

  /** A claim's slow path: waits out a busy lock, and counts claims that keep failing. */
  async #retryClaim<A extends unknown[], T>(
    error: unknown,
    fn: (...args: A) => T,
    ...args: A
  ): Promise<T> {
    try {
      const result = await this.#faults.retry(error, 'tasks.claim', undefined, fn, ...args);
      this.#faults.claim = undefined;
      return result;
    } catch (failed) {
      throw this.#faults.claimFailed(failed);
    }
  }

  /** The statement `sqlFor(bucket)` gives for `limit`'s bucket, prepared once per bucket. */
  #cached(
    cache: Map<number, BetterSqlite3.Statement>,
    limit: number,
    sqlFor: (bucket: number) => { sql: string; raw: boolean },
  ): BetterSqlite3.Statement {
    const bucket = bucketOf(limit);
    let statement = cache.get(bucket);
    if (!statement) {
      const { sql, raw } = sqlFor(bucket);
      statement = this.#db.prepare(sql);
      if (raw) statement.raw();
      cache.set(bucket, statement);
    }
    return statement;
  }

  /** The first `limit` rows of a statement whose LIMIT is `limit`'s bucket. */
  #first(statement: BetterSqlite3.Statement, limit: number, params: object): TaskValues[] {
    if (limit === bucketOf(limit)) return statement.all(params) as TaskValues[];
    const rows: TaskValues[] = [];
    // Leaving the loop early resets the statement: SQLite never reads the rows past `limit`.
    for (const values of statement.iterate(params) as IterableIterator<TaskValues>) {
      rows.push(values);
      if (rows.length === limit) break;
    }
    return rows;
  }

  /** Validates a claim request and claims; call inside an IMMEDIATE transaction. */
  #claimNow(request: ClaimRequest): Task[] {
    const owner = checkClaimOwner(request.owner);
    const limit = checkClaimLimit(request.limit ?? 1, request.leaseMs);
    const now = request.now;
    const expiresAt = Math.floor(now + request.leaseMs);
    const claimable = this.#cached(this.#claimableByLimit, limit, CLAIMABLE_BY_LIMIT);
    const rows = this.#first(claimable, limit, { now });
    if (rows.length === 1) {
      this.#markRunning.run(now, owner, expiresAt, rows[0]?.[column.seq]);
    } else {
      for (let start = 0; start < rows.length; start += MARK_RUNNING_MAX) {
        const seqs = rows.slice(start, start + MARK_RUNNING_MAX).map((v) => v[column.seq]);
        const mark = this.#cached(this.#markRunningByLimit, seqs.length, markRunningIn);
        // The statement has a bucket of slots; repeating a seq in an IN list changes nothing.
        const slots = bucketOf(seqs.length);
        while (seqs.length < slots) seqs.push(seqs[0]);
        mark.run(now, owner, expiresAt, ...seqs);
      }
    }
    for (const values of rows) {
      this.#tally.claimed(values[column.seq] as number, values[column.priority] as number);
      values[column.status] = 'running';
      values[column.attempts] = (values[column.attempts] as number) + 1;
      values[column.started_at] = now;
      values[column.lease_owner] = owner;
      values[column.lease_expires_at] = expiresAt;
    }
    try {
      return rows.map(this.#toRunnableTask);
    } catch {
      return this.#runnableOf(rows, now);
    }
  }

  async completeAndClaim(
    id: string,
    owner: string,
    result: JsonValue | null,
    claim: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }> {
    const text = taskResultText(result);
    return this.#finishSoon({ seq: this.#ids.parse(id), owner, text, turn: undefined, claim });
  }

  async completeTurnAndClaim(
    id: string,
    owner: string,
    result: JsonValue | null,
    turn: SessionTurn,
    claim: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }> {
    const text = taskResultText(result);
    for (const entry of turn.entries) checkHistoryEntry(entry);
    return this.#finishSoon({ seq: this.#ids.parse(id), owner, text, turn, claim });
  }

  /**
   * Queues a completion (and its claim) until the end of the current tick: those made
   * meanwhile, by the runner's other slots finishing in the same promise jobs, are written in
   * one transaction, each as if alone and in the order made (completion, turn, claim, then the
   * next), with one commit. The WAL appends every page a commit changed, and completions of
   * neighbouring tasks change the same pages (the tasks' rows and index leaves, the outbox, the
   * history's end), so they share them. The wait is a `process.nextTick`, not a turn of the
   * event loop: no I/O or timer runs in between. Each call resolves once its transaction has
   * committed; nothing is visible before. A failed shared transaction leaves nothing, and each
   * completion is then written on its own, with the usual retry of a busy lock.
   */
  #finishSoon(item: Completion): Promise<{ completed: boolean; claimed: Task[] }> {
    return new Promise((resolve, reject) => {
      const queue = this.#completions;
      queue.push({ item, resolve, reject });
      if (queue.length === 1) process.nextTick(() => this.#finishQueued());
    });
  }

  /** Writes the completions queued for this tick now, without waiting (the store calls it at close). */
  flushCompletions(): void {
    this.#finishQueued();
  }

  #finishQueued(): void {
    const queued = this.#completions;
    if (queued.length === 0) return;
    this.#completions = [];
    if (queued.length > 1 && this.#db.open && !this.#db.inTransaction) {
      let results: { completed: boolean; claimed: Task[] }[] | undefined;
      try {
        results = this.#finishAllWrite(queued.map((q) => q.item));
      } catch {
        // Rolled back whole: each is written again on its own below, for its own outcome.
      }
      if (results) {
        if (this.#faults.claim !== undefined) this.#faults.claim = undefined;
        for (let i = 0; i < queued.length; i++) queued[i]?.resolve(results[i]!);
        return;
      }
    }
    for (const q of queued) {
      try {
        const done = this.#finish(q.item);
        if (done instanceof Promise) done.then(q.resolve, q.reject);
        else q.resolve(done);
      } catch (error) {
        q.reject(error);
      }
    }
  }

  /**
   * Writes a completion and its claim (see #finishWrite), with the usual retry of a busy lock:
   * the result itself when written at once (no promise of its own on the hot path).
   */
  #finish(
    item: Completion,
  ): { completed: boolean; claimed: Task[] } | Promise<{ completed: boolean; claimed: Task[] }> {
    try {
      const done = this.#finishWrite(item);
      if (this.#faults.claim !== undefined) this.#faults.claim = undefined;
      return done;
    } catch (error) {
      return this.#retryClaim(error, this.#finishWrite, item);
    }
  }

  async renewLease(id: string, owner: string, expiresAt: number): Promise<boolean> {
    const seq = this.#ids.parse(id);
    if (seq === undefined) return false;
    const at = Math.floor(expiresAt);
    try {
      return this.#renewWrite(at, seq, owner).changes === 1;
    } catch (error) {
      const renew = this.#renewWrite;
      const info = await this.#faults.retry(
        error,
        'tasks.renewLease',
        undefined,
        renew,
        at,
        seq,
        owner,
      );
      return info.changes === 1;
    }
  }

  async complete(
    id: string,
    owner: string,
    result: JsonValue | null,
    now: number,
  ): Promise<boolean> {
    const text = taskResultText(result);
    const seq = this.#ids.parse(id);
    if (seq === undefined) return false;
    try {
      return this.#completeWrite(seq, owner, text, now);
    } catch (error) {
      return this.#faults.retry(
        error,
        'tasks.complete',
        undefined,
        this.#completeWrite,
        seq,
        owner,
        text,
        now,
      );
    }
  }

  #completeNowOrOwe(seq: number, owner: string, text: string | null, now: number): boolean {
    // Without a result there is no reply to record: one statement, no transaction needed.
    if (!resultOwesReply(text)) return this.#completeNow(seq, owner, text, now);
    return this.#completeOne.immediate(seq, owner, text, now);
  }

  async completeMany(
    items: readonly { id: string; result: JsonValue | null }[],
    owner: string,
    now: number,
  ): Promise<number> {
    const encoded: { seq: number; result: string | null }[] = [];
    for (const item of items) {
      const result = taskResultText(item.result);
      const seq = this.#ids.parse(item.id);
      if (seq !== undefined) encoded.push({ seq, result });
    }
    if (encoded.length === 0) return 0;
    try {
      return this.#completeManyWrite(encoded, owner, now);
    } catch (error) {
      const tx = this.#completeManyWrite;
      return this.#faults.retry(error, 'tasks.completeMany', undefined, tx, encoded, owner, now);
    }
  }

  async fail(
    id: string,
    owner: string,
    error: TaskError,
    options: FailOptions,
  ): Promise<Task | undefined> {
    const retryAt =
      options.retryAt === undefined ? null : checkTaskTime(options.retryAt, 'retryAt');
    const seq = this.#ids.parse(id);
    if (seq === undefined) return undefined;
    const params = { seq, owner, retryAt, now: options.now, error: taskErrorText(error) };
    let values: TaskValues | undefined;
    try {
      values = this.#failWrite(params);
    } catch (failure) {
      values = await this.#faults.retry(failure, 'tasks.fail', undefined, this.#failWrite, params);
    }
    return values && this.#toTask(values);
  }

  async cancel(id: string, now: number): Promise<Task | undefined> {
    const seq = this.#ids.parse(id);
    if (seq === undefined) return undefined;
    try {
      return this.#cancelWrite(seq, now);
    } catch (error) {
      return this.#faults.retry(error, 'tasks.cancel', undefined, this.#cancelWrite, seq, now);
    }
  }

  async hold(id: string): Promise<Task | undefined> {
    return this.#changeHold(id, this.#holdWrite, 'tasks.hold', notHoldable);
  }

  async release(id: string): Promise<Task | undefined> {
    return this.#changeHold(id, this.#releaseWrite, 'tasks.release', notReleasable);
  }

  /** Runs the hold or release statement; a task it did not match is unknown or refused. */
  async #changeHold(
    id: string,
    write: (seq: number) => Task | undefined,
    operation: string,
    refusal: (id: string, status: TaskStatus) => Error,
  ): Promise<Task | undefined> {
    const seq = this.#ids.parse(id);
    if (seq === undefined) return undefined;
    let changed: Task | undefined;
    try {
      changed = write(seq);
    } catch (error) {
      changed = await this.#faults.retry(error, operation, undefined, write, seq);
    }
    if (changed) return changed;
    const current = this.#row(this.#bySeq, seq);
    if (current) throw refusal(id, current.status);
    return undefined;
  }

  async get(id: string): Promise<Task | undefined> {
    const seq = this.#ids.parse(id);
    return seq === undefined ? undefined : this.#row(this.#bySeq, seq);
  }

  async findByIdempotencyKey(key: string): Promise<Task | undefined> {
    return this.#row(this.#byIdempotencyKey, key);
  }

  /** Keyset paging for dashboards: see {@link pageSqliteTasks}. */
  async pageTasks(query: TaskPageQuery = {}): Promise<TaskPage> {
    return pageSqliteTasks(this.#queries, this.#ids, TASK_COLUMNS, this.#toTask, query);
  }

  async list(query: TaskQuery = {}): Promise<Task[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
      throw new AgentdError('E_INVALID_QUERY', 'limit and offset must be integers of at least 0');
    }
    let q = queryBuilder.selectFrom('tasks').select(TASK_COLUMNS);
    if (query.status !== undefined) {
      const statuses: readonly TaskStatus[] =
        typeof query.status === 'string' ? [query.status] : query.status;
      if (statuses.length === 0) return [];
      q = q.where('status', 'in', statuses);
    }
    if (query.agent !== undefined) q = q.where('agent', '=', query.agent);
    if (query.sessionKey !== undefined) q = q.where('session_key', '=', query.sessionKey);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    q = q
      .orderBy('seq', query.order === 'oldest' ? 'asc' : 'desc')
      .limit(limit)
      .offset(offset);
    return this.#queries.allRaw(q.compile()).map(this.#toTask);
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    const { byPriority } = this.#stats.read(0);
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
      TaskStatus,
      number
    >;
    for (const status of TASK_STATUSES) {
      counts[status] = byPriority[status].reduce((a, b) => a + b, 0);
    }
    return counts;
  }

  /**
   * From `task_counts` (kept by triggers, off the hot path since migration 0010), a walk of the
   * open tasks' index (pending and running; kept while no row changes) and four index probes.
   */
  async stats(now: number): Promise<TaskStats> {
    return this.#stats.read(now);
  }

  async recoverExpired(now: number, options: RecoverOptions = {}): Promise<RecoveryReport> {
    const report: RecoveryReport = { requeued: [], failed: [] };
    const owners = (options.owners ?? []).filter((o) => typeof o === 'string' && o !== '');
    if (owners.length === 0 && this.#anyExpired.get(now) === undefined) return report;
    const gone = JSON.stringify(owners);
    let rows: RecoveredRow[];
    try {
      rows = this.#recoverWrite(now, gone);
    } catch (error) {
      const tx = this.#recoverWrite;
      rows = await this.#faults.retry(error, 'tasks.recoverExpired', undefined, tx, now, gone);
    }
    for (const row of rows) {
      (row.status === 'pending' ? report.requeued : report.failed).push(this.#ids.format(row.seq));
    }
    return report;
  }

  async recordLeaseProcess(id: string, owner: string, process: JsonObject): Promise<boolean> {
    if (typeof process !== 'object' || process === null || Array.isArray(process)) {
      throw new AgentdError('E_INVALID_PROCESS', 'the process record must be a plain object');
    }
    const text = toJsonText(process, 'process', 'E_INVALID_PROCESS');
    const seq = this.#ids.parse(id);
    return seq !== undefined && this.#recordProcessWrite(text, seq, owner).changes === 1;
  }

  async listLeases(): Promise<LeaseInfo[]> {
    const rows = this.#leases.all() as {
      seq: number;
      lease_owner: string | null;
      lease_expires_at: number | null;
      lease_process: string | null;
    }[];
    return rows.map((row) => ({
      taskId: this.#ids.format(row.seq),
      owner: row.lease_owner ?? '',
      expiresAt: row.lease_expires_at ?? 0,
      process: readProcess(row.lease_process),
    }));
  }

  async nextRunAt(now: number): Promise<number | undefined> {
    const row = this.#nextRun.get({ now }) as { next: number | null } | undefined;
    return row?.next ?? undefined;
  }

  async claimReplies(request: {
    now: number;
    leaseMs: number;
    limit?: number;
  }): Promise<OwedReply[]> {
    const limit = checkClaimLimit(request.limit ?? 50, request.leaseMs);
    const { now, leaseMs } = request;
    try {
      return this.#claimRepliesWrite(now, leaseMs, limit);
    } catch (error) {
      const tx = this.#claimRepliesWrite;
      return this.#faults.retry(error, 'tasks.claimReplies', undefined, tx, now, leaseMs, limit);
    }
  }

  async recordReply(id: string, outcome: ReplyOutcome): Promise<void> {
    const seq = this.#ids.parse(id);
    if (seq === undefined) return;
    // A settled reply leaves the outbox: the table holds only what is owed.
    const record =
      'retryAt' in outcome ? { seq, dueAt: checkTaskTime(outcome.retryAt, 'retryAt') } : undefined;
    // Replies delivered side by side settle in one commit. Until it is made the reply stays
    // owed, as it was before the send: a crash then has it sent again by the next sweep, with
    // its idempotency key (the same window as between the send and a write of its own).
    if (!record && this.#commits) {
      await this.#commits.write('tasks.recordReply', () => this.#settleReply.run(seq));
      return;
    }
    const statement = record ? this.#retryReply : this.#settleReply;
    try {
      this.#replyWrite(statement, record ?? seq);
    } catch (error) {
      const write = this.#replyWrite;
      await this.#faults.retry(
        error,
        'tasks.recordReply',
        undefined,
        write,
        statement,
        record ?? seq,
      );
    }
  }

  async countOwedReplies(): Promise<number> {
    return this.#countReplies.get() as number;
  }

  async prune(options: {
    before: number;
    statuses: readonly ('completed' | 'failed' | 'cancelled')[];
    limit?: number;
  }): Promise<number> {
    const plan = preparePrune(options);
    if (!plan) return 0;
    const { statuses, limit, before } = plan;
    // Rowid order visits the oldest tasks first, which on a long-running host are finished
    // ones, so the scan stops after `limit` matches without an index on finished_at (which
    // every completion would have to maintain).
    const placeholders = statuses.map(() => '?').join(', ');
    const query = {
      sql: `DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks WHERE status IN (${placeholders})
        AND finished_at < ? ORDER BY seq LIMIT ?)`,
      parameters: [...statuses, before, limit],
    };
    try {
      return this.#pruneWrite(query);
    } catch (error) {
      return this.#faults.retry(error, 'tasks.prune', undefined, this.#pruneWrite, query);
    }
  }

  // Answers and dead letters: off the hot path, so their statements are prepared on first use.
  #answers: ((answer: NewAnswer, now: number) => EnqueueResult) | undefined;
  #deadLetters: SqliteDeadLetters | undefined;

  async recordAnswer(answer: NewAnswer, now: number): Promise<EnqueueResult> {
    // An answer is inserted completed: it counts, but never among the open tasks.
    this.#answers ??= counted(this.#tally, this.#answerTx().immediate);
    return this.#answers(answer, now);
  }

  #answerTx(): BetterSqlite3.Transaction<(answer: NewAnswer, now: number) => EnqueueResult> {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO tasks (status, priority, run_at, idempotency_key, type, description,
         input, attempts, max_attempts, created_at, started_at, finished_at, result, reply_to, metadata)
       VALUES ('completed', 2, @now, @key, 'answer', @description, 'null', 0, 1, @now, @now, @now,
         @result, @replyTo, @metadata)`,
    );
    const addToCount = this.#db.prepare(ADD_TO_TASK_COUNT_SQL);
    return this.#db.transaction((answer: NewAnswer, now: number): EnqueueResult => {
      const { task, resultText, replyToText, metadataText, owesReply } = prepareAnswer(answer, now);
      const at = task.createdAt;
      const info = insert.run({
        now: at,
        key: answer.idempotencyKey,
        description: task.description,
        result: resultText,
        replyTo: replyToText,
        metadata: metadataText,
      });
      if (info.changes === 0) {
        const existing = this.#row(this.#byIdempotencyKey, answer.idempotencyKey);
        if (!existing) throw new AgentdError('E_STORE', 'an answer was neither stored nor found');
        return { task: existing, created: false };
      }
      const seq = Number(info.lastInsertRowid);
      // No trigger counts inserts (migration 0011): an answer is completed, at its priority.
      addToCount.run(countKey(task.status), task.priority, 1);
      // Owed like any finished task's reply: held for its sender, then due for any sweep.
      if (owesReply) this.#recordOwedReply(seq, at);
      return { task: this.#row(this.#bySeq, seq) as Task, created: true };
    });
  }

  #letters(): SqliteDeadLetters {
    this.#deadLetters ??= new SqliteDeadLetters(this.#db);
    return this.#deadLetters;
  }

  async addDeadLetter(
    letter: NewDeadLetter,
    now: number,
  ): Promise<{ letter: DeadLetter; created: boolean }> {
    return this.#letters().add(letter, now);
  }

  async listDeadLetters(query?: {
    status?: DeadLetterStatus | readonly DeadLetterStatus[];
    limit?: number;
  }): Promise<DeadLetter[]> {
    return this.#letters().list(query);
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    return this.#letters().get(id);
  }

  async settleDeadLetter(
    id: string,
    status: 'discarded' | 'retried',
    now: number,
  ): Promise<DeadLetter | undefined> {
    return this.#letters().settle(id, status, now);
  }

  async countOpenDeadLetters(): Promise<number> {
    return this.#letters().countOpen();
  }
}

/** A stored process record; an unreadable one counts as none (recovery must not fail on it). */
function readProcess(text: string | null): JsonObject | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : null;
  } catch {
    return null;
  }
}
