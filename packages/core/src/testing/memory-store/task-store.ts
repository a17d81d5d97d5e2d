import type { Address } from '../../contracts/channel.js';
import type { JsonObject, JsonValue } from '../../contracts/json.js';
import type { SessionTurn } from '../../contracts/session.js';
import {
  type ClaimRequest,
  type DeadLetter,
  type DeadLetterStatus,
  type EnqueueResult,
  type FailOptions,
  type LeaseInfo,
  type NewAnswer,
  type NewDeadLetter,
  type NewTask,
  type OwedReply,
  REPLY_HOLD_MS,
  type RecoverOptions,
  type RecoveryReport,
  type ReplyOutcome,
  TASK_STATUSES,
  type Task,
  type TaskError,
  type TaskQuery,
  type TaskStats,
  type TaskStatus,
  type TaskStore,
} from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import {
  checkDeadLetterQuery,
  checkSettleStatus,
  type PreparedDeadLetter,
  prepareDeadLetter,
} from '../../store-kit/dead-letter.js';
import { parseJson, toJsonText } from '../../store-kit/json-text.js';
import {
  atTaskIndex,
  checkTaskTime,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type NewTaskJson,
  newTaskJson,
  prepareAnswer,
  prepareNewTask,
} from '../../store-kit/new-task.js';
import { checkHistoryEntry } from '../../store-kit/session-rules.js';
import {
  checkClaimLimit,
  checkClaimOwner,
  notHoldable,
  notReleasable,
  preparePrune,
  recoveryError,
  resultOwesReply,
  taskErrorText,
  taskResultText,
} from '../../store-kit/task-rules.js';
import { addToTaskStats, emptyTaskStats } from '../../store-kit/task-stats.js';
import type { MemorySessionStore } from './session-store.js';

/**
 * A stored task. JSON values are kept as text and parsed on every read, as a database would:
 * a caller can never alias what is stored, and reads behave exactly like the SQLite store's.
 */
interface TaskRecord {
  readonly seq: number;
  readonly id: string;
  task: Omit<Task, 'input' | 'result' | 'error' | 'replyTo' | 'metadata'>;
  readonly input: string;
  result: string | null;
  error: string | null;
  readonly replyTo: string | null;
  readonly metadata: string;
  /** What recordLeaseProcess recorded for the current run. */
  leaseProcess: string | null;
}

interface OwedRecord {
  dueAt: number;
  attempts: number;
}

interface DeadLetterRecord extends Omit<PreparedDeadLetter, 'replyTo'> {
  seq: number;
  replyTo: string | null;
  status: DeadLetterStatus;
  createdAt: number;
  settledAt: number | null;
}

const DEFAULT_LIST_LIMIT = 100;

function toTask(record: TaskRecord): Task {
  return {
    ...record.task,
    id: record.id,
    input: parseJson(record.input),
    result: record.result === null ? null : parseJson(record.result),
    error: record.error === null ? null : parseJson<TaskError>(record.error),
    replyTo: record.replyTo === null ? null : parseJson<Address>(record.replyTo),
    metadata: parseJson<JsonObject>(record.metadata),
  };
}

function toLetter(record: DeadLetterRecord): DeadLetter {
  return {
    id: `dl_${record.seq}`,
    channel: record.channel,
    key: record.key,
    code: record.code,
    reason: record.reason,
    raw: record.raw,
    rawBytes: record.rawBytes,
    truncated: record.truncated,
    replyTo: record.replyTo === null ? null : parseJson<Address>(record.replyTo),
    status: record.status,
    createdAt: record.createdAt,
    settledAt: record.settledAt,
  };
}

/**
 * The in-memory {@link TaskStore} of {@link openMemoryStore}: every rule of the contract
 * (priority, run-at, one running task per session key, leases, idempotency keys, retention,
 * the reply outbox, dead letters), in one process's memory. Each call runs to completion
 * before the next, which is what makes its claims atomic; nothing survives the process.
 * Tasks are checked by core's `prepareNewTask`, as every store's are.
 */
