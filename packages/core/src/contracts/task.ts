import { AgentdError } from '../kernel/errors.js';
import { createToken } from '../kernel/token.js';
import type { Address } from './channel.js';
import type { JsonObject, JsonValue } from './json.js';
import type { SessionTurn } from './session.js';

/**
 * Where a task is in its life. `completed`, `failed` and `cancelled` are final. `held` is a
 * pending task an operator put on hold ({@link TaskStore.hold}): never claimed until released,
 * with its run-at, priority and session key kept.
 */
export type TaskStatus = 'pending' | 'held' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every status, in life order. */
export const TASK_STATUSES: readonly TaskStatus[] = [
  'pending',
  'held',
  'running',
  'completed',
  'failed',
  'cancelled',
];

/** 0 critical, 1 high, 2 normal (default), 3 low. Lower runs first. */
export type TaskPriority = 0 | 1 | 2 | 3;

/** Names for the priorities, for configs and CLIs. */
export const TaskPriorities = { critical: 0, high: 1, normal: 2, low: 3 } as const;

/**
 * The most attempts a caller may ask for (`maxAttempts`) through the HTTP API, webhooks and the
 * CLI: more would only keep a broken task retrying for days.
 *
 * @example
 * ```ts
 * z.number().int().min(1).max(MAX_TASK_ATTEMPTS);
 * ```
 */
export const MAX_TASK_ATTEMPTS = 100;

/** What a failed attempt left behind. */
export interface TaskError {
  /** Error class name or classifier class, e.g. `TimeoutError`, `rate_limit`. */
  name: string;
  message: string;
}

/** What a caller gives to enqueue a task. Only `input` (or `description`) is required. */
export interface NewTask {
  /** The agent's input: any JSON value (a chat text, a webhook payload). */
  input?: JsonValue;
  /** Human-readable summary for lists and alerts; defaults to a text `input`. */
  description?: string;
  /** Where the task came from: `message`, `webhook`, `schedule`, `reminder`, `manual`... */
  type?: string;
  /** Name of the agent that runs it; the host's default agent when absent. */
  agent?: string;
  priority?: TaskPriority;
  /** Epoch ms before which the task must not start (reminders, backoff). */
  runAt?: number;
  /** Attempts before the task ends `failed` (default 3, at least 1). */
  maxAttempts?: number;
  /** Enqueueing the same key twice returns the existing task instead of a new one. */
  idempotencyKey?: string;
  /** Tasks with the same key run one at a time, in enqueue order. */
  sessionKey?: string;
  /** Where the result is sent when the task completes. */
  replyTo?: Address;
  metadata?: JsonObject;
  /**
   * Set when `input` and `metadata` were made for this task alone (parsed from a request body,
   * built for it) and the caller will neither change nor keep them. They are checked and stored
   * like any others, but the task the store returns then holds them as they are instead of
   * copies parsed back from the stored text: one `JSON.parse` per object saved where tasks
   * arrive fastest (webhook intake). They must be JSON as `JSON.parse` makes it (no `undefined`
   * property, no `-0`), or the returned task differs from the one read back later.
   */
  handedOver?: boolean;
}

/** A stored task. Times are epoch milliseconds. */
export interface Task {
  id: string;
  input: JsonValue;
  description: string;
  type: string;
  agent: string | null;
  priority: TaskPriority;
  status: TaskStatus;
  /** Attempts started so far (a claim counts one). */
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  runAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  result: JsonValue | null;
  error: TaskError | null;
  idempotencyKey: string | null;
  sessionKey: string | null;
  replyTo: Address | null;
  metadata: JsonObject;
  /** Runner instance holding the lease while `running`. */
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
}

/** Result of an enqueue: the task, and whether this call created it. */
export interface EnqueueResult {
  task: Task;
  /** `false` when the idempotency key matched an existing task. */
  created: boolean;
}

/** How a runner claims work. */
export interface ClaimRequest {
  /** Unique id of the claiming runner (host instance + boot). */
  owner: string;
  /** Lease length; the runner renews it while the task runs. */
  leaseMs: number;
  /** Maximum tasks to claim at once (default 1). */
  limit?: number;
  /** Current time (from the Clock), so tests control it. */
  now: number;
}

/** How a failed attempt ends. */
export interface FailOptions {
  /** Retry at this time (epoch ms) if attempts remain; omit to fail for good. */
  retryAt?: number;
  now: number;
}

