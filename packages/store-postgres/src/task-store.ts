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
  atTaskIndex,
  type ClaimRequest,
  checkClaimLimit,
  checkClaimOwner,
  checkDeadLetterQuery,
  checkHistoryEntry,
  checkSettleStatus,
  checkTaskTime,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type DeadLetter,
  type DeadLetterStatus,
  type FailOptions,
  type LeaseInfo,
  type NewAnswer,
  type NewDeadLetter,
  type NewTaskJson,
  newTaskJson,
  notHoldable,
  notReleasable,
  type OwedReply,
  parseJson,
  prepareAnswer,
  prepareDeadLetter,
  prepareNewTask,
  preparePrune,
  REPLY_HOLD_MS,
  type RecoverOptions,
  type RecoveryReport,
  type ReplyOutcome,
  recoveryError,
  resultOwesReply,
  type SessionTurn,
  TASK_STATUSES,
  type TaskError,
  type TaskQuery,
  type TaskStats,
  taskErrorText,
  taskResultText,
  toJsonText,
} from '@agentd/core/store';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { inTransaction } from './client.js';
import { CommitGroup } from './commit-group.js';
import { isConnectionError } from './connection-errors.js';
import type { PostgresHandle } from './handle.js';
import { type PreparedStatement, PreparedStatements } from './prepared-statements.js';
import { eachResult, type InlineValue, inlineParams } from './simple-query.js';
import {
  batchCompleteSql,
  batchCompleteTurnsSql,
  batchInsertSql,
  batchInsertValues,
  type InsertColumnStore,
  type InsertColumnValues,
} from './task-batch-sql.js';
import {
  listenForWork,
  type WorkListenerOptions,
  type WorkSubscription,
  workChannel,
} from './task-notify.js';
import { countAddsSql, countMovesSql, PostgresTaskStats } from './task-stats.js';
import { decodeNullable, decodeText, encodeNullable, encodeText } from './task-text.js';

/** A pool or one of its connections (inside a transaction): what a statement runs on. */
interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A `tasks` row as node-postgres returns it: BIGINT columns arrive as strings. */
interface TaskRow {
  seq: string;
  input: string;
  description: string;
  type: string;
  agent: string | null;
  priority: number;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  created_at: string;
  run_at: string;
  started_at: string | null;
  finished_at: string | null;
  result: string | null;
  error: string | null;
  idempotency_key: string | null;
  session_key: string | null;
  reply_to: string | null;
  metadata: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
}

/** The tables as Kysely sees them (for the queries built with it). */
interface TaskTables {
  tasks: TaskRow;
}

interface LetterRow {
  seq: string;
  channel: string;
  key: string | null;
  code: string;
  reason: string;
  raw: string;
  raw_bytes: number;
  truncated: boolean;
  reply_to: string | null;
  status: DeadLetterStatus;
  created_at: string;
  settled_at: string | null;
}

const TASK_COLUMNS = `seq, input, description, type, agent, priority, status, attempts, max_attempts,
  created_at, run_at, started_at, finished_at, result, error, idempotency_key, session_key,
  reply_to, metadata, lease_owner, lease_expires_at`;
const TASK_COLUMN_LIST = TASK_COLUMNS.split(',').map((c) => c.trim() as keyof TaskRow);
const DEFAULT_LIST_LIMIT = 100;
/** SQLSTATE of a unique violation. */
const UNIQUE_VIOLATION = '23505';
/** Inserts tried again when the task holding their idempotency key vanished in between. */
const INSERT_ATTEMPTS = 3;
/** Claims retried after a session-key conflict (see the claim's comment) before giving up. */
const CLAIM_ATTEMPTS = 5;
/**
 * Said before a claim of more than one task, in its transaction. The claim walks tasks_claim in
 * index order and stops after `limit` rows; but when the table's statistics say few tasks are
 * pending (never analyzed yet, or analyzed while the queue was empty, before a burst), the
 * planner prefers a bitmap scan that reads every pending row and sorts them all: measured 14 ms
 * per claim at 20,000 pending, against 0.2 ms in index order. Without sorts on offer, the index
 * order is the plan, whatever the statistics say. SET LOCAL ends with the transaction (here the
 * implicit one of a multi-statement simple query), so it also holds behind PgBouncer in
 * transaction mode. (A claim of one task is planned in index
 * order anyway: its LIMIT 1 makes the index scan's first row the cheapest.)
 *
 * JIT is switched off with it: a sort left in such a transaction's plan is costed with the
 * planner's "disabled" penalty, which is far above `jit_above_cost`, and PostgreSQL then compiles
 * the statement with LLVM on every execution (about 300 ms of CPU for a claim of 8, measured on
 * PostgreSQL 15), where the claim itself takes a fraction of a millisecond.
 */
const CLAIM_IN_INDEX_ORDER = 'SET LOCAL enable_sort = off; SET LOCAL jit = off';
/** Shared enqueue statements in flight at once (see CommitGroup). */
const ENQUEUE_WRITES_IN_FLIGHT = 1;
/**
 * Shared claim transactions in flight at once (see CommitGroup). One: the completions and claims
 * of one turn of the event loop share a transaction (a runner's ten slots, claimed together,
 * finish together), and what arrives while it is written joins the next. Measured on 2 cores,
 * alternated (2026-12-04, docs/benchmarks.md), one-per-claim burn-down of a real host /
 * 1 host process draining / 3 host processes draining, tasks/s:
 * - one in flight, flushed in a microtask (before): 2,856-3,286 / 3,494-4,423 / 3,773-5,283;
 * - one in flight, flushed at the end of the turn: 2,882-3,864 / 6,014-7,503 / 6,823-9,468;
 * - two in flight, waiting callers split evenly: 3,453-4,484 / 5,132-5,620 / 4,927-5,940 (more,
 *   smaller transactions: better for one host in one process, worse once hosts compete for the
 *   CPU and the rows).
 */
const CLAIM_WRITES_IN_FLIGHT = 1;
/**
 * Claims of up to this many tasks run as prepared statements, one per limit (the limit is
 * written into each, so its cached plan walks the claim index for exactly that many rows);
 * larger claims, rare and long enough for planning not to matter, are planned each time.
 */
const PREPARED_CLAIM_LIMIT = 64;
/** Parameter types of a prepared claim: now, lease owner, lease expiry. */
const CLAIM_PARAM_TYPES = ['bigint', 'text', 'bigint'];
/** Parameter types of the shared completion (see batchCompleteSql). */
const COMPLETE_PARAM_TYPES = ['bigint[]', 'text[]', 'boolean[]', 'text[]', 'bigint[]'];
/** Parameter types of the shared completion with session turns (see batchCompleteTurnsSql). */
const COMPLETE_TURNS_PARAM_TYPES = [
  ...COMPLETE_PARAM_TYPES,
  'bigint[]',
  'text[]',
  'bigint[]',
  'bigint[]',
  'text[]',
  'text[]',
  'text[]',
  'bigint[]',
  'text[]',
];
/** PostgreSQL's text cannot hold NUL; a session's history stores its entries as they are. */
const NUL = '\u0000';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * A string as the insert's JSON carries it. A lone UTF-16 surrogate becomes U+FFFD, as the
 * driver's UTF-8 encoding makes it for a text parameter (PostgreSQL's JSON refuses the escape
 * JSON.stringify writes for it), so a task stores the same through enqueue as through any
 * other statement. JSON texts (input, metadata, reply address) need none: JSON.stringify made
 * them, escaping such surrogates in ASCII.
 */
function jsonSafe<T extends string | null>(value: T): T {
  if (value === null || !LONE_SURROGATE.test(value)) return value;
  return value.replace(LONE_SURROGATES, '\uFFFD') as T;
}

/** The string columns the insert sends encoded (see batchInsertValues); the others as they are. */
const INSERT_STORED: InsertColumnStore = {
  description: storedText,
  type: storedText,
  agent: storedText,
  idempotency_key: storedText,
  session_key: storedText,
};

