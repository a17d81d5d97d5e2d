import { AgentdError, type EnqueueResult, type NewTask, type Task } from '@agentd/core';
import type BetterSqlite3 from 'better-sqlite3';
import { INSERT_COLUMNS_SQL, INSERT_PARAMS, INSERT_VALUES_SQL, prepareTask } from './new-task.js';
import type { OpenTaskTally } from './open-task-tally.js';
import type { TaskIds } from './task-ids.js';
import { ADD_TO_TASK_COUNT_SQL, HOT_STATUSES_KEY } from './task-stats.js';

const INSERT_SQL = `${INSERT_COLUMNS_SQL} VALUES ${INSERT_VALUES_SQL}
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;
// A batch inserts its tasks that have no idempotency key this many rows per statement: with one
// statement per row, calling into SQLite cost about a fifth of the insert. Such rows cannot
// conflict, and they get consecutive seqs: a new rowid is one past the largest in the table.
const BATCH_ROWS = 16;
const BATCH_SQL = `${INSERT_COLUMNS_SQL} VALUES ${`${INSERT_VALUES_SQL}, `.repeat(BATCH_ROWS - 1)}${INSERT_VALUES_SQL}`;

/** Every column of a row varies: the mask of {@link BATCH_SQL}. */
const ALL_VARYING = (1 << INSERT_PARAMS) - 1;
/** The input's parameter index in a row (see INSERT_COLUMNS_SQL). */
const INPUT_PARAM = 7;
/**
 * The most statements kept for distinct masks of varying columns. A batch's tasks nearly always
 * agree on the same columns (one mask, or a few); past this many, the rows go in with
 * {@link BATCH_SQL}, which binds every column of every row.
 */
const MAX_SHARED_STATEMENTS = 32;

/**
 * The insert of BATCH_ROWS rows in which the columns not in `varying` (a bit per parameter of a
 * row, in INSERT_COLUMNS_SQL order) hold one value for every row, bound once: the shared values
 * come first, in column order, then each row's varying values. The rows of a batch usually
 * differ only in their input: binding the other eleven columns of each row (five of them
 * strings, which better-sqlite3 copies as UTF-8 twice) was about a sixth of `enqueueMany`'s
 * instructions per task (callgrind). The rows come from a `VALUES` list joined to the one row of
 * shared values; `CROSS JOIN` keeps that row the outer loop, so rows are inserted, and their
 * rowids given, in list order (the seqs are read back from the last one, as for BATCH_SQL; the
 * tests check the order).
 */
function sharedBatchSql(varying: number): string {
  const shared: string[] = [];
  const select: string[] = [];
  let perRow = 0;
  for (let k = 0; k < INSERT_PARAMS; k++) {
    if (varying & (1 << k)) {
      perRow++;
      select.push(`v.column${perRow}`);
    } else {
      shared.push(`? AS c${k}`);
      select.push(`s.c${k}`);
    }
  }
  const row = `(${new Array(perRow).fill('?').join(', ')})`;
  return `${INSERT_COLUMNS_SQL} SELECT 'pending', ${select.join(', ')}
    FROM (SELECT ${shared.join(', ')}) AS s
    CROSS JOIN (VALUES ${new Array(BATCH_ROWS).fill(row).join(', ')}) AS v`;
}

/**
 * The mask of the parameters (a bit per column of a row) whose values differ between the
 * BATCH_ROWS rows of `params`. Never 0: when every column agrees, the input still goes per row
 * (a `VALUES` row needs a column).
 */
function varyingColumns(params: readonly unknown[]): number {
  let varying = 0;
  for (let k = 0; k < INSERT_PARAMS; k++) {
    const first = params[k];
    for (let at = k + INSERT_PARAMS; at < params.length; at += INSERT_PARAMS) {
      if (params[at] !== first) {
        varying |= 1 << k;
        break;
      }
    }
  }
  return varying === 0 ? 1 << INPUT_PARAM : varying;
}

/** A statement of {@link sharedBatchSql}, with the columns it binds once and per row. */
interface SharedBatch {
  statement: BetterSqlite3.Statement;
  /** The parameter indexes (of a row) bound once, in order. */
  sharedColumns: readonly number[];
  /** The parameter indexes bound for each row, in order. */
  varyingColumns: readonly number[];
}

/** Prefixes a task's validation error with its index in the batch. */
function atIndex(error: unknown, index: number): unknown {
  return error instanceof AgentdError
    ? new AgentdError(error.code, `tasks[${index}]: ${error.message}`, { cause: error })
    : error;
}

/**
 * The parameter arrays of one insert call. Reused from call to call (statements run
 * synchronously), except when a call re-enters the inserter: a getter on a task's input may
 * enqueue while the task is being validated, and gets arrays of its own.
 */
class InsertBuffers {
  readonly params: unknown[] = new Array(INSERT_PARAMS);
  readonly batchParams: unknown[] = new Array(INSERT_PARAMS * BATCH_ROWS);
  /** The tasks whose parameters wait in batchParams, in order. */
  readonly waiting: Task[] = [];

  /** Drops the references to the last call's payloads, which may be large. */
  clear(): void {
    this.params.fill(undefined);
    this.batchParams.fill(undefined);
    this.waiting.length = 0;
  }

  /** Copies one task's parameters from batchParams at `from` into params. */
  copyParams(from: number): void {
    for (let k = 0; k < INSERT_PARAMS; k++) this.params[k] = this.batchParams[from + k];
  }
}

/**
 * Inserts new tasks: the enqueue half of {@link SqliteTaskStore}. A batch is one IMMEDIATE
 * transaction in which each task is validated and inserted in turn, so a bad task anywhere rolls
 * back the whole batch and nothing is written. (The batch is checked while the write lock is
 * held: checking it first kept an object per task alive until the insert, which cost more than
 * the insert itself.) A single task is a batch of one. Each call counts the tasks it inserted,
 * by priority, and adds the tallies to `task_counts` before it commits: no trigger counts
 * inserts (migration 0011 in task-stats.ts; new tasks are pending, counted under
 * {@link HOT_STATUSES_KEY}).
 *
 * @example
 * ```ts
 * const insert = new TaskInserter(db, ids, DEFAULT_MAX_PAYLOAD_BYTES, (key) => findByKey(key));
 * insert.one({ input: 'hello' }, Date.now()); // { task, created: true }
 * ```
 */
export class TaskInserter {
  readonly #ids: TaskIds;
  readonly #maxPayloadBytes: number;
  readonly #byIdempotencyKey: (key: string) => Task | undefined;
  readonly #insert: BetterSqlite3.Statement;
  readonly #insertBatch: BetterSqlite3.Statement;
  /** The statements of sharedBatchSql by mask of varying columns, prepared when first needed. */
  readonly #sharedBatches = new Map<number, SharedBatch>();
  readonly #db: BetterSqlite3.Database;
  readonly #addToCount: BetterSqlite3.Statement;
  /** Told of every task inserted (pending): the open tasks' figures move by it. */
  readonly #tally: OpenTaskTally;
  /**
   * While a call's transaction runs: the tasks it inserted so far, by priority, which it adds
   * to `task_counts` before it commits. Undefined between calls.
   */
  #tallies: number[] | undefined;
  /** The buffers for the next call; taken while a call runs. */
  #spare: InsertBuffers | undefined = new InsertBuffers();
  // Immediate: the write lock is taken up front, so a batch never fails half-way with
  // SQLITE_BUSY when it tries to upgrade a read lock that another process made stale.
  readonly #many: BetterSqlite3.Transaction<
    (tasks: readonly NewTask[], now: number) => EnqueueResult[]
  >;
  readonly #one: BetterSqlite3.Transaction<(task: NewTask, now: number) => EnqueueResult>;

  constructor(
    db: BetterSqlite3.Database,
    ids: TaskIds,
    maxPayloadBytes: number,
    byIdempotencyKey: (key: string) => Task | undefined,
    tally: OpenTaskTally,
  ) {
    this.#tally = tally;
    this.#db = db;
    this.#ids = ids;
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#byIdempotencyKey = byIdempotencyKey;
    this.#insert = db.prepare(INSERT_SQL);
    this.#insertBatch = db.prepare(BATCH_SQL);
    this.#addToCount = db.prepare(ADD_TO_TASK_COUNT_SQL);
    this.#many = db.transaction((tasks: readonly NewTask[], now: number) =>
      this.#counted(() => this.#withBuffers((buffers) => this.#insertAll(buffers, tasks, now))),
    );
    this.#one = db.transaction((input: NewTask, now: number) =>
      this.#counted(() =>
        this.#withBuffers((buffers) =>
          this.#insertPrepared(
            buffers,
            prepareTask(input, now, this.#maxPayloadBytes, buffers.params, 0),
          ),
        ),
      ),
    );
  }

  /**
   * Runs `insert` inside its transaction, tallying what it inserts. At the outermost call the
   * tallies are added to `task_counts` before the commit. A call made from inside another (a
   * getter on a task's input may enqueue) is a savepoint in the outer call's transaction and
   * counts in the outer tallies, which it restores if it fails (its rows are rolled back then).
   */
  #counted<T>(insert: () => T): T {
    const outer = this.#tallies;
    if (outer !== undefined) {
      const before = [...outer];
      try {
        return insert();
      } catch (error) {
        for (let i = 0; i < before.length; i++) outer[i] = before[i] as number;
        throw error;
      }
    }
    const tallies = [0, 0, 0, 0];
    this.#tallies = tallies;
    try {
      const result = insert();
      for (let priority = 0; priority < tallies.length; priority++) {
        const n = tallies[priority] as number;
        if (n > 0) this.#addToCount.run(HOT_STATUSES_KEY, priority, n);
      }
      return result;
    } finally {
      this.#tallies = undefined;
    }
  }

  /** Validates and inserts one task (or finds the task holding its idempotency key). */
  one(input: NewTask, now: number): EnqueueResult {
    return this.#one.immediate(input, now);
  }

  /** Validates and inserts a batch, in order, in one IMMEDIATE transaction. */
  many(tasks: readonly NewTask[], now: number): EnqueueResult[] {
    return tasks.length === 0 ? [] : this.#many.immediate(tasks, now);
  }

  #withBuffers<T>(fn: (buffers: InsertBuffers) => T): T {
    const buffers = this.#spare ?? new InsertBuffers();
    this.#spare = undefined;
    try {
      return fn(buffers);
    } finally {
      buffers.clear();
      this.#spare = buffers;
    }
  }

  /** Inserts the task whose parameters are in `buffers.params`. */
  #insertPrepared(buffers: InsertBuffers, task: Task): EnqueueResult {
    const info = this.#insert.run(...buffers.params); // spread: see #flushBatch
    if (info.changes === 1) {
      task.id = this.#ids.format(Number(info.lastInsertRowid));
      ((this.#tallies as number[])[task.priority] as number)++;
      this.#tally.added(task.priority);
      return { task, created: true };
    }
    // The only conflict the insert ignores is the idempotency key: return the task holding it.
    const existing = this.#byIdempotencyKey(task.idempotencyKey as string);
    if (!existing) {
      throw new AgentdError('E_STORE', 'enqueue inserted nothing and found no task with its key');
    }
    return { task: existing, created: false };
  }

  #insertAll(buffers: InsertBuffers, tasks: readonly NewTask[], now: number): EnqueueResult[] {
    const results = new Array<EnqueueResult>(tasks.length);
    const { waiting } = buffers;
    for (let i = 0; i < tasks.length; i++) {
      const at = waiting.length * INSERT_PARAMS;
      let task: Task;
      try {
        task = prepareTask(
          tasks[i] as NewTask,
          now,
          this.#maxPayloadBytes,
          buffers.batchParams,
          at,
        );
      } catch (error) {
        throw atIndex(error, i);
      }
      if (task.idempotencyKey === null) {
        waiting.push(task);
        if (waiting.length === BATCH_ROWS) this.#flushBatch(buffers, results, i + 1 - BATCH_ROWS);
      } else {
        // Keep the batch's order: the tasks waiting before this one go in first.
        this.#flushEach(buffers, results, i - waiting.length, waiting.length);
        buffers.copyParams(at);
        results[i] = this.#insertPrepared(buffers, task);
      }
    }
    this.#flushEach(buffers, results, tasks.length - waiting.length, waiting.length);
    return results;
  }

  /** Inserts the BATCH_ROWS waiting tasks with one statement; `first` is the first's index. */
  #flushBatch(buffers: InsertBuffers, results: EnqueueResult[], first: number): void {
    const info = this.#runBatch(buffers.batchParams);
    if (info.changes !== BATCH_ROWS) {
      throw new AgentdError(
        'E_STORE',
        `a batch insert wrote ${info.changes} of ${BATCH_ROWS} rows`,
      );
    }
    const firstSeq = Number(info.lastInsertRowid) - BATCH_ROWS + 1;
    const { waiting } = buffers;
    const tallies = this.#tallies as number[];
    for (let i = 0; i < BATCH_ROWS; i++) {
      const task = waiting[i] as Task;
      task.id = this.#ids.format(firstSeq + i);
      (tallies[task.priority] as number)++;
      this.#tally.added(task.priority);
      results[first + i] = { task, created: true };
    }
    waiting.length = 0;
  }

  /**
   * Runs the insert of the BATCH_ROWS rows in `params`: a column whose value all of them share is
   * bound once (see sharedBatchSql), unless every column varies or too many distinct masks came.
   */
  #runBatch(params: unknown[]): BetterSqlite3.RunResult {
    const varying = varyingColumns(params);
    const shared = varying === ALL_VARYING ? undefined : this.#sharedBatch(varying);
    // Spread, not the array: better-sqlite3 reads an array argument element by element through
    // V8's generic property API (about 250 instructions a parameter, callgrind), arguments by
    // index. A fifth of enqueueMany's instructions per task went there.
    if (shared === undefined) return this.#insertBatch.run(...params);
    const { statement, sharedColumns, varyingColumns: perRow } = shared;
    const args = new Array<unknown>(sharedColumns.length + perRow.length * BATCH_ROWS);
    let n = 0;
    for (let k = 0; k < sharedColumns.length; k++) args[n++] = params[sharedColumns[k] as number];
    for (let at = 0; at < params.length; at += INSERT_PARAMS) {
      for (let k = 0; k < perRow.length; k++) args[n++] = params[at + (perRow[k] as number)];
    }
    return statement.run(...args);
  }

  /** The statement for rows whose varying columns are `varying`; undefined past the cap. */
  #sharedBatch(varying: number): SharedBatch | undefined {
    let shared = this.#sharedBatches.get(varying);
    if (shared === undefined && this.#sharedBatches.size < MAX_SHARED_STATEMENTS) {
      const sharedColumns: number[] = [];
      const perRow: number[] = [];
      for (let k = 0; k < INSERT_PARAMS; k++) (varying & (1 << k) ? perRow : sharedColumns).push(k);
      shared = {
        statement: this.#db.prepare(sharedBatchSql(varying)),
        sharedColumns,
        varyingColumns: perRow,
      };
      this.#sharedBatches.set(varying, shared);
    }
    return shared;
  }

  /** Inserts the first `count` waiting tasks one by one; `first` is the first's index. */
  #flushEach(buffers: InsertBuffers, results: EnqueueResult[], first: number, count: number): void {
    const { waiting } = buffers;
    for (let i = 0; i < count; i++) {
      buffers.copyParams(i * INSERT_PARAMS);
      results[first + i] = this.#insertPrepared(buffers, waiting[i] as Task);
    }
    waiting.length = 0;
  }
}