/** Filter for {@link TaskStore.list}. */
export interface TaskQuery {
  status?: TaskStatus | readonly TaskStatus[];
  agent?: string;
  sessionKey?: string;
  type?: string;
  /** Newest first by default. */
  order?: 'newest' | 'oldest';
  limit?: number;
  /** Skip this many (simple paging). */
  offset?: number;
}

/**
 * Filter and position of {@link TaskStore.pageTasks}: newest first, keyset paging (a cursor,
 * not an offset, so page 1,000 costs what page 1 costs).
 *
 * @example
 * ```ts
 * const first = await store.tasks.pageTasks?.({ status: 'failed', text: 'invoice', limit: 50 });
 * const second = first?.next ? await store.tasks.pageTasks?.({ status: 'failed', after: first.next }) : undefined;
 * ```
 */
export interface TaskPageQuery {
  status?: TaskStatus | readonly TaskStatus[];
  agent?: string;
  type?: string;
  /**
   * Case-insensitive text the task's id, description or type contains, matched literally
   * (`%`, `_` and quotes are plain characters).
   */
  text?: string;
  /** The previous page's {@link TaskPage.next}; absent for the newest tasks. */
  after?: string;
  /** Tasks per page (default 50). */
  limit?: number;
}

/**
 * One page of {@link TaskStore.pageTasks}. A call examines a bounded number of tasks, so a
 * filter that matches rarely may return fewer than `limit` tasks with a `next` cursor: ask
 * again from there to search older tasks.
 */
export interface TaskPage {
  tasks: Task[];
  /** Where the next (older) page starts, or null when no older task is left to examine. */
  next: string | null;
}

/**
 * What {@link TaskStore.stats} reads in one cheap call: the figures a metrics scrape wants on
 * every scrape, served from maintained counters or indexes rather than by counting rows. Every
 * figure is exact as of one committed state of the store (a crash never leaves it off); its cost
 * must not grow with the finished tasks kept, and may grow with the open ones (the SQLite store
 * walks its open tasks' index for pending and running: tens to hundreds of ms per million).
 */
export interface TaskStats {
  /** Tasks by status, then by priority: `byPriority.pending[0]` is the critical queue depth. */
  byPriority: Record<TaskStatus, [number, number, number, number]>;
  /** `runAt` of the oldest pending task due by `now` (the longest wait), or null when none is. */
  oldestRunnableAt: number | null;
}

/** What {@link TaskStore.recoverExpired} did. */
export interface RecoveryReport {
  /** Back to `pending`, attempt counted. */
  requeued: string[];
  /** Ended `failed`: the expired attempt was their last. */
  failed: string[];
}

/**
 * A running task's lease, as {@link TaskStore.listLeases} gives it: who holds it, until when, and
 * the process the run started (if its agent recorded one), so lease recovery can end that
 * process before the task runs again.
 *
 * @example
 * ```ts
 * for (const lease of await store.tasks.listLeases()) console.log(lease.taskId, lease.owner, lease.process);
 * ```
 */
export interface LeaseInfo {
  taskId: string;
  owner: string;
  expiresAt: number;
  /**
   * What {@link TaskStore.recordLeaseProcess} recorded for this run, e.g.
   * `{ pid, startTime, command, hostname }`; null when the run started no process.
   */
  process: JsonObject | null;
}

/** Options of {@link TaskStore.recoverExpired}. */
export interface RecoverOptions {
  /**
   * Also recover every lease these owners hold, expired or not: the runner passes owners it knows
   * are gone (a process of this machine that no longer runs), so their tasks need not wait out
   * the lease.
   */
  owners?: readonly string[];
}

/**
 * How long a reply stays with the runner that ended its task before any deliverer may take it
 * (ms). That runner sends it at once; if its process dies first, the reply is still owed and
 * another deliverer (or the same host after a restart) sends it once this has passed.
 *
 * @example
 * ```ts
 * await store.tasks.complete(id, owner, 'done', now);
 * await store.tasks.claimReplies({ now: now + REPLY_HOLD_MS, leaseMs: 60_000 }); // [{ task, attempts: 0 }]
 * ```
 */
export const REPLY_HOLD_MS = 60_000;