/** A string column's text as the insert sends it (see encodeText and jsonSafe). */
function storedText(value: string): string {
  return jsonSafe(encodeText(value));
}

/** A new task checked by core's rules, with its JSON texts: one enqueue waiting to be stored. */
interface PreparedTask {
  task: Task;
  json: NewTaskJson;
}

/**
 * Checked tasks ready to insert, kept column by column as {@link batchInsertValues} sends them:
 * the tasks (each result holds its own) and one array per column, filled as each task is checked.
 * A batch of 1,000 so makes no object per task besides its `Task` (it made a holder and a JSON
 * texts object per task, and read them back through a function per column and task).
 */
class PreparedBatch {
  readonly tasks: Task[];
  readonly columns: {
    input: string[];
    description: string[];
    type: string[];
    agent: (string | null)[];
    priority: number[];
    max_attempts: number[];
    created_at: number[];
    run_at: number[];
    idempotency_key: (string | null)[];
    session_key: (string | null)[];
    reply_to: (string | null)[];
    metadata: string[];
  };
  /** How many tasks were added so far. */
  #size = 0;

  /**
   * A batch of `capacity` tasks, added with {@link add}. The arrays are made at their size and
   * written by index: `push` onto thirteen growing arrays went through V8's generic builtin, about
   * a tenth of the host's instructions per task (callgrind).
   */
  constructor(readonly capacity: number) {
    const n = capacity;
    this.tasks = new Array<Task>(n);
    this.columns = {
      input: new Array<string>(n),
      description: new Array<string>(n),
      type: new Array<string>(n),
      agent: new Array<string | null>(n),
      priority: new Array<number>(n),
      max_attempts: new Array<number>(n),
      created_at: new Array<number>(n),
      run_at: new Array<number>(n),
      idempotency_key: new Array<string | null>(n),
      session_key: new Array<string | null>(n),
      reply_to: new Array<string | null>(n),
      metadata: new Array<string>(n),
    } satisfies InsertColumnValues;
  }

  /** The batch of `items`, in order. */
  static of(items: readonly PreparedTask[]): PreparedBatch {
    const batch = new PreparedBatch(items.length);
    for (const { task, json } of items) batch.add(task, json);
    return batch;
  }

  /** How many tasks were added so far (the batch is full at `capacity`). */
  get size(): number {
    return this.#size;
  }

  /** Adds a checked task and its JSON texts (read now: the holder may be reused). */
  add(task: Task, json: NewTaskJson): void {
    const c = this.columns;
    const i = this.#size++;
    this.tasks[i] = task;
    c.input[i] = json.input;
    c.description[i] = task.description;
    c.type[i] = task.type;
    c.agent[i] = task.agent;
    c.priority[i] = task.priority;
    c.max_attempts[i] = task.maxAttempts;
    c.created_at[i] = task.createdAt;
    c.run_at[i] = task.runAt;
    c.idempotency_key[i] = task.idempotencyKey;
    c.session_key[i] = task.sessionKey;
    c.reply_to[i] = json.replyTo;
    c.metadata[i] = json.metadata;
  }

  /** The task at `index` alone, as a batch of one. */
  one(index: number): PreparedBatch {
    const batch = new PreparedBatch(1);
    batch.#size = 1;
    batch.tasks[0] = this.tasks[index] as Task;
    for (const name of Object.keys(this.columns) as (keyof typeof this.columns)[]) {
      (batch.columns[name] as unknown[])[0] = this.columns[name][index];
    }
    return batch;
  }
}

/** One claim (or completion and claim) waiting to share a transaction with others. */
interface ClaimItem {
  claim: CheckedClaim;
  complete?: { seq: number | undefined; owner: string; text: string | null; turn?: SessionTurn };
}

interface ClaimOutcome {
  completed: boolean;
  claimed: Task[];
}

const keyVanished = (key: string | null) =>
  new AgentdError(
    'E_STORE',
    `the task holding idempotency key ${key === null ? '(one of the batch)' : JSON.stringify(key)} was deleted each time it was looked up; enqueue again`,
  );

const num = (value: string | number): number => Number(value);
const numOrNull = (value: string | number | null): number | null =>
  value === null ? null : Number(value);

const isUniqueViolation = (error: unknown, constraint?: string): boolean =>
  (error as { code?: unknown })?.code === UNIQUE_VIOLATION &&
  (constraint === undefined || (error as { constraint?: unknown }).constraint === constraint);

/**
 * The PostgreSQL {@link TaskStore}: every rule of the contract over tables that several agentd
 * hosts share. All rules (checks, defaults, JSON text, error codes) come from core's store kit,
 * so it accepts and refuses exactly what the memory and SQLite stores do; this class only maps
 * them to SQL. Hot paths are raw SQL on the pool, one statement (or one short transaction) each.
 *
 * Claims are safe across hosts: rows are picked with `FOR UPDATE SKIP LOCKED` (two hosts never
 * pick the same task, and never wait on each other), and a partial unique index on
 * `session_key WHERE status = 'running'` makes two running tasks of one session impossible.
 *
 * @example
 * ```ts
 * const tasks = new PostgresTaskStore(handle);
 * const { task } = await tasks.enqueue({ input: 'hello', sessionKey: 'chat:1' }, Date.now());
 * const [claimed] = await tasks.claim({ owner: 'host-a:1', leaseMs: 30_000, now: Date.now() });
 * await tasks.complete(claimed.id, 'host-a:1', 'done', Date.now());
 * ```
 */
export class PostgresTaskStore implements TaskStore {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<TaskTables>;
  readonly #schema: string;
  readonly #maxPayloadBytes: number;
  readonly #tasks: string;
  readonly #replies: string;
  readonly #letters: string;
  readonly #meta: string;
  /** `task_counts`, which every statement that changes a task's status moves (countMovesSql). */
  readonly #counts: string;
  readonly #claimSql: string;
  readonly #channel: string;
  /**
   * The insert of a batch with an idempotency key, and of one without (see batchInsertSql), run
   * as protocol-level prepared statements (see #runInsert).
   */
  readonly #insertKeyed: PreparedStatement;
  readonly #insertKeyless: PreparedStatement;
  readonly #completeSql: string;
  /** The hot path's statements, planned once per connection (see PreparedStatements). */
  readonly #prepared: PreparedStatements;
  readonly #complete: PreparedStatement;
  readonly #completeTurnsSql: string;
  readonly #completeTurns: PreparedStatement;
  readonly #warn: (message: string) => void;
  readonly #claimByLimit = new Map<number, PreparedStatement>();
  /** Enqueues arriving while one is being written share the next statement and its commit. */
  readonly #enqueues: CommitGroup<PreparedTask, EnqueueResult>;
  /** Claims (and completions with their next claim) share transactions the same way. */
  readonly #claims: CommitGroup<ClaimItem, ClaimOutcome>;
  #prefix: Promise<string> | undefined;
  readonly #stats: PostgresTaskStats;