export class MemoryTaskStore implements TaskStore {
  readonly #maxPayloadBytes: number;
  readonly #prefix: string;
  readonly #json: NewTaskJson = newTaskJson();
  #nextSeq = 1;
  /** Every task by id, in seq order (a Map keeps insertion order). */
  readonly #byId = new Map<string, TaskRecord>();
  /** Pending, held and running tasks, in seq order: what claims and recovery walk. */
  readonly #open = new Map<number, TaskRecord>();
  readonly #byKey = new Map<string, TaskRecord>();
  /** The outbox: replies owed, by task seq. */
  readonly #owed = new Map<number, OwedRecord>();
  #nextLetter = 1;
  readonly #letters = new Map<number, DeadLetterRecord>();
  readonly #letterKeys = new Map<string, DeadLetterRecord>();

  /**
   * `TaskStore.completeTurnAndClaim`, present when the store was given its sessions (as
   * {@link openMemoryStore} does): the completion, the turn and the claim in one call.
   */
  readonly completeTurnAndClaim?: (
    id: string,
    owner: string,
    result: JsonValue | null,
    turn: SessionTurn,
    claim: ClaimRequest,
  ) => Promise<{ completed: boolean; claimed: Task[] }>;

  /** `sessions`: the session store whose turns {@link completeTurnAndClaim} records. */
  constructor(options: { maxPayloadBytes?: number; sessions?: MemorySessionStore } = {}) {
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const { sessions } = options;
    if (sessions) {
      this.completeTurnAndClaim = async (id, owner, result, turn, claim) => {
        // Everything checked before anything changes, as in one transaction.
        const text = taskResultText(result);
        for (const entry of turn.entries) checkHistoryEntry(entry);
        const completed = this.#completeNow(id, owner, text, claim.now);
        if (completed) sessions.recordTurnNow(turn);
        return { completed, claimed: this.#claimNow(claim) };
      };
    }
    // Ids of two memory stores (or of a memory and a SQLite store) never look alike.
    this.#prefix = `mem${Math.floor(Math.random() * 36 ** 4)
      .toString(36)
      .padStart(4, '0')}_`;
  }

  async enqueue(task: NewTask, now: number): Promise<EnqueueResult> {
    return this.#insert(prepareNewTask(task, now, this.#maxPayloadBytes, this.#json), this.#json);
  }

  async enqueueMany(tasks: readonly NewTask[], now: number): Promise<EnqueueResult[]> {
    // All or nothing: every task is checked before the first is stored.
    const prepared: { task: Task; json: NewTaskJson }[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const json = newTaskJson();
      try {
        prepared.push({
          task: prepareNewTask(tasks[i] as NewTask, now, this.#maxPayloadBytes, json),
          json,
        });
      } catch (error) {
        throw atTaskIndex(error, i);
      }
    }
    return prepared.map(({ task, json }) => this.#insert(task, json));
  }

  #insert(task: Task, json: NewTaskJson): EnqueueResult {
    if (task.idempotencyKey !== null) {
      const existing = this.#byKey.get(task.idempotencyKey);
      if (existing) return { task: toTask(existing), created: false };
    }
    const seq = this.#nextSeq++;
    task.id = this.#prefix + seq.toString(36);
    const {
      input: _input,
      result: _result,
      error: _error,
      replyTo: _to,
      metadata: _m,
      ...rest
    } = task;
    const record: TaskRecord = {
      seq,
      id: task.id,
      task: rest,
      input: json.input,
      result: null,
      error: null,
      replyTo: json.replyTo,
      metadata: json.metadata,
      leaseProcess: null,
    };
    this.#byId.set(record.id, record);
    this.#open.set(seq, record);
    if (task.idempotencyKey !== null) this.#byKey.set(task.idempotencyKey, record);
    return { task, created: true };
  }

  async claim(request: ClaimRequest): Promise<Task[]> {
    return this.#claimNow(request);
  }

  #claimNow(request: ClaimRequest): Task[] {
    const owner = checkClaimOwner(request.owner);
    const limit = checkClaimLimit(request.limit ?? 1, request.leaseMs);
    const { now } = request;
    // A task of a session is claimable only when no task of that session runs and no earlier
    // one waits to run: an earlier task blocks it once it is due, or if it already started once
    // (a retry keeps its place); one scheduled for later that never started does not.
    const busy = new Set<string>();
    for (const record of this.#open.values()) {
      const { status, sessionKey } = record.task;
      if (status === 'running' && sessionKey !== null) busy.add(sessionKey);
    }
    const blocked = new Set<string>();
    const runnable: TaskRecord[] = [];
    for (const record of this.#open.values()) {
      const t = record.task;
      if (t.status !== 'pending') continue;
      const due = t.runAt <= now;
      if (t.sessionKey !== null) {
        if (busy.has(t.sessionKey) || blocked.has(t.sessionKey)) continue;
        if (due || t.attempts > 0) blocked.add(t.sessionKey);
      }
      if (due) runnable.push(record);
    }
    runnable.sort(
      (a, b) => a.task.priority - b.task.priority || a.task.runAt - b.task.runAt || a.seq - b.seq,
    );
    const expiresAt = Math.floor(now + request.leaseMs);
    return runnable.slice(0, limit).map((record) => {
      const t = record.task;
      t.status = 'running';
      t.attempts += 1;
      t.startedAt = now;
      t.leaseOwner = owner;
      t.leaseExpiresAt = expiresAt;
      record.leaseProcess = null;
      return toTask(record);
    });
  }

  /** The running task `id` if `owner` holds its lease. */
  #held(id: string, owner: string): TaskRecord | undefined {
    const record = this.#byId.get(id);
    return record?.task.status === 'running' && record.task.leaseOwner === owner
      ? record
      : undefined;
  }

  async renewLease(id: string, owner: string, expiresAt: number): Promise<boolean> {
    const record = this.#held(id, owner);
    if (record) record.task.leaseExpiresAt = Math.floor(expiresAt);
    return record !== undefined;
  }

  async complete(
    id: string,
    owner: string,
    result: JsonValue | null,
    now: number,
  ): Promise<boolean> {
    return this.#completeNow(id, owner, taskResultText(result), now);
  }

  #completeNow(id: string, owner: string, result: string | null, now: number): boolean {
    const record = this.#held(id, owner);
    if (!record) return false;
    record.result = result;
    this.#end(record, 'completed', now);
    if (resultOwesReply(result)) this.#oweReply(record, now);
    return true;
  }

  /** Ends a task in a final status: out of the open set, lease released. */
  #end(record: TaskRecord, status: 'completed' | 'failed' | 'cancelled', now: number): void {
    const t = record.task;
    t.status = status;
    t.finishedAt = now;
    t.leaseOwner = null;
    t.leaseExpiresAt = null;
    record.leaseProcess = null;
    this.#open.delete(record.seq);
  }

  #oweReply(record: TaskRecord, endedAt: number): void {
    if (record.replyTo !== null && !this.#owed.has(record.seq)) {
      this.#owed.set(record.seq, { dueAt: endedAt + REPLY_HOLD_MS, attempts: 0 });
    }
  }

  async completeAndClaim(
    id: string,
    owner: string,
    result: JsonValue | null,
    claim: ClaimRequest,
  ): Promise<{ completed: boolean; claimed: Task[] }> {
    const text = taskResultText(result);
    return {
      completed: this.#completeNow(id, owner, text, claim.now),
      claimed: this.#claimNow(claim),
    };
  }

  async completeMany(
    items: readonly { id: string; result: JsonValue | null }[],
    owner: string,
    now: number,
  ): Promise<number> {
    // Every result is checked before the first completion, as in one transaction.
    const texts = items.map((item) => taskResultText(item.result));
    let held = 0;
    items.forEach((item, i) => {
      if (this.#completeNow(item.id, owner, texts[i] ?? null, now)) held++;
    });
    return held;
  }

  async fail(
    id: string,
    owner: string,
    error: TaskError,
    options: FailOptions,
  ): Promise<Task | undefined> {
    const retryAt =
      options.retryAt === undefined ? null : checkTaskTime(options.retryAt, 'retryAt');
    const record = this.#held(id, owner);
    if (!record) return undefined;
    record.error = taskErrorText(error);
    const t = record.task;
    if (retryAt !== null && t.attempts < t.maxAttempts) {
      t.status = 'pending';
      t.runAt = retryAt;
      t.finishedAt = null;
      t.leaseOwner = null;
      t.leaseExpiresAt = null;
      record.leaseProcess = null;
    } else {
      this.#end(record, 'failed', options.now);
      this.#oweReply(record, options.now);
    }
    return toTask(record);
  }

  async cancel(id: string, now: number): Promise<Task | undefined> {
    const record = this.#byId.get(id);
    if (!record || !this.#open.has(record.seq)) return undefined;
    this.#end(record, 'cancelled', now);
    return toTask(record);
  }

  async hold(id: string): Promise<Task | undefined> {
    return this.#changeHold(id, 'held', notHoldable);
  }

  async release(id: string): Promise<Task | undefined> {
    return this.#changeHold(id, 'pending', notReleasable);
  }

  /** Moves a pending or held task to `status`; any other is refused with `refusal`. */
  #changeHold(
    id: string,
    status: 'held' | 'pending',
    refusal: (id: string, status: TaskStatus) => Error,
  ): Task | undefined {
    const record = this.#byId.get(id);
    if (!record) return undefined;
    const t = record.task;
    if (t.status !== 'pending' && t.status !== 'held') throw refusal(id, t.status);
    // It stays in the open set (cancel finds it there); claims skip all but pending tasks.
    t.status = status;
    return toTask(record);
  }

  async get(id: string): Promise<Task | undefined> {
    const record = this.#byId.get(id);
    return record && toTask(record);
  }

  async findByIdempotencyKey(key: string): Promise<Task | undefined> {
    const record = this.#byKey.get(key);
    return record && toTask(record);
  }

  async list(query: TaskQuery = {}): Promise<Task[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
      throw new AgentdError('E_INVALID_QUERY', 'limit and offset must be integers of at least 0');
    }
    const statuses =
      query.status === undefined
        ? undefined
        : new Set<TaskStatus>(typeof query.status === 'string' ? [query.status] : query.status);
    const matches = [...this.#byId.values()].filter(({ task: t }) => {
      if (statuses && !statuses.has(t.status)) return false;
      if (query.agent !== undefined && t.agent !== query.agent) return false;
      if (query.sessionKey !== undefined && t.sessionKey !== query.sessionKey) return false;
      return query.type === undefined || t.type === query.type;
    });
    if (query.order !== 'oldest') matches.reverse();
    return matches.slice(offset, offset + limit).map(toTask);
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
      TaskStatus,
      number
    >;
    for (const { task } of this.#byId.values()) counts[task.status]++;
    return counts;
  }

  /** Folds every task: a memory store holds few enough for a scrape to afford it. */
  async stats(now: number): Promise<TaskStats> {
    const stats = emptyTaskStats();
    for (const { task } of this.#byId.values()) addToTaskStats(stats, task, now);
    return stats;
  }

  async recoverExpired(now: number, options: RecoverOptions = {}): Promise<RecoveryReport> {
    const gone = new Set((options.owners ?? []).filter((o) => typeof o === 'string' && o !== ''));
    const report: RecoveryReport = { requeued: [], failed: [] };
    for (const record of [...this.#open.values()]) {
      const t = record.task;
      if (t.status !== 'running') continue;
      const expired = (t.leaseExpiresAt ?? 0) <= now;
      if (!expired && !(t.leaseOwner !== null && gone.has(t.leaseOwner))) continue;
      record.error = JSON.stringify(recoveryError(t.leaseOwner, expired));
      // The attempt was counted by the claim: a requeued task simply waits for its next claim.
      if (t.attempts < t.maxAttempts) {
        t.status = 'pending';
        t.leaseOwner = null;
        t.leaseExpiresAt = null;
        record.leaseProcess = null;
        report.requeued.push(record.id);
      } else {
        this.#end(record, 'failed', now);
        this.#oweReply(record, now);
        report.failed.push(record.id);
      }
    }
    return report;
  }

  async recordLeaseProcess(id: string, owner: string, process: JsonObject): Promise<boolean> {
    if (typeof process !== 'object' || process === null || Array.isArray(process)) {
      throw new AgentdError('E_INVALID_PROCESS', 'the process record must be a plain object');
    }
    const text = toJsonText(process, 'process', 'E_INVALID_PROCESS');
    const record = this.#held(id, owner);
    if (record) record.leaseProcess = text;
    return record !== undefined;
  }

  async listLeases(): Promise<LeaseInfo[]> {
    const leases: LeaseInfo[] = [];
    for (const record of this.#open.values()) {
      const t = record.task;
      if (t.status !== 'running') continue;
      leases.push({
        taskId: record.id,
        owner: t.leaseOwner ?? '',
        expiresAt: t.leaseExpiresAt ?? 0,
        process: record.leaseProcess === null ? null : parseJson<JsonObject>(record.leaseProcess),
      });
    }
    return leases.sort((a, b) => a.expiresAt - b.expiresAt);
  }

  async prune(options: {
    before: number;
    statuses: readonly ('completed' | 'failed' | 'cancelled')[];
    limit?: number;
  }): Promise<number> {
    const plan = preparePrune(options);
    if (!plan) return 0;
    const { limit, before } = plan;
    const statuses = new Set<string>(plan.statuses);
    let deleted = 0;
    // Oldest first (seq order), as the SQLite store does.
    for (const record of [...this.#byId.values()]) {
      if (deleted === limit) break;
      const t = record.task;
      if (!statuses.has(t.status) || t.finishedAt === null || t.finishedAt >= before) continue;
      this.#byId.delete(record.id);
      this.#owed.delete(record.seq);
      if (t.idempotencyKey !== null) this.#byKey.delete(t.idempotencyKey);
      deleted++;
    }
    return deleted;
  }

  async nextRunAt(now: number): Promise<number | undefined> {
    let next: number | undefined;
    for (const { task: t } of this.#open.values()) {
      if (t.status === 'pending' && t.runAt > now && (next === undefined || t.runAt < next)) {
        next = t.runAt;
      }
    }
    return next;
  }

  async claimReplies(request: {
    now: number;
    leaseMs: number;
    limit?: number;
  }): Promise<OwedReply[]> {
    const limit = checkClaimLimit(request.limit ?? 50, request.leaseMs);
    const { now, leaseMs } = request;
    const due = [...this.#owed.entries()]
      .filter(([, owed]) => owed.dueAt <= now)
      .sort(([seqA, a], [seqB, b]) => a.dueAt - b.dueAt || seqA - seqB)
      .slice(0, limit);
    const heldUntil = Math.floor(now + leaseMs);
    const replies: OwedReply[] = [];
    for (const [seq, owed] of due) {
      const record = this.#recordBySeq(seq);
      if (!record) {
        this.#owed.delete(seq);
        continue;
      }
      owed.dueAt = heldUntil;
      replies.push({ task: toTask(record), attempts: owed.attempts });
    }
    return replies;
  }

  #recordBySeq(seq: number): TaskRecord | undefined {
    return this.#byId.get(this.#prefix + seq.toString(36));
  }

  async recordReply(id: string, outcome: ReplyOutcome): Promise<void> {
    const record = this.#byId.get(id);
    if (!record) return;
    const owed = this.#owed.get(record.seq);
    if ('retryAt' in outcome) {
      const dueAt = checkTaskTime(outcome.retryAt, 'retryAt');
      if (owed) {
        owed.dueAt = dueAt;
        owed.attempts++;
      }
    } else {
      // A settled reply leaves the outbox: it holds only what is owed.
      this.#owed.delete(record.seq);
    }
  }

  async countOwedReplies(): Promise<number> {
    return this.#owed.size;
  }

  async recordAnswer(answer: NewAnswer, now: number): Promise<EnqueueResult> {
    const prepared = prepareAnswer(answer, now);
    const existing = this.#byKey.get(answer.idempotencyKey);
    if (existing) return { task: toTask(existing), created: false };
    const seq = this.#nextSeq++;
    const id = this.#prefix + seq.toString(36);
    const { input: _i, result: _r, error: _e, replyTo: _t, metadata: _m, ...rest } = prepared.task;
    const record: TaskRecord = {
      seq,
      id,
      task: { ...rest, id },
      input: 'null',
      result: prepared.resultText,
      error: null,
      replyTo: prepared.replyToText,
      metadata: prepared.metadataText,
      leaseProcess: null,
    };
    this.#byId.set(id, record);
    this.#byKey.set(answer.idempotencyKey, record);
    if (prepared.owesReply) this.#oweReply(record, record.task.finishedAt as number);
    return { task: toTask(record), created: true };
  }

  async addDeadLetter(
    letter: NewDeadLetter,
    now: number,
  ): Promise<{ letter: DeadLetter; created: boolean }> {
    const prepared = prepareDeadLetter(letter);
    const existing = prepared.key === null ? undefined : this.#letterKeys.get(prepared.key);
    if (existing) return { letter: toLetter(existing), created: false };
    const record: DeadLetterRecord = {
      ...prepared,
      seq: this.#nextLetter++,
      status: 'open',
      createdAt: Math.floor(now),
      settledAt: null,
    };
    this.#letters.set(record.seq, record);
    if (record.key !== null) this.#letterKeys.set(record.key, record);
    return { letter: toLetter(record), created: true };
  }

  async listDeadLetters(query?: {
    status?: DeadLetterStatus | readonly DeadLetterStatus[];
    limit?: number;
  }): Promise<DeadLetter[]> {
    const { statuses, limit } = checkDeadLetterQuery(query);
    const out: DeadLetter[] = [];
    for (const record of [...this.#letters.values()].reverse()) {
      if (out.length === limit) break;
      if (statuses.length === 0 || statuses.includes(record.status)) out.push(toLetter(record));
    }
    return out;
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const record = this.#letterById(id);
    return record && toLetter(record);
  }

  #letterById(id: string): DeadLetterRecord | undefined {
    if (typeof id !== 'string' || !id.startsWith('dl_')) return undefined;
    return this.#letters.get(Number(id.slice(3)));
  }

  async settleDeadLetter(
    id: string,
    status: 'discarded' | 'retried',
    now: number,
  ): Promise<DeadLetter | undefined> {
    const settled = checkSettleStatus(status);
    const record = this.#letterById(id);
    if (record?.status !== 'open') return undefined;
    record.status = settled;
    record.settledAt = Math.floor(now);
    return toLetter(record);
  }

  async countOpenDeadLetters(): Promise<number> {
    let open = 0;
    for (const record of this.#letters.values()) if (record.status === 'open') open++;
    return open;
  }

  /** The owed replies by task id, for `exportRecords` (see `MemoryStore`). */
  owedReplies(): Map<string, { dueAt: number; attempts: number }> {
    const out = new Map<string, { dueAt: number; attempts: number }>();
    for (const record of this.#byId.values()) {
      const owed = this.#owed.get(record.seq);
      if (owed) out.set(record.id, { ...owed });
    }
    return out;
  }

  /**
   * Stores a copied task as it was (`agentd store copy`), with a new id; returns that id, or
   * the id of the task that holds its idempotency key already. A running task whose session
   * already has one running here comes in pending, its lease dropped.
   */
  importTask(task: Task, reply: { dueAt: number; attempts: number } | null): string {
    if (task.idempotencyKey !== null) {
      const existing = this.#byKey.get(task.idempotencyKey);
      if (existing) return existing.id;
    }
    const demote =
      task.status === 'running' &&
      task.sessionKey !== null &&
      [...this.#open.values()].some(
        (r) => r.task.status === 'running' && r.task.sessionKey === task.sessionKey,
      );
    const seq = this.#nextSeq++;
    const { input, result, error, replyTo, metadata, ...rest } = task;
    const record: TaskRecord = {
      seq,
      id: this.#prefix + seq.toString(36),
      task: demote
        ? { ...rest, status: 'pending', leaseOwner: null, leaseExpiresAt: null }
        : { ...rest },
      input: JSON.stringify(input),
      result: result === null ? null : JSON.stringify(result),
      error: error === null ? null : JSON.stringify(error),
      replyTo: replyTo === null ? null : JSON.stringify(replyTo),
      metadata: JSON.stringify(metadata),
      leaseProcess: null,
    };
    record.task.id = record.id;
    this.#byId.set(record.id, record);
    const { status } = record.task;
    if (status === 'pending' || status === 'held' || status === 'running') {
      this.#open.set(seq, record);
    }
    if (task.idempotencyKey !== null) this.#byKey.set(task.idempotencyKey, record);
    if (reply) this.#owed.set(seq, { ...reply });
    return record.id;
  }

  /** Stores a copied dead letter as it was, unless its key is taken (`agentd store copy`). */
  importDeadLetter(letter: DeadLetter): void {
    if (letter.key !== null && this.#letterKeys.has(letter.key)) return;
    const { id: _, replyTo, ...rest } = letter;
    const record: DeadLetterRecord = {
      ...rest,
      seq: this.#nextLetter++,
      replyTo: replyTo === null ? null : JSON.stringify(replyTo),
    };
    this.#letters.set(record.seq, record);
    if (record.key !== null) this.#letterKeys.set(record.key, record);
  }
}