/**
 * A reply a finished task owes to its `replyTo`, as {@link TaskStore.claimReplies} hands it out.
 *
 * @example
 * ```ts
 * for (const { task, attempts } of await store.tasks.claimReplies({ now, leaseMs: 60_000 })) {
 *   console.log(task.id, task.replyTo, `attempt ${attempts + 1}`);
 * }
 * ```
 */
export interface OwedReply {
  /** The finished task (`completed` with a non-empty result, or `failed` for good). */
  task: Task;
  /** Delivery attempts already recorded for it. */
  attempts: number;
}

/**
 * How one attempt to deliver a reply ended, for {@link TaskStore.recordReply}.
 *
 * @example
 * ```ts
 * await store.tasks.recordReply(task.id, { sent: true });
 * await store.tasks.recordReply(task.id, { retryAt: Date.now() + 30_000 });
 * ```
 */
export type ReplyOutcome =
  | { readonly sent: true }
  /** Not delivered: owed again from `retryAt` (epoch ms). */
  | { readonly retryAt: number }
  /** Not delivered, and never will be: stop trying. */
  | { readonly gaveUp: true };

/**
 * An immediate answer to record in the outbox ({@link TaskStore.recordAnswer}): a command's
 * reply, a refusal, a welcome. It becomes a finished task of type `answer` whose result is
 * `text`, so the reply outbox delivers (and retries) it like any task's result.
 *
 * @example
 * ```ts
 * const answer: NewAnswer = {
 *   replyTo: { channel: 'telegram', id: '42' },
 *   text: 'No sessions yet; send a message to start one.',
 *   idempotencyKey: 'telegram:answer:42:17',
 * };
 * ```
 */
export interface NewAnswer {
  replyTo: Address;
  text: string;
  /** Same key, same answer: a replayed message is recognised and not answered twice. */
  idempotencyKey: string;
  /** Channel extras worth keeping (e.g. `{ telegram: { inReplyTo: 17 } }`). */
  metadata?: JsonObject;
}

/** Where a dead letter stands: `open` until an operator discards (or retries) it. */
export type DeadLetterStatus = 'open' | 'discarded' | 'retried';

/**
 * An input a channel could not take (malformed, too large, naming what no longer exists, or
 * failing again and again), kept instead of blocking the channel. See
 * {@link TaskStore.addDeadLetter} and `docs/tasks.md`.
 *
 * @example
 * ```ts
 * const letter: NewDeadLetter = {
 *   channel: 'telegram',
 *   key: 'telegram:update:1007',
 *   code: 'E_INVALID_INPUT',
 *   reason: 'the message has no chat',
 *   raw: JSON.stringify(update),
 * };
 * ```
 */
export interface NewDeadLetter {
  /** The channel it came from (`telegram`, `webhook:github`, `api`). */
  channel: string;
  /** Identifies the input on its channel; a second letter with the same key is not stored. */
  key?: string;
  /** The failure's stable code (`E_INVALID_INPUT`, `E_UNKNOWN_AGENT`, `SQLITE_BUSY`...). */
  code: string;
  /** Why it could not be taken, for the operator. */
  reason: string;
  /** The input as received (usually JSON text); stores keep at most {@link DEAD_LETTER_RAW_LIMIT} bytes. */
  raw: string;
  /** Who sent it, when the channel knows where to answer. */
  replyTo?: Address;
}

/** A stored dead letter. Times are epoch milliseconds. */
export interface DeadLetter {
  id: string;
  channel: string;
  key: string | null;
  code: string;
  reason: string;
  /** The raw input, cut at {@link DEAD_LETTER_RAW_LIMIT} bytes when longer (see `truncated`). */
  raw: string;
  /** Size of the raw input as received, in UTF-8 bytes. */
  rawBytes: number;
  truncated: boolean;
  replyTo: Address | null;
  status: DeadLetterStatus;
  createdAt: number;
  /** When it was discarded or retried. */
  settledAt: number | null;
}

/**
 * The most raw input a dead letter keeps: 64 KiB. A huge poisoned input (a 2 MiB text) is
 * cut, on a character boundary, and marked `truncated`.
 *
 * @example
 * ```ts
 * letter.truncated; // true when letter.rawBytes > DEAD_LETTER_RAW_LIMIT
 * ```
 */
export const DEAD_LETTER_RAW_LIMIT = 64 * 1024;