  constructor(
    handle: PostgresHandle,
    options: {
      maxPayloadBytes?: number;
      /** Plan the hot path's statements once per connection (default true). */
      preparedStatements?: boolean;
      /** Told when the store changes how it works on its own (a pooler detected). */
      warn?: (message: string) => void;
    } = {},
  ) {
    this.#pool = handle.pool;
    this.#db = handle.db as Kysely<TaskTables>;
    this.#schema = handle.schema;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#tasks = handle.table('tasks');
    this.#replies = handle.table('task_replies');
    this.#letters = handle.table('dead_letters');
    this.#meta = handle.table('task_meta');
    this.#counts = handle.table('task_counts');
    this.#claimSql = this.#buildClaimSql();
    this.#channel = workChannel(handle.schema);
    this.#stats = new PostgresTaskStats(handle.pool, handle.schema, (name) => handle.table(name));
    this.#completeSql = batchCompleteSql(this.#tasks, this.#replies, this.#counts);
    this.#prepared = new PreparedStatements(
      options.preparedStatements ?? true,
      options.warn ?? (() => {}),
    );
    this.#insertKeyed = this.#prepared.define(
      batchInsertSql(this.#tasks, this.#counts, { keyed: true }),
      [],
    );
    this.#insertKeyless = this.#prepared.define(
      batchInsertSql(this.#tasks, this.#counts, { keyed: false }),
      [],
    );
    this.#complete = this.#prepared.define(this.#completeSql, COMPLETE_PARAM_TYPES);
    this.#completeTurnsSql = batchCompleteTurnsSql(
      this.#tasks,
      this.#replies,
      this.#counts,
      handle.table('sessions'),
      handle.table('session_history'),
    );
    this.#completeTurns = this.#prepared.define(this.#completeTurnsSql, COMPLETE_TURNS_PARAM_TYPES);
    this.#warn = options.warn ?? (() => {});
    this.#enqueues = new CommitGroup(
      (items) => this.#insert(PreparedBatch.of(items)),
      async (item) => (await this.#insert(PreparedBatch.of([item])))[0] as EnqueueResult,
      { maxInFlight: ENQUEUE_WRITES_IN_FLIGHT },
    );
    this.#claims = new CommitGroup(
      (items) => this.#claimTogether(items),
      (item) => this.#claimAlone(item),
      { maxInFlight: CLAIM_WRITES_IN_FLIGHT },
    );
  }

  // ---- ids ------------------------------------------------------------------------------

  /** The schema's task id prefix, read once (the migration chose it). */
  #idPrefix(): Promise<string> {
    this.#prefix ??= this.#pool
      .query<{ value: string }>(`SELECT value FROM ${this.#meta} WHERE key = 'task_id_prefix'`)
      .then(({ rows }) => {
        const value = rows[0]?.value;
        if (value === undefined) {
          throw new AgentdError(
            'E_STORE_SCHEMA',
            `${this.#meta} has no task_id_prefix row: the task migrations were not applied`,
          );
        }
        return value;
      })
      .catch((error: unknown) => {
        this.#prefix = undefined;
        throw error;
      });
    return this.#prefix;
  }

  /** The row's seq for a task id of this store, or undefined for any other string. */
  async #seqOf(id: string): Promise<number | undefined> {
    return seqIn(await this.#idPrefix(), id);
  }

  async #toTasks(rows: readonly TaskRow[]): Promise<Task[]> {
    if (rows.length === 0) return [];
    const prefix = await this.#idPrefix();
    return rows.map((row) => toTask(row, prefix));
  }

  async #toTask(row: TaskRow | undefined): Promise<Task | undefined> {
    return row && toTask(row, await this.#idPrefix());
  }

  /** Runs `fn` in one transaction on one pooled connection. */
  #tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn);
  }

  /** Notifies the hosts listening for work, when `q`'s transaction commits. */
  async #wake(q: Queryable): Promise<void> {
    await q.query(`SELECT pg_notify($1, '')`, [this.#channel]);
  }

  /**
   * Calls `listener` whenever work may have become claimable on any host sharing this schema:
   * a task enqueued, or one requeued by a retry or by lease recovery. It uses LISTEN/NOTIFY on
   * one connection held from the pool; notifications arrive when the writing transaction
   * commits, and several from one transaction arrive once. A runner keeps polling as a
   * fallback: a notification sent while the connection was broken is lost (the listener is
   * called once after each reconnect for that reason).
   *
   * @example
   * ```ts
   * const subscription = await tasks.onWork(() => runner.wake());
   * // ... on shutdown:
   * await subscription.close();
   * ```
   */
  onWork(listener: () => void, options: WorkListenerOptions = {}): Promise<WorkSubscription> {
    return listenForWork(this.#pool, this.#channel, listener, options);
  }

  // ---- enqueue --------------------------------------------------------------------------

  async enqueue(input: NewTask, now: number): Promise<EnqueueResult> {
    const json = newTaskJson();
    const task = prepareNewTask(input, now, this.#maxPayloadBytes, json);
    // Checked here, so a bad task fails alone; stored with whatever enqueues arrive meanwhile.
    return this.#enqueues.submit({ task, json });
  }

  async enqueueMany(tasks: readonly NewTask[], now: number): Promise<EnqueueResult[]> {
    // All or nothing: every task is checked before the first is stored, and one statement
    // stores them all. One holder for the JSON texts: the batch copies them out at once.
    const batch = new PreparedBatch(tasks.length);
    const json = newTaskJson();
    for (let i = 0; i < tasks.length; i++) {
      let task: Task;
      try {
        task = prepareNewTask(tasks[i] as NewTask, now, this.#maxPayloadBytes, json);
      } catch (error) {
        throw atTaskIndex(error, i);
      }
      batch.add(task, json);
    }
    if (batch.size === 0) return [];
    return Promise.all(await this.#insert(batch));
  }

  /**
   * Stores checked tasks in one statement (so atomically) and returns each one's result, in
   * order. A duplicate idempotency key is resolved by the unique index, atomically across hosts:
   * the row is skipped (after waiting for another host's transaction holding that key, if it is
   * still open). A task whose key an earlier task of the batch took gets that task; one whose
   * key was stored before gets the stored task, read after the commit (a promise: the statement's
   * snapshot may predate the other host's commit). Should that task have been pruned in between,
   * the task is inserted again.
   */
  async #insert(
    batch: PreparedBatch,
    attempt = 1,
  ): Promise<(EnqueueResult | Promise<EnqueueResult>)[]> {
    const { tasks } = batch;
    const values = batchInsertValues(tasks.length, batch.columns, INSERT_STORED, this.#channel);
    if (!batch.columns.idempotency_key.some((key) => key !== null)) {
      // No key, no conflict: every task is stored, the seqs come back in input order.
      const { rows } = await this.#runInsert<{
        first: string | null;
        n: string;
        seqs: string | null;
      }>(this.#insertKeyless, values);
      const row = rows[0];
      if (row === undefined || Number(row.n) !== tasks.length) {
        throw new AgentdError(
          'E_STORE',
          `stored ${row?.n ?? 0} of ${tasks.length} keyless tasks in one statement`,
        );
      }
      const prefix = await this.#idPrefix();
      const out = new Array<EnqueueResult>(tasks.length);
      // No list when the seqs are consecutive (the statement says so): the i-th got first + i.
      const first = Number(row.first);
      const seqs = row.seqs?.split(',');
      for (let i = 0; i < tasks.length; i++) {
        const task = tasks[i] as Task;
        task.id = prefix + (seqs ? Number(seqs[i]) : first + i).toString(36);
        out[i] = { task, created: true };
      }
      return out;
    }
    const { rows } = await this.#runInsert<{ seq: string; idempotency_key: string | null }>(
      this.#insertKeyed,
      values,
    );
    const prefix = await this.#idPrefix();
    // Inserted rows: by key, and (keyless ones) in seq order, which is input order.
    const byKey = new Map<string, number>();
    const keyless: number[] = [];
    for (const row of rows) {
      if (row.idempotency_key === null) keyless.push(num(row.seq));
      else byKey.set(row.idempotency_key, num(row.seq));
    }
    keyless.sort((a, b) => a - b);
    const out: (EnqueueResult | Promise<EnqueueResult>)[] = [];
    const insertedByKey = new Map<string, Task>();
    const stored: { index: number; key: string }[] = [];
    let next = 0;
    for (const [index, task] of tasks.entries()) {
      const key = jsonSafe(encodeNullable(task.idempotencyKey));
      const seq = key === null ? keyless[next++] : byKey.get(key);
      const earlier = key === null ? undefined : insertedByKey.get(key);
      if (earlier) {
        out.push({ task: structuredClone(earlier), created: false });
      } else if (seq !== undefined) {
        task.id = prefix + seq.toString(36);
        if (key !== null) insertedByKey.set(key, task);
        out.push({ task, created: true });
      } else {
        stored.push({ index, key: key as string });
        out.push({ task, created: false }); // replaced below
      }
    }
    if (stored.length === 0) return out;
    const found = this.#pool
      .query<TaskRow>(
        `SELECT ${TASK_COLUMNS} FROM ${this.#tasks} WHERE idempotency_key = ANY($1::text[])`,
        [[...new Set(stored.map((s) => s.key))]],
      )
      .then(({ rows: existing }) => new Map(existing.map((row) => [row.idempotency_key, row])));
    for (const { index, key } of stored) {
      out[index] = found.then(async (byStoredKey) => {
        const row = byStoredKey.get(key);
        if (row) return { task: toTask(row, prefix), created: false };
        if (attempt >= INSERT_ATTEMPTS) throw keyVanished(key);
        return (await this.#insert(batch.one(index), attempt + 1))[0] as EnqueueResult;
      });
    }
    return out;
  }

  /**
   * Runs one of the two inserts with `values`, by name: the driver sends the text once per
   * connection (Parse), then only the values (Bind), so PostgreSQL parses and plans the
   * statement, about 2 kB of SQL with its CTEs, once per connection instead of once per batch
   * (alternated, 12 rounds of 100 batches of 1,000: its CPU per 1,000 tasks 7.2 -> 6.8 ms).
   * The claims' statements are SQL-level (`PREPARE`, for their simple-protocol queries); these
   * go through the extended protocol, whose values are sent as they are instead of written into
   * the SQL. Behind a pooler in transaction mode a named statement may be missing on the server
   * connection (26000, at Bind) or already there (42P05, at Parse): neither ran the statement,
   * so preparation turns off for the store, as for the claims (PreparedStatements.recover), and
   * the insert runs again unnamed.
   */
  async #runInsert<R extends pg.QueryResultRow>(
    statement: PreparedStatement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.#prepared.enabled) {
      try {
        return await this.#pool.query<R>({ name: statement.name, text: statement.sql, values });
      } catch (error) {
        if (!this.#prepared.recover(error)) throw error;
      }
    }
    return this.#pool.query<R>(statement.sql, values);
  }

  // ---- claim ----------------------------------------------------------------------------

  // The runnable tasks, best first, locked as they are picked. A task of a session is
  // claimable only when no task of that session runs and no earlier one waits to run: an
  // earlier task blocks it once it is due, or if it already started once (a retry keeps its
  // place); one scheduled for later that never started does not. So a session has at most one
  // claimable task in any snapshot, and `FOR UPDATE SKIP LOCKED` hands each row to one host:
  // two hosts claiming at once get different sessions, never two tasks of one session.
  //
  // Why not per-key advisory locks: the rule above already serializes a session through its
  // single claimable row, with no extra lock traffic. What it cannot cover is two hosts whose
  // clocks (`now`) disagree about whether a task is due; the partial unique index
  // tasks_one_running_per_session makes the second of such claims fail instead of running two
  // tasks of one session, and the claim retries (the retry sees the first as running).
  //
  // Without `limit`, its parameters are ($1 now, $2 limit, $3 owner, $4 lease expiry); with one,
  // the limit is written in and they are ($1 now, $2 owner, $3 lease expiry).
  #buildClaimSql(limit?: number): string {
    const [limitSql, owner, expiresAt] =
      limit === undefined ? ['$2', '$3', '$4'] : [limit, '$2', '$3'];
    return `
      WITH picked AS (
        SELECT t.seq FROM ${this.#tasks} t
        WHERE t.status = 'pending' AND t.run_at <= $1
          AND (t.session_key IS NULL OR (
            NOT EXISTS (
              SELECT 1 FROM ${this.#tasks} r
              WHERE r.session_key = t.session_key AND r.status = 'running'
            )
            AND NOT EXISTS (
              SELECT 1 FROM ${this.#tasks} o
              WHERE o.session_key = t.session_key AND o.status = 'pending' AND o.seq < t.seq
                AND (o.run_at <= $1 OR o.attempts > 0)
            )
          ))
        ORDER BY t.priority, t.run_at, t.seq
        LIMIT ${limitSql}
        FOR UPDATE OF t SKIP LOCKED
      ), claimed AS (
        UPDATE ${this.#tasks} t SET status = 'running', attempts = t.attempts + 1, started_at = $1,
          lease_owner = ${owner}, lease_expires_at = ${expiresAt}, lease_process = NULL
        FROM picked WHERE t.seq = picked.seq AND t.status = 'pending'
        RETURNING ${prefixed('t', TASK_COLUMNS)}
      ), ${countMovesSql(this.#counts, 'claimed', "'pending'", "'running'")}
      SELECT * FROM claimed`;
  }

  async claim(request: ClaimRequest): Promise<Task[]> {
    const claim = checkClaim(request);
    return (await this.#claims.submit({ claim })).claimed;
  }

  /** One claim (or completion and claim) in a transaction of its own. */
  async #claimAlone({ claim, complete }: ClaimItem): Promise<ClaimOutcome> {
    try {
      return (
        await this.#retryingClaims(() => this.#claimTogether([{ claim, complete }]))
      )[0] as ClaimOutcome;
    } catch (error) {
      // The claim half failed (a session-key race that outlived its retries, a deadlock
      // between two hosts' claims) and took the completion down with it. A run that succeeded
      // must not be run again for that: complete it alone, then claim alone, or claim nothing.
      // With the database gone, neither can be written: the caller hears so.
      if (!complete || complete.seq === undefined || isConnectionError(error)) throw error;
      const completed = complete.turn
        ? await this.#completeTurnOn(
            complete.seq,
            complete.owner,
            complete.text,
            claim.now,
            complete.turn,
          )
        : await this.#completeOn(
            this.#pool,
            complete.seq,
            complete.owner,
            complete.text,
            claim.now,
          );
      const claimed = await this.#retryingClaims(() => this.#claimOn(this.#pool, claim)).catch(
        (): Task[] => [],
      );
      return { completed, claimed };
    }
  }

  /**
   * Claims (and completions) that arrived together, in one transaction, as if made one after
   * another: every completion first (one statement), then one claim statement per distinct
   * owner, time and lease, for all the tasks its callers asked for, dealt out in claim order.
   * The statements travel in one simple query (see inlineParams): one round trip, one commit.
   * Any error (a session-key race with another host, see the claim's comment) rolls it all
   * back, and each is then made on its own.
   */
  async #claimTogether(items: readonly ClaimItem[]): Promise<ClaimOutcome[]> {
    const firstOfSeq = new Map<number, ClaimItem>();
    const columns: [number[], (string | null)[], boolean[], string[], number[]] = [
      [],
      [],
      [],
      [],
      [],
    ];
    const turns = new TurnColumns();
    for (const item of items) {
      const seq = item.complete?.seq;
      if (item.complete === undefined || seq === undefined || firstOfSeq.has(seq)) continue;
      // A task completed twice in one batch completes once, by the first, as one by one.
      firstOfSeq.set(seq, item);
      columns[0].push(seq);
      columns[1].push(item.complete.text);
      columns[2].push(resultOwesReply(item.complete.text));
      columns[3].push(encodeText(item.complete.owner));
      columns[4].push(item.claim.now);
      if (item.complete.turn) turns.add(seq, item.complete.turn);
    }
    const groups = new Map<string, { claim: CheckedClaim; items: ClaimItem[] }>();
    for (const item of items) {
      const { owner, now, expiresAt } = item.claim;
      const key = `${expiresAt}:${now}:${owner}`;
      const group = groups.get(key);
      if (group) {
        group.claim = { ...group.claim, limit: group.claim.limit + item.claim.limit };
        group.items.push(item);
      } else groups.set(key, { claim: item.claim, items: [item] });
    }
    const completing = columns[0].length > 0;
    const claims = [...groups.values()];
    const query = async (client: pg.PoolClient) => {
      const statements: string[] = [];
      if (completing) {
        statements.push(
          turns.empty
            ? await this.#prepared.text(client, this.#complete, columns)
            : await this.#prepared.text(client, this.#completeTurns, [
                ...columns,
                ...turns.columns(),
              ]),
        );
      }
      if (claims.some((g) => g.claim.limit > 1)) statements.push(CLAIM_IN_INDEX_ORDER);
      for (const { claim } of claims) statements.push(await this.#claimText(client, claim));
      return eachResult(await client.query<TaskRow & { seq: string }>(statements.join(';\n')));
    };
    const client = await this.#pool.connect();
    let results: pg.QueryResult<TaskRow & { seq: string }>[];
    try {
      try {
        results = await query(client);
      } catch (error) {
        // A pooler moved the prepared statements away: the query changed nothing, run it again
        // with the values written in.
        if (!this.#prepared.recover(error)) throw error;
        results = await query(client);
      }
      client.release();
    } catch (error) {
      // As pool.query does: a connection that failed a query is not handed out again.
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    const completed = new Set(completing ? results[0]?.rows.map((row) => num(row.seq)) : []);
    const claimResults = results.slice(results.length - claims.length);
    const claimedBy = new Map<ClaimItem, Task[]>();
    for (const [g, { items: members }] of claims.entries()) {
      const claimed = await this.#claimedTasks(claimResults[g]?.rows ?? []);
      for (const item of members) claimedBy.set(item, claimed.splice(0, item.claim.limit));
    }
    return items.map((item) => {
      const seq = item.complete?.seq;
      return {
        completed: seq !== undefined && firstOfSeq.get(seq) === item && completed.has(seq),
        claimed: claimedBy.get(item) ?? [],
      };
    });
  }

  /** One claim statement of a shared query: prepared for the claim's limit when small enough. */
  async #claimText(client: pg.PoolClient, claim: CheckedClaim): Promise<string> {
    const values = [claim.now, claim.owner, claim.expiresAt];
    if (claim.limit > PREPARED_CLAIM_LIMIT || !this.#prepared.enabled) {
      return inlineParams(this.#claimSql, [claim.now, claim.limit, claim.owner, claim.expiresAt]);
    }
    let statement = this.#claimByLimit.get(claim.limit);
    if (!statement) {
      statement = this.#prepared.define(this.#buildClaimSql(claim.limit), CLAIM_PARAM_TYPES);
      this.#claimByLimit.set(claim.limit, statement);
    }
    return this.#prepared.text(client, statement, values);
  }

  /**
   * Runs `fn` (which claims), again when a claim met a session key another host just started
   * (see the claim's comment): the next try sees that task running and skips its session.
   */
  async #retryingClaims<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt < CLAIM_ATTEMPTS && isUniqueViolation(error, 'tasks_one_running_per_session')) {
          continue;
        }
        throw error;
      }
    }
  }

  async #claimOn(q: Queryable, claim: CheckedClaim): Promise<Task[]> {
    const { rows } = await q.query<TaskRow>(this.#claimSql, [
      claim.now,
      claim.limit,
      claim.owner,
      claim.expiresAt,
    ]);
    return this.#claimedTasks(rows);
  }

  #claimedTasks(rows: TaskRow[]): Promise<Task[]> {
    // RETURNING keeps no order: back to claim order.
    rows.sort(
      (a, b) => a.priority - b.priority || num(a.run_at) - num(b.run_at) || num(a.seq) - num(b.seq),
    );
    return this.#toTasks(rows);
  }

  // ---- leases and endings ---------------------------------------------------------------

  async renewLease(id: string, owner: string, expiresAt: number): Promise<boolean> {
    const until = checkTaskTime(expiresAt, 'expiresAt');
    const seq = await this.#seqOf(id);
    if (seq === undefined) return false;
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.#tasks} SET lease_expires_at = $1
       WHERE seq = $2 AND status = 'running' AND lease_owner = $3`,
      [until, seq, encodeText(String(owner))],
    );
    return (rowCount ?? 0) > 0;
  }

  async complete(
    id: string,
    owner: string,
    result: JsonValue | null,
    now: number,
  ): Promise<boolean> {
    const text = taskResultText(result);
    const at = checkTaskTime(now, 'now');
    const seq = await this.#seqOf(id);
    if (seq === undefined) return false;
    return this.#completeOn(this.#pool, seq, String(owner), text, at);
  }

  /** Ends a held task `completed`; with a result to tell, the reply it owes is the same statement. */
  async #completeOn(
    q: Queryable,
    seq: number,
    owner: string,
    text: string | null,
    at: number,
  ): Promise<boolean> {
    const { rows } = await q.query<{ n: string }>(
      `WITH done AS (
         UPDATE ${this.#tasks} SET status = 'completed', finished_at = $1, result = $2,
           lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
         WHERE seq = $3 AND status = 'running' AND lease_owner = $4
         RETURNING seq, priority, reply_to
       ), ${countMovesSql(this.#counts, 'done', "'running'", "'completed'")}, owed AS (
         INSERT INTO ${this.#replies} (seq, due_at)
         SELECT seq, $5 FROM done WHERE $6 AND reply_to IS NOT NULL
         ON CONFLICT (seq) DO NOTHING
       )
       SELECT count(*) AS n FROM done`,
      [at, text, seq, encodeText(owner), at + REPLY_HOLD_MS, resultOwesReply(text)],
    );
    return num(rows[0]?.n ?? 0) > 0;
  }

  async completeAndClaim(
    id: string,
    owner: string,
    result: JsonValue | null,
    request: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }> {
    const text = taskResultText(result);
    const claim = checkClaim(request);
    const seq = await this.#seqOf(id);
    // With what other runners' workers finish meanwhile: one transaction, one commit.
    return this.#claims.submit({ claim, complete: { seq, owner: String(owner), text } });
  }

  async completeTurnAndClaim(
    id: string,
    owner: string,
    result: JsonValue | null,
    turn: SessionTurn,
    request: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }> {
    const text = taskResultText(result);
    for (const entry of turn.entries) checkHistoryEntry(entry);
    const claim = checkClaim(request);
    const seq = await this.#seqOf(id);
    // The history keeps entries as they are, and PostgreSQL's text cannot hold NUL: such a turn
    // cannot be stored (as by the session store's recordTurn); the completion still is.
    const storable = !turn.entries.some((e) => e.content.includes(NUL));
    if (!storable) {
      this.#warn(`session ${turn.sessionId}: a turn with a NUL character was not recorded`);
    }
    const complete = { seq, owner: String(owner), text, ...(storable && { turn }) };
    return this.#claims.submit({ claim, complete });
  }

  /** A completion with its session turn, in one statement of its own (see batchCompleteTurnsSql). */
  async #completeTurnOn(
    seq: number,
    owner: string,
    text: string | null,
    at: number,
    turn: SessionTurn,
  ): Promise<boolean> {
    const turns = new TurnColumns();
    turns.add(seq, turn);
    const { rows } = await this.#pool.query<{ seq: string }>(this.#completeTurnsSql, [
      [seq],
      [text],
      [resultOwesReply(text)],
      [encodeText(owner)],
      [at],
      ...turns.columns(),
    ]);
    return rows.length > 0;
  }

  async completeMany(
    items: readonly { id: string; result: JsonValue | null }[],
    owner: string,
    now: number,
  ): Promise<number> {
    // Every result is checked before anything is written.
    const texts = items.map((item) => taskResultText(item.result));
    const at = checkTaskTime(now, 'now');
    const seqs: number[] = [];
    const results: (string | null)[] = [];
    const owes: boolean[] = [];
    const seen = new Set<number>();
    // The prefix read once, not awaited per task: a batch is up to thousands of ids.
    const prefix = await this.#idPrefix();
    for (const [i, item] of items.entries()) {
      const seq = seqIn(prefix, item.id);
      // A task listed twice completes once, with its first result, as one by one.
      if (seq === undefined || seen.has(seq)) continue;
      seen.add(seq);
      const text = texts[i] ?? null;
      seqs.push(seq);
      results.push(text);
      owes.push(resultOwesReply(text));
    }
    if (seqs.length === 0) return 0;
    const { rows } = await this.#pool.query<{ n: string }>(
      `WITH done AS (
         UPDATE ${this.#tasks} t SET status = 'completed', finished_at = $1, result = v.result,
           lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
         FROM unnest($2::bigint[], $3::text[], $4::boolean[]) AS v(seq, result, owes)
         WHERE t.seq = v.seq AND t.status = 'running' AND t.lease_owner = $5
         RETURNING t.seq, t.priority, t.reply_to, v.owes
       ), ${countMovesSql(this.#counts, 'done', "'running'", "'completed'")}, owed AS (
         INSERT INTO ${this.#replies} (seq, due_at)
         SELECT seq, $6 FROM done WHERE owes AND reply_to IS NOT NULL
         ON CONFLICT (seq) DO NOTHING
       )
       SELECT count(*) AS n FROM done`,
      [at, seqs, results, owes, encodeText(String(owner)), at + REPLY_HOLD_MS],
    );
    return num(rows[0]?.n ?? 0);
  }

  async fail(
    id: string,
    owner: string,
    error: TaskError,
    options: FailOptions,
  ): Promise<Task | undefined> {
    const retryAt =
      options.retryAt === undefined ? null : checkTaskTime(options.retryAt, 'retryAt');
    const now = checkTaskTime(options.now, 'now');
    const errorText = taskErrorText(error);
    const seq = await this.#seqOf(id);
    if (seq === undefined) return undefined;
    const { rows } = await this.#pool.query<TaskRow>(
      `WITH ended AS (
         UPDATE ${this.#tasks} SET
           status = CASE WHEN $1::bigint IS NOT NULL AND attempts < max_attempts THEN 'pending' ELSE 'failed' END,
           run_at = CASE WHEN $1::bigint IS NOT NULL AND attempts < max_attempts THEN $1::bigint ELSE run_at END,
           finished_at = CASE WHEN $1::bigint IS NOT NULL AND attempts < max_attempts THEN NULL ELSE $2::bigint END,
           error = $3, lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
         WHERE seq = $4 AND status = 'running' AND lease_owner = $5
         RETURNING ${TASK_COLUMNS}
       ), ${countMovesSql(this.#counts, 'ended', "'running'", 'status')}, owed AS (
         INSERT INTO ${this.#replies} (seq, due_at)
         SELECT seq, $6 FROM ended WHERE status = 'failed' AND reply_to IS NOT NULL
         ON CONFLICT (seq) DO NOTHING
       )
       SELECT * FROM ended`,
      [retryAt, now, errorText, seq, encodeText(String(owner)), now + REPLY_HOLD_MS],
    );
    // A retry is work again (at its retryAt): hosts sleeping until a later run-at should know.
    if (rows[0]?.status === 'pending') await this.#wake(this.#pool);
    return this.#toTask(rows[0]);
  }

  async cancel(id: string, now: number): Promise<Task | undefined> {
    const at = checkTaskTime(now, 'now');
    const seq = await this.#seqOf(id);
    if (seq === undefined) return undefined;
    const rows = await this.#changeStatus(
      seq,
      ['pending', 'held', 'running'],
      `status = 'cancelled', finished_at = $3::bigint, lease_owner = NULL, lease_expires_at = NULL,
         lease_process = NULL`,
      [at],
    );
    return this.#toTask(rows[0]);
  }

  async hold(id: string): Promise<Task | undefined> {
    return this.#changeHold(id, 'held', notHoldable);
  }

  async release(id: string): Promise<Task | undefined> {
    const task = await this.#changeHold(id, 'pending', notReleasable);
    // Work again (due, or at its run-at): hosts sleeping until a later run-at should know.
    if (task) await this.#wake(this.#pool);
    return task;
  }

  /**
   * Moves a pending or held task to `status`, every other column kept (a held task leaves the
   * claim indexes, which are on pending tasks only); a task it does not match is unknown, or
   * refused with `refusal`.
   */
  async #changeHold(
    id: string,
    status: 'held' | 'pending',
    refusal: (id: string, status: TaskStatus) => Error,
  ): Promise<Task | undefined> {
    const seq = await this.#seqOf(id);
    if (seq === undefined) return undefined;
    const rows = await this.#changeStatus(seq, ['pending', 'held'], 'status = $3::text', [status]);
    if (rows[0]) return this.#toTask(rows[0]);
    const current = await this.get(id);
    if (current) throw refusal(id, current.status);
    return undefined;
  }

  /**
   * Sets `assignments` on the task `seq` if its status is one of `from`, and moves its count
   * from the status it had: that status is read under the row's lock first, in the same
   * transaction (off the hot path: cancel, hold, release). Parameters from $3 are `values`.
   */
  async #changeStatus(
    seq: number,
    from: readonly TaskStatus[],
    assignments: string,
    values: readonly unknown[],
  ): Promise<TaskRow[]> {
    return this.#tx(async (client) => {
      const { rows: was } = await client.query<{ status: TaskStatus }>(
        `SELECT status FROM ${this.#tasks} WHERE seq = $1 AND status = ANY($2::text[]) FOR UPDATE`,
        [seq, from],
      );
      if (!was[0]) return [];
      const { rows } = await client.query<TaskRow>(
        `WITH changed AS (
           UPDATE ${this.#tasks} SET ${assignments} WHERE seq = $1 AND status = $2
           RETURNING ${TASK_COLUMNS}
         ), ${countMovesSql(this.#counts, 'changed', '$2::text', 'status')}
         SELECT * FROM changed`,
        [seq, was[0].status, ...values],
      );
      return rows;
    });
  }

  // ---- reads ----------------------------------------------------------------------------

  async get(id: string): Promise<Task | undefined> {
    const seq = await this.#seqOf(id);
    if (seq === undefined) return undefined;
    const { rows } = await this.#pool.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM ${this.#tasks} WHERE seq = $1`,
      [seq],
    );
    return this.#toTask(rows[0]);
  }

  async findByIdempotencyKey(key: string): Promise<Task | undefined> {
    if (typeof key !== 'string') return undefined;
    const { rows } = await this.#pool.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM ${this.#tasks} WHERE idempotency_key = $1`,
      [encodeText(key)],
    );
    return this.#toTask(rows[0]);
  }

  async list(query: TaskQuery = {}): Promise<Task[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
      throw new AgentdError('E_INVALID_QUERY', 'limit and offset must be integers of at least 0');
    }
    // Off the hot path, with filters that vary: built with Kysely.
    let select = this.#db
      .withSchema(this.#schema)
      .selectFrom('tasks')
      .select(TASK_COLUMN_LIST)
      .orderBy('seq', query.order === 'oldest' ? 'asc' : 'desc')
      .limit(limit)
      .offset(offset);
    if (query.status !== undefined) {
      const statuses = typeof query.status === 'string' ? [query.status] : [...query.status];
      if (statuses.length === 0) return [];
      select = select.where('status', 'in', statuses);
    }
    if (query.agent !== undefined) select = select.where('agent', '=', encodeText(query.agent));
    if (query.sessionKey !== undefined) {
      select = select.where('session_key', '=', encodeText(query.sessionKey));
    }
    if (query.type !== undefined) select = select.where('type', '=', encodeText(query.type));
    const rows = await select.execute();
    return this.#toTasks(rows);
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
      TaskStatus,
      number
    >;
    const { rows } = await this.#pool.query<{ status: TaskStatus; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.#tasks} GROUP BY status`,
    );
    for (const row of rows) counts[row.status] = num(row.n);
    return counts;
  }

  /** From `task_counts` (moved by the statements that change tasks, see task-stats.ts) and four index probes. */
  stats(now: number): Promise<TaskStats> {
    return this.#stats.read(now);
  }

  /** See {@link PostgresTaskStats.reconcile}: counts corrected for changes nobody counted. */
  reconcileCounts(): Promise<number> {
    return this.#stats.reconcile();
  }

  // ---- recovery -------------------------------------------------------------------------

  async recoverExpired(now: number, options: RecoverOptions = {}): Promise<RecoveryReport> {
    const at = checkTaskTime(now, 'now');
    const gone = [
      ...new Set((options.owners ?? []).filter((o) => typeof o === 'string' && o !== '')),
    ].map(encodeText);
    const report: RecoveryReport = { requeued: [], failed: [] };
    const prefix = await this.#idPrefix();
    await this.#tx(async (client) => {
      // Leases read and ended under row locks; rows another host is recovering (or renewing)
      // right now are skipped, not waited for: that host deals with them.
      const { rows } = await client.query<{
        seq: string;
        lease_owner: string | null;
        lease_expires_at: string | null;
        attempts: number;
        max_attempts: number;
      }>(
        `SELECT seq, lease_owner, lease_expires_at, attempts, max_attempts FROM ${this.#tasks}
         WHERE status = 'running' AND (lease_expires_at <= $1 OR lease_owner = ANY($2::text[]))
         ORDER BY seq
         FOR UPDATE SKIP LOCKED`,
        [at, gone],
      );
      if (rows.length === 0) return;
      const seqs: number[] = [];
      const errors: string[] = [];
      for (const row of rows) {
        const expired = num(row.lease_expires_at ?? 0) <= at;
        seqs.push(num(row.seq));
        errors.push(JSON.stringify(recoveryError(decodeNullable(row.lease_owner), expired)));
        const id = prefix + num(row.seq).toString(36);
        // The attempt was counted by the claim: a requeued task waits for its next claim.
        if (row.attempts < row.max_attempts) report.requeued.push(id);
        else report.failed.push(id);
      }
      await client.query(
        `WITH ended AS (
           UPDATE ${this.#tasks} t SET
             status = CASE WHEN t.attempts < t.max_attempts THEN 'pending' ELSE 'failed' END,
             finished_at = CASE WHEN t.attempts < t.max_attempts THEN NULL ELSE $1::bigint END,
             error = e.error, lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
           FROM unnest($2::bigint[], $3::text[]) AS e(seq, error)
           WHERE t.seq = e.seq
           RETURNING t.seq, t.status, t.priority, t.reply_to
         ), ${countMovesSql(this.#counts, 'ended', "'running'", 'status')}
         INSERT INTO ${this.#replies} (seq, due_at)
         SELECT seq, $4 FROM ended WHERE status = 'failed' AND reply_to IS NOT NULL
         ON CONFLICT (seq) DO NOTHING`,
        [at, seqs, errors, at + REPLY_HOLD_MS],
      );
      if (report.requeued.length > 0) await this.#wake(client);
    });
    return report;
  }

  async recordLeaseProcess(id: string, owner: string, process: JsonObject): Promise<boolean> {
    if (typeof process !== 'object' || process === null || Array.isArray(process)) {
      throw new AgentdError('E_INVALID_PROCESS', 'the process record must be a plain object');
    }
    const text = toJsonText(process, 'process', 'E_INVALID_PROCESS');
    const seq = await this.#seqOf(id);
    if (seq === undefined) return false;
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.#tasks} SET lease_process = $1
       WHERE seq = $2 AND status = 'running' AND lease_owner = $3`,
      [text, seq, encodeText(String(owner))],
    );
    return (rowCount ?? 0) > 0;
  }

  async listLeases(): Promise<LeaseInfo[]> {
    const prefix = await this.#idPrefix();
    const { rows } = await this.#pool.query<{
      seq: string;
      lease_owner: string | null;
      lease_expires_at: string | null;
      lease_process: string | null;
    }>(
      `SELECT seq, lease_owner, lease_expires_at, lease_process FROM ${this.#tasks}
       WHERE status = 'running' ORDER BY lease_expires_at, seq`,
    );
    return rows.map((row) => ({
      taskId: prefix + num(row.seq).toString(36),
      owner: decodeNullable(row.lease_owner) ?? '',
      expiresAt: num(row.lease_expires_at ?? 0),
      process: row.lease_process === null ? null : parseJson<JsonObject>(row.lease_process),
    }));
  }

  async prune(options: {
    before: number;
    statuses: readonly ('completed' | 'failed' | 'cancelled')[];
    limit?: number;
  }): Promise<number> {
    const plan = preparePrune(options);
    if (!plan) return 0;
    const { statuses, limit, before } = plan;
    // Oldest first; replies still owed go with their task (ON DELETE CASCADE).
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#tasks} WHERE seq IN (
         SELECT seq FROM ${this.#tasks}
         WHERE status = ANY($1::text[]) AND finished_at < $2
         ORDER BY seq LIMIT $3
         FOR UPDATE SKIP LOCKED
       )`,
      [statuses, before, limit],
    );
    return rowCount ?? 0;
  }

  async nextRunAt(now: number): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ next: string | null }>(
      // One seek into tasks_claim per priority instead of a scan of every pending task.
      `SELECT least(${[0, 1, 2, 3]
        .map(
          (p) =>
            `(SELECT min(run_at) FROM ${this.#tasks} WHERE status = 'pending' AND priority = ${p} AND run_at > $1)`,
        )
        .join(', ')}) AS next`,
      [checkTaskTime(now, 'now')],
    );
    const next = rows[0]?.next ?? null;
    return next === null ? undefined : num(next);
  }

  // ---- the reply outbox -----------------------------------------------------------------

  async claimReplies(request: {
    now: number;
    leaseMs: number;
    limit?: number;
  }): Promise<OwedReply[]> {
    const limit = checkClaimLimit(request.limit ?? 50, request.leaseMs);
    const now = checkTaskTime(request.now, 'now');
    const heldUntil = Math.floor(request.now + request.leaseMs);
    // Picked and held in one statement; SKIP LOCKED hands each reply to one deliverer.
    const { rows } = await this.#pool.query<TaskRow & { reply_attempts: number; was_due: string }>(
      `WITH due AS (
         SELECT seq, due_at FROM ${this.#replies}
         WHERE due_at <= $1 ORDER BY due_at, seq LIMIT $2
         FOR UPDATE SKIP LOCKED
       ), held AS (
         UPDATE ${this.#replies} r SET due_at = $3 FROM due WHERE r.seq = due.seq
         RETURNING r.seq, r.attempts, due.due_at AS was_due
       )
       SELECT ${prefixed('t', TASK_COLUMNS)}, held.attempts AS reply_attempts, held.was_due
       FROM held JOIN ${this.#tasks} t ON t.seq = held.seq
       ORDER BY held.was_due, held.seq`,
      [now, limit, heldUntil],
    );
    const prefix = await this.#idPrefix();
    return rows.map((row) => ({ task: toTask(row, prefix), attempts: row.reply_attempts }));
  }

  async recordReply(id: string, outcome: ReplyOutcome): Promise<void> {
    const seq = await this.#seqOf(id);
    if (seq === undefined) return;
    if ('retryAt' in outcome) {
      const dueAt = checkTaskTime(outcome.retryAt, 'retryAt');
      await this.#pool.query(
        `UPDATE ${this.#replies} SET due_at = $1, attempts = attempts + 1 WHERE seq = $2`,
        [dueAt, seq],
      );
    } else {
      // A settled reply leaves the outbox: it holds only what is owed.
      await this.#pool.query(`DELETE FROM ${this.#replies} WHERE seq = $1`, [seq]);
    }
  }

  async countOwedReplies(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.#replies}`,
    );
    return num(rows[0]?.n ?? 0);
  }

  async recordAnswer(answer: NewAnswer, now: number): Promise<EnqueueResult> {
    const prepared = prepareAnswer(answer, now);
    const { task } = prepared;
    for (;;) {
      // The answer and the reply it owes: one statement, one commit. The conflict target
      // fits the key's UNIQUE constraint and a partial index alike (see batchInsertSql).
      const { rows } = await this.#pool.query<{ seq: string }>(
        `WITH added AS (
           INSERT INTO ${this.#tasks} (input, description, type, agent, priority, status,
             attempts, max_attempts, created_at, run_at, started_at, finished_at, result,
             idempotency_key, reply_to, metadata)
           VALUES ('null', $1, $2, NULL, $3, 'completed', 0, $4, $5, $5, $5, $5, $6, $7, $8, $9)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING seq, status, priority
         ), ${countAddsSql(this.#counts, 'added')}, owed AS (
           INSERT INTO ${this.#replies} (seq, due_at) SELECT seq, $10 FROM added WHERE $11
         )
         SELECT seq FROM added`,
        [
          encodeText(task.description),
          encodeText(task.type),
          task.priority,
          task.maxAttempts,
          task.createdAt,
          prepared.resultText,
          encodeText(answer.idempotencyKey),
          prepared.replyToText,
          prepared.metadataText,
          task.createdAt + REPLY_HOLD_MS,
          prepared.owesReply,
        ],
      );
      const row = rows[0];
      if (row) {
        task.id = (await this.#idPrefix()) + num(row.seq).toString(36);
        return { task, created: true };
      }
      const existing = await this.findByIdempotencyKey(answer.idempotencyKey);
      if (existing) return { task: existing, created: false };
    }
  }

  // ---- dead letters ---------------------------------------------------------------------

  async addDeadLetter(
    letter: NewDeadLetter,
    now: number,
  ): Promise<{ letter: DeadLetter; created: boolean }> {
    const prepared = prepareDeadLetter(letter);
    const createdAt = checkTaskTime(now, 'now');
    for (;;) {
      const { rows } = await this.#pool.query<LetterRow>(
        `INSERT INTO ${this.#letters} (channel, key, code, reason, raw, raw_bytes, truncated,
           reply_to, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (key) DO NOTHING
         RETURNING *`,
        [
          encodeText(prepared.channel),
          encodeNullable(prepared.key),
          encodeText(prepared.code),
          encodeText(prepared.reason),
          encodeText(prepared.raw),
          prepared.rawBytes,
          prepared.truncated,
          prepared.replyTo,
          createdAt,
        ],
      );
      if (rows[0]) return { letter: toLetter(rows[0]), created: true };
      const existing = await this.#pool.query<LetterRow>(
        `SELECT * FROM ${this.#letters} WHERE key = $1`,
        [encodeNullable(prepared.key)],
      );
      if (existing.rows[0]) return { letter: toLetter(existing.rows[0]), created: false };
    }
  }

  async listDeadLetters(query?: {
    status?: DeadLetterStatus | readonly DeadLetterStatus[];
    limit?: number;
  }): Promise<DeadLetter[]> {
    const { statuses, limit } = checkDeadLetterQuery(query);
    const { rows } = await this.#pool.query<LetterRow>(
      `SELECT * FROM ${this.#letters}
       WHERE cardinality($1::text[]) = 0 OR status = ANY($1::text[])
       ORDER BY seq DESC LIMIT $2`,
      [[...statuses], limit],
    );
    return rows.map(toLetter);
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const seq = letterSeq(id);
    if (seq === undefined) return undefined;
    const { rows } = await this.#pool.query<LetterRow>(
      `SELECT * FROM ${this.#letters} WHERE seq = $1`,
      [seq],
    );
    return rows[0] && toLetter(rows[0]);
  }

  async settleDeadLetter(
    id: string,
    status: 'discarded' | 'retried',
    now: number,
  ): Promise<DeadLetter | undefined> {
    const settled = checkSettleStatus(status);
    const seq = letterSeq(id);
    if (seq === undefined) return undefined;
    const { rows } = await this.#pool.query<LetterRow>(
      `UPDATE ${this.#letters} SET status = $1, settled_at = $2
       WHERE seq = $3 AND status = 'open' RETURNING *`,
      [settled, Math.floor(now), seq],
    );
    return rows[0] && toLetter(rows[0]);
  }

  async countOpenDeadLetters(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.#letters} WHERE status = 'open'`,
    );
    return num(rows[0]?.n ?? 0);
  }
}