/**
 * Durable storage of tasks. Implementations must make `claim` atomic across processes sharing
 * the store, order by priority then run-at then creation, never claim a task whose `runAt` is
 * in the future, and never run two tasks of one `sessionKey` at once. `@agentd/core/testing`
 * holds the contract suite every implementation must pass (`describeTaskStoreContract`), and an
 * in-memory implementation to read (`memoryStore()`).
 *
 * A new store can start small: `enqueueMany`, `completeAndClaim`, `completeTurnAndClaim` and
 * `completeMany` are optional fast paths that core replaces with the basic operations when
 * absent; the outbox's `recordAnswer` and the dead-letter methods are optional too.
 */
export interface TaskStore {
  /**
   * Checks the task with core's `prepareNewTask` (every store applies the same rules and
   * defaults), then stores it, or returns the task already holding its idempotency key.
   */
  enqueue(task: NewTask, now: number): Promise<EnqueueResult>;
  /**
   * Optional fast path. Enqueues many in one transaction, all or nothing: one invalid task
   * rejects the call (its error message starts with `tasks[i]: `) and none is stored. Results
   * are in input order, and tasks of equal priority and run-at are claimed in that order.
   * Without it, core (`enqueueManyInto`) checks every task first, then calls `enqueue` for each.
   */
  enqueueMany?(tasks: readonly NewTask[], now: number): Promise<EnqueueResult[]>;
  /** Atomically leases up to `limit` runnable tasks and marks them `running` (attempts + 1). */
  claim(request: ClaimRequest): Promise<Task[]>;
  /** Extends the lease if `owner` still holds it; false means the task was lost (recovered or cancelled). */
  renewLease(id: string, owner: string, expiresAt: number): Promise<boolean>;
  /** Ends a running task held by `owner` as `completed`. False if the lease was lost. */
  complete(id: string, owner: string, result: JsonValue | null, now: number): Promise<boolean>;
  /**
   * Optional fast path. Completes `id` (as {@link complete}) and claims up to `claim.limit` more
   * tasks (as {@link claim}) in one transaction: the runner's hot path, one write transaction per
   * task instead of two. The claim happens even if the completion did not hold. Without it, core
   * (`completeAndClaimIn`) calls `complete`, then `claim`.
   */
  completeAndClaim?(
    id: string,
    owner: string,
    result: JsonValue | null,
    claim: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }>;
  /**
   * Optional fast path, for a task store that holds the host's sessions too (one database).
   * As {@link completeAndClaim}, and in the same transaction, when the completion holds, records
   * `turn` as `SessionStore.recordTurn` would (the session's last activity, then its entries in
   * order; nothing when there is no such session): a session run's end and its task's
   * completion in one commit, so a crash between them neither loses the turn nor records it
   * twice when the task runs again. A completion that does not hold records nothing.
   * Without it, core (`completeTurnAndClaimIn`) records the turn with the session store first,
   * then completes and claims as before.
   *
   * @example
   * ```ts
   * const { completed, claimed } = await tasks.completeTurnAndClaim?.(task.id, owner, 'ok', {
   *   sessionId, entries: [{ role: 'user', content: 'hi', at: now, taskId: task.id }], lastActivityAt: now,
   * }, { owner, leaseMs: 30_000, now });
   * ```
   */
  completeTurnAndClaim?(
    id: string,
    owner: string,
    result: JsonValue | null,
    turn: SessionTurn,
    claim: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }>;
  /**
   * Optional fast path. Completes many tasks held by `owner` in one transaction; returns how
   * many were still held. Without it, core (`completeManyIn`) calls `complete` for each.
   */
  completeMany?(
    items: readonly { id: string; result: JsonValue | null }[],
    owner: string,
    now: number,
  ): Promise<number>;
  /**
   * Ends an attempt with an error: back to `pending` at `retryAt` when attempts remain and
   * `retryAt` is given, else `failed`. Returns the updated task, or undefined if the lease was lost.
   */
  fail(
    id: string,
    owner: string,
    error: TaskError,
    options: FailOptions,
  ): Promise<Task | undefined>;
  /** Cancels a pending, held or running task. Returns the task, or undefined if it was already final. */
  cancel(id: string, now: number): Promise<Task | undefined>;
  /**
   * Puts a pending task on hold: it becomes `held` and is never claimed until {@link release},
   * keeping its run-at, priority, attempts and session key, across restarts. A held task does
   * not keep later tasks of its session waiting; it can be cancelled. Holding a held task
   * returns it unchanged. Returns undefined for an unknown id; a running or finished task is
   * refused with {@link AgentdError} `E_TASK_NOT_HOLDABLE` (its `status` in the message).
   *
   * @example
   * ```ts
   * const held = await store.tasks.hold(reminder.id); // status 'held', runAt unchanged
   * await store.tasks.release(reminder.id); // status 'pending': claimed once due
   * ```
   */
  hold(id: string): Promise<Task | undefined>;
  /**
   * Releases a held task back to `pending`, where it waits for its run-at (already passed: it
   * is claimable at once) in its old place. Releasing a pending task returns it unchanged.
   * Returns undefined for an unknown id; a running or finished task is refused with
   * {@link AgentdError} `E_TASK_NOT_HELD`.
   */
  release(id: string): Promise<Task | undefined>;
  get(id: string): Promise<Task | undefined>;
  findByIdempotencyKey(key: string): Promise<Task | undefined>;
  list(query?: TaskQuery): Promise<Task[]>;
  /**
   * Optional: one page of tasks, newest first, filtered by status, agent, type and text, with a
   * keyset cursor that stays fast however many tasks are stored (a dashboard's task list).
   * Cursors are the store's own; only pass back a `next` it returned. Without it, core
   * (`pageTasksIn` in `@agentd/core/store`) pages with `list` and offsets.
   */
  pageTasks?(query: TaskPageQuery): Promise<TaskPage>;
  counts(): Promise<Record<TaskStatus, number>>;
  /**
   * Optional fast read: tasks by status and priority, and the oldest runnable task's `runAt`
   * (pending, due by `now`), exact, and cheap with a million tasks stored (maintained counters,
   * index probes, at most a walk of the open tasks' index; see {@link TaskStats}). Without it, core (`taskStatsOf`) builds the same figures from `counts` and `list`,
   * which reads every open task.
   */
  stats?(now: number): Promise<TaskStats>;
  /**
   * Returns running tasks whose lease expired by `now` (and, with `options.owners`, every task
   * those owners hold) to `pending`, or `failed` past max attempts. A lease renewed after it
   * expired but before this call is not recovered.
   */
  recoverExpired(now: number, options?: RecoverOptions): Promise<RecoveryReport>;
  /**
   * Records the process a run started (e.g. `{ pid, startTime, command, hostname }`) with the
   * task's lease, replacing any earlier record, if `owner` still holds the lease; false if not.
   * Lease recovery reads it back through {@link listLeases} to end a process a dead runner left
   * behind before the task runs again.
   */
  recordLeaseProcess(id: string, owner: string, process: JsonObject): Promise<boolean>;
  /** Every running task's lease (a few per runner): owners, expiries and recorded processes. */
  listLeases(): Promise<LeaseInfo[]>;
  /**
   * Deletes up to `limit` (default 1000) tasks in one of `statuses` (final ones only) that
   * finished before `before`, oldest first; returns how many. Their idempotency keys are freed,
   * so keep finished tasks longer than any sender retries a delivery.
   */
  prune(options: {
    before: number;
    statuses: readonly ('completed' | 'failed' | 'cancelled')[];
    limit?: number;
  }): Promise<number>;
  /** Earliest `runAt` among pending tasks later than `now`, so the runner can sleep until then. */
  nextRunAt(now: number): Promise<number | undefined>;
  /**
   * Optional: calls `listener` when work may have become claimable because another process
   * changed the store (a host sharing the database enqueued or requeued a task), so the runner
   * claims at once instead of at its next poll. The runner subscribes at start and closes the
   * subscription at stop; polling stays the fallback, so a missed call only delays work. A store
   * shared by one process only (SQLite, memory) leaves it out: the local queue wakes the runner.
   *
   * @example
   * ```ts
   * const subscription = await store.onWork?.(() => runner.notify(), {
   *   onError: (error) => logger.warn({ err: error }, 'work notifications interrupted'),
   * });
   * await subscription?.close();
   * ```
   */
  onWork?(
    listener: () => void,
    options?: { onError?: (error: Error) => void },
  ): Promise<{ close(): Promise<void> }>;
  /**
   * The outbox. A task with a `replyTo` owes a reply from the moment it ends `completed` with a
   * result other than null or `''`, or `failed` for good (by `fail` or by lease recovery); the
   * same write that ends it records the debt, first due {@link REPLY_HOLD_MS} later. This hands
   * out up to `limit` (default 50) replies due by `now`, oldest due first, and holds each for
   * `leaseMs` (it is not handed out again until then), atomically across processes.
   */
  claimReplies(request: { now: number; leaseMs: number; limit?: number }): Promise<OwedReply[]>;
  /**
   * Records a delivery attempt of task `id`'s reply: `sent` and `gaveUp` settle it, `retryAt`
   * makes it due again then. Each call counts one attempt. Unknown ids and tasks owing nothing
   * are ignored.
   */
  recordReply(id: string, outcome: ReplyOutcome): Promise<void>;
  /**
   * How many replies the outbox still owes: due or not, held or not. Sent and given-up replies
   * are no longer owed. Shown by `agentd status`.
   */
  countOwedReplies(): Promise<number>;
  /**
   * Records an immediate answer in the outbox, in one write: a finished (`completed`) task of
   * type `answer` whose result is the text, owing its reply from now plus
   * {@link REPLY_HOLD_MS} (the caller sends it at once; a crash leaves it to the next sweep).
   * An idempotency key seen before returns the existing task with `created: false`, and owes
   * nothing new. Optional: without it channels send answers directly, once.
   */
  recordAnswer?(answer: NewAnswer, now: number): Promise<EnqueueResult>;
  /**
   * Keeps an input that could not be taken. A `key` already stored returns the existing letter
   * with `created: false`. `raw` is cut at {@link DEAD_LETTER_RAW_LIMIT} bytes. Optional for
   * stores; the contract suite checks it where present.
   */
  addDeadLetter?(
    letter: NewDeadLetter,
    now: number,
  ): Promise<{ letter: DeadLetter; created: boolean }>;
  /** Dead letters, newest first (`status` filters; default every status, limit 50). */
  listDeadLetters?(query?: {
    status?: DeadLetterStatus | readonly DeadLetterStatus[];
    limit?: number;
  }): Promise<DeadLetter[]>;
  getDeadLetter?(id: string): Promise<DeadLetter | undefined>;
  /** Marks an open letter discarded or retried; returns it, or undefined if unknown or settled. */
  settleDeadLetter?(
    id: string,
    status: 'discarded' | 'retried',
    now: number,
  ): Promise<DeadLetter | undefined>;
  /** How many letters are `open` (what `/health` warns about). */
  countOpenDeadLetters?(): Promise<number>;
}