/** The seq in task id `id` of a store whose ids start with `prefix`, or undefined. */
function seqIn(prefix: string, id: string): number | undefined {
  if (typeof id !== 'string' || !id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  const seq = Number.parseInt(digits, 36);
  // Round trip: rejects "", "01a", "1a!" and anything past the safe integers.
  return Number.isSafeInteger(seq) && seq > 0 && seq.toString(36) === digits ? seq : undefined;
}

/** `a, b` as `t.a, t.b`. */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');
}

function toTask(row: TaskRow, prefix: string): Task {
  return {
    id: prefix + num(row.seq).toString(36),
    input: parseJson(row.input),
    description: decodeText(row.description),
    type: decodeText(row.type),
    agent: decodeNullable(row.agent),
    priority: row.priority as TaskPriority,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: num(row.created_at),
    runAt: num(row.run_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    result: row.result === null ? null : parseJson(row.result),
    error: row.error === null ? null : parseJson<TaskError>(row.error),
    idempotencyKey: decodeNullable(row.idempotency_key),
    sessionKey: decodeNullable(row.session_key),
    replyTo: row.reply_to === null ? null : parseJson<Address>(row.reply_to),
    metadata: parseJson<JsonObject>(row.metadata),
    leaseOwner: decodeNullable(row.lease_owner),
    leaseExpiresAt: numOrNull(row.lease_expires_at),
  };
}

function letterSeq(id: string): number | undefined {
  if (typeof id !== 'string' || !id.startsWith('dl_')) return undefined;
  const digits = id.slice(3);
  const seq = Number(digits);
  return Number.isSafeInteger(seq) && seq > 0 && String(seq) === digits ? seq : undefined;
}

function toLetter(row: LetterRow): DeadLetter {
  return {
    id: `dl_${row.seq}`,
    channel: decodeText(row.channel),
    key: decodeNullable(row.key),
    code: decodeText(row.code),
    reason: decodeText(row.reason),
    raw: decodeText(row.raw),
    rawBytes: row.raw_bytes,
    truncated: row.truncated,
    replyTo: row.reply_to === null ? null : parseJson<Address>(row.reply_to),
    status: row.status,
    createdAt: num(row.created_at),
    settledAt: numOrNull(row.settled_at),
  };
}

/** A claim request, checked by core's rules and ready to bind. */
interface CheckedClaim {
  owner: string;
  limit: number;
  now: number;
  expiresAt: number;
}

function checkClaim(request: ClaimRequest): CheckedClaim {
  const owner = checkClaimOwner(request.owner);
  const limit = checkClaimLimit(request.limit ?? 1, request.leaseMs);
  const now = checkTaskTime(request.now, 'now');
  return {
    owner: encodeText(owner),
    limit,
    now,
    expiresAt: Math.floor(request.now + request.leaseMs),
  };
}

/** The session turns of a shared completion, column by column (see batchCompleteTurnsSql). */
class TurnColumns {
  readonly #seqs: number[] = [];
  readonly #sessions: string[] = [];
  readonly #ats: number[] = [];
  readonly #entrySeqs: number[] = [];
  readonly #entrySessions: string[] = [];
  readonly #roles: string[] = [];
  readonly #contents: string[] = [];
  readonly #entryAts: number[] = [];
  readonly #taskIds: (string | null)[] = [];

  get empty(): boolean {
    return this.#seqs.length === 0;
  }

  add(seq: number, turn: SessionTurn): void {
    this.#seqs.push(seq);
    this.#sessions.push(turn.sessionId);
    this.#ats.push(turn.lastActivityAt);
    for (const e of turn.entries) {
      this.#entrySeqs.push(seq);
      this.#entrySessions.push(turn.sessionId);
      this.#roles.push(e.role);
      this.#contents.push(e.content);
      this.#entryAts.push(e.at);
      this.#taskIds.push(e.taskId ?? null);
    }
  }

  /** Parameters $6 to $14. */
  columns(): InlineValue[] {
    return [
      this.#seqs,
      this.#sessions,
      this.#ats,
      this.#entrySeqs,
      this.#entrySessions,
      this.#roles,
      this.#contents,
      this.#entryAts,
      this.#taskIds,
    ];
  }
}