export const TaskStoreToken = createToken<TaskStore>('agentd.store.tasks');

/**
 * Whether `error` is a store's refusal of {@link TaskStore.hold} or {@link TaskStore.release}
 * for a task in another state (`E_TASK_NOT_HOLDABLE`, `E_TASK_NOT_HELD`): the caller's conflict
 * to report with its message, not a fault.
 *
 * @example
 * ```ts
 * try { await queue.hold(id); } catch (error) { if (!isTaskStateRefusal(error)) throw error; }
 * ```
 */
export function isTaskStateRefusal(error: unknown): error is AgentdError {
  return (
    error instanceof AgentdError &&
    (error.code === 'E_TASK_NOT_HOLDABLE' || error.code === 'E_TASK_NOT_HELD')
  );
}

/**
 * The host's way to create tasks: validates input, applies defaults, persists, and wakes the
 * runner at once. Channels, webhooks, schedules and the CLI all enqueue through it.
 */
export interface TaskQueue {
  enqueue(task: NewTask): Promise<EnqueueResult>;
  enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]>;
  /** Cancels a pending or held task, or aborts a running one (its agent sees the AbortSignal). */
  cancel(id: string): Promise<Task | undefined>;
  /**
   * Holds a pending task ({@link TaskStore.hold}) and emits `task.held` (again for a task
   * already held: holding is idempotent).
   */
  hold(id: string): Promise<Task | undefined>;
  /**
   * Releases a held task ({@link TaskStore.release}), emits `task.released` and wakes the
   * runner (releasing a pending task is a no-op that still emits).
   */
  release(id: string): Promise<Task | undefined>;
}

export const TaskQueueToken = createToken<TaskQueue>('agentd.queue');
