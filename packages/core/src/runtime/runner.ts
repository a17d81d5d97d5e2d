import { ExponentialBackoff } from 'cockatiel';
import type { AgentExecutor, AgentRegistry } from '../contracts/agent.js';
import type { ChannelRegistry } from '../contracts/channel.js';
import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import type { SessionStore } from '../contracts/session.js';
import type { Task, TaskError, TaskStore } from '../contracts/task.js';
import type { EventBus } from '../kernel/events.js';
import { ownerIsGone } from '../kernel/owner.js';
import { endRecordedProcess } from '../kernel/process.js';
import { errorMessage } from '../kernel/timeout.js';
import { inSpan } from '../kernel/tracing.js';
import { lazyChild } from '../logging/lazy-child.js';
import type { SecretMasker } from '../logging/secret-masker.js';
import {
  completeAndClaimIn,
  completeManyIn,
  completeTurnAndClaimIn,
  recordTurnIn,
} from '../store-kit/fast-paths.js';
import { AgentContext } from './agent-context.js';
import { EventLoopTurn, nextTurn } from './event-loop-turn.js';
import { ReplyOutbox } from './reply-outbox.js';
import { retryDelay } from './retry-delay.js';
import { RunControl } from './run-control.js';
import type { RunnerHandle } from './task-queue.js';
import { TURN_HANDOFF, TurnSlot } from './turn-handoff.js';

/** Tuning of the task runner; every field has a default. */
export interface RunnerOptions {
  /** Tasks run at once (default 3). */
  concurrency: number;
  /** Lease length; renewed every third of it while a task runs (default 30 s). */
  leaseMs: number;
  /** Look for work this often even without an in-process wake-up, e.g. tasks enqueued by another process (default 1 s). */
  pollMs: number;
  /**
   * Return expired leases (crashed hosts' tasks) to pending this often (default 15 s, and at
   * start); sooner when another runner's lease expires before then. Leases of a runner of this
   * machine whose process is gone are recovered at once, without waiting for their expiry.
   */
  recoverEveryMs: number;
  /**
   * Between SIGTERM and SIGKILL when recovery ends a process a lost run left behind (a command
   * agent's child whose host was killed), before its task runs again (default 5 s).
   */
  killGraceMs: number;
  /** Abort an agent run after this long (default 15 min). */
  taskTimeoutMs: number;
  /** Backoff between attempts: exponential with decorrelated jitter (default 1 s initial, 5 min cap). */
  retry: { initialDelayMs: number; maxDelayMs: number };
  /**
   * Claim up to this many tasks per store call and complete them in batches (default 1: one
   * claim and one completion transaction per task). Larger batches trade a little latency and,
   * after a crash, re-running up to a batch of finished tasks, for throughput. A finished task
   * keeps its slot (of `concurrency`) until its batch is written.
   */
  batchSize: number;
  /**
   * How long finished tasks are kept before they are deleted (checked hourly): completed ones
   * (default 7 days), failed and cancelled ones (default 30 days); `false` keeps everything.
   * An idempotency key is remembered only as long as its task is kept.
   */
  retention: { completedMs: number; failedMs: number } | false;
}

const DAY = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  concurrency: 3,
  leaseMs: 30_000,
  pollMs: 1_000,
  recoverEveryMs: 15_000,
  killGraceMs: 5_000,
  taskTimeoutMs: 15 * 60_000,
  retry: { initialDelayMs: 1_000, maxDelayMs: 5 * 60_000 },
  batchSize: 1,
  retention: { completedMs: 7 * DAY, failedMs: 30 * DAY },
};

interface RunnerDeps {
  store: TaskStore;
  agents: AgentRegistry;
  channels: ChannelRegistry;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  /** Lease owner id: unique per process start. */
  owner: string;
  /** Masks the host's secrets in task errors and results before they are stored or sent. */
  masker?: SecretMasker;
  /** The reply outbox to use (default: one of its own). */
  outbox?: ReplyOutbox;
  /**
   * The host's session store: with it, a session run's end (its turn) is written with its
   * task's completion, in one transaction where the task store can (see TurnHandoff).
   */
  sessions?: SessionStore;
}

/** A task running here; as its session run's {@link TurnSlot}, it takes the run's turn. */
class Running extends TurnSlot {
  constructor(
    readonly task: Task,
    readonly control: RunControl,
    /** When the run is aborted as too slow; infinite once it ended (see #abortOverdue). */
    public deadline: number,
  ) {
    super();
  }
}

/**
 * The error stored with a failed attempt: named by its failover class when the agent gave one
 * (`empty_result`, `auth`...), else by the error's name; the message with secrets masked.
 */
function taskError(cause: unknown, masker: SecretMasker | undefined): TaskError {
  const errorClass = (cause as { errorClass?: unknown } | null)?.errorClass;
  const message = errorMessage(cause);
  return {
    name:
      typeof errorClass === 'string' ? errorClass : cause instanceof Error ? cause.name : 'Error',
    message: masker ? masker.mask(message) : message,
  };
}

/** Why a run was aborted from outside: the task's fate is already decided elsewhere. */
class ExternalAbort extends Error {}

/** The agent ran past `taskTimeoutMs`. */
class RunTimeout extends Error {
  override name = 'TimeoutError';
  constructor(ms: number) {
    super(`the agent did not finish within ${ms} ms`);
  }
}

/**
 * The durable task runner: a bounded worker pool over a {@link TaskStore}. It wakes at once on an
 * in-process enqueue, on its poll interval, and at the next task's run-at; holds a renewed lease
 * on every running task; recovers expired leases at start and periodically; retries failed
 * attempts with exponential backoff and jitter until `maxAttempts`, then ends them `failed`;
 * and sends results back to the channel address the task came from.
 */
export class TaskRunner implements RunnerHandle {
  readonly #deps: RunnerDeps;
  readonly #options: RunnerOptions;
  readonly #running = new Map<string, Running>();
  readonly #backoff: ExponentialBackoff<unknown>;
  #state: 'idle' | 'running' | 'draining' | 'stopped' = 'idle';
  #pumping = false;
  /** The pump's current pass, so a drain can wait for a claim it has in flight. */
  #pumped: Promise<void> = Promise.resolve();
  /** Lets the loop turn every 10 ms while tasks that finish at once hand slots over. */
  readonly #turn = new EventLoopTurn(10);
  /** Counts wake-ups: a completion that claimed nothing pumps only if one came meanwhile. */
  #wakeups = 0;
  #pumpAgain = false;
  #wakeTimer: TimerHandle | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #recoverTimer: TimerHandle | undefined;
  /** Earliest expiry of another runner's lease seen by the last recovery, to recover right then. */
  #nextForeignExpiry = Number.POSITIVE_INFINITY;
  /** Aborts runs past `taskTimeoutMs`: one timer for all, at the oldest run's deadline. */
  #timeoutTimer: TimerHandle | undefined;
  #timeoutAt = Number.POSITIVE_INFINITY;
  /** Renews every running task's lease; set only while tasks run (see #keepLeases). */
  #leaseTimer: TimerHandle | undefined;
  /** The store's work notifications (another host enqueued), when the store offers them. */
  #workSubscription: Promise<{ close(): Promise<void> } | undefined> | undefined;
  #pendingCompletions: { id: string; result: JsonValue | null; task: Task }[] = [];
  #flushScheduled = false;
  #idleWaiters: (() => void)[] = [];
  #draining: Promise<void> | undefined;
  #prunedAt = Number.NEGATIVE_INFINITY;
  #executor: AgentExecutor | undefined;
  readonly #outbox: ReplyOutbox;

  constructor(deps: RunnerDeps, options: Partial<RunnerOptions> = {}) {
    this.#deps = deps;
    this.#outbox = deps.outbox ?? new ReplyOutbox(deps);
    this.#options = { ...DEFAULT_RUNNER_OPTIONS, ...options };
    this.#backoff = new ExponentialBackoff({
      initialDelay: this.#options.retry.initialDelayMs,
      maxDelay: this.#options.retry.maxDelayMs,
    });
  }

  /**
   * Routes runs through `executor` (failover, sessions, budgets) instead of calling `agent.run`;
   * `undefined` restores the direct call. Set before `start`.
   */
  setExecutor(executor: AgentExecutor | undefined): void {
    this.#executor = executor;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#running.size;
  }

  /**
   * Recovers the leases of tasks whose runner is gone: leases that expired, and at once every
   * lease held by a runner of this machine whose process no longer runs (a kill -9 and restart
   * need not wait out the lease). A process such a run started and recorded with its lease (a
   * command agent's child) is ended first (SIGTERM, then SIGKILL after `killGraceMs`), so it
   * never runs beside the task's retry. Leases of live runners, here or on other machines, are
   * left alone. Called before intake opens, then periodically.
   */
  async recover(): Promise<void> {
    const { store, clock, owner, logger } = this.#deps;
    const now = clock.now();
    // Forgotten first: a recovery that fails falls back to the plain tick, never a busy loop.
    this.#nextForeignExpiry = Number.POSITIVE_INFINITY;
    const leases = await store.listLeases();
    const gone = new Set<string>();
    const checked = new Set<string>([owner]);
    let nextForeign = Number.POSITIVE_INFINITY;
    for (const lease of leases) {
      if (!checked.has(lease.owner)) {
        checked.add(lease.owner);
        if (ownerIsGone(lease.owner)) gone.add(lease.owner);
      }
      if (lease.owner !== owner && !gone.has(lease.owner) && lease.expiresAt > now) {
        nextForeign = Math.min(nextForeign, lease.expiresAt);
      }
    }
    this.#nextForeignExpiry = nextForeign;
    // End what the lost runs started before their tasks become claimable again.
    await Promise.all(
      leases
        .filter((l) => l.process !== null && (gone.has(l.owner) || l.expiresAt <= now))
        .map((l) => this.#endOrphan(l.taskId, l.process as JsonObject)),
    );
    const report = await store.recoverExpired(now, gone.size > 0 ? { owners: [...gone] } : {});
    if (report.requeued.length + report.failed.length > 0) {
      logger.warn(
        {
          requeued: report.requeued.length,
          failed: report.failed.length,
          ...(gone.size > 0 && { goneOwners: [...gone] }),
        },
        gone.size > 0
          ? 'recovered tasks of a runner that is gone (a previous run crashed or was killed)'
          : 'recovered tasks whose lease expired (a previous run crashed or was killed)',
      );
      this.#deps.events.emit('task.recovered', report);
    }
  }

  async #endOrphan(taskId: string, process: JsonObject): Promise<void> {
    try {
      if (await endRecordedProcess(process, this.#options.killGraceMs)) {
        this.#deps.logger.warn(
          { taskId, pid: process.pid },
          'ended a process left running by a lost run before its task runs again',
        );
      }
    } catch (err) {
      this.#deps.logger.error({ err, taskId }, 'could not end a process left by a lost run');
    }
  }

  /** Records a process a run started with its task's lease (see AgentRunContext.recordProcess). */
  readonly #recordProcess = async (task: Task, process: JsonObject): Promise<void> => {
    await this.#deps.store.recordLeaseProcess(task.id, this.#deps.owner, process);
  };

  /** Begins claiming work. Call once every plugin has started (the readiness barrier). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#scheduleRecovery();
    this.#sweepReplies();
    this.#listenForWork();
    this.notify();
  }

  /** Claims at once when another process adds work to a shared store (polling stays the fallback). */
  #listenForWork(): void {
    const { store, logger } = this.#deps;
    if (!store.onWork) return;
    this.#workSubscription = store
      .onWork(() => this.notify(), {
        onError: (err) =>
          logger.warn({ err }, 'work notifications from the store were interrupted'),
      })
      .then((subscription) => {
        // Work another host added while the subscription was being set up sent its
        // notification to nobody: look once now that we listen.
        this.notify();
        return subscription;
      })
      .catch((err: unknown) => {
        logger.warn({ err }, 'could not listen for work from other hosts; polling instead');
        return undefined;
      });
  }

  /** Sends replies left owed (a crash between a task's end and its reply, a failed send). */
  #sweepReplies(): void {
    this.#outbox
      .sweep()
      .catch((err: unknown) => this.#deps.logger.error({ err }, 'sending owed replies failed'));
  }

  /** Wakes the runner now: something may be runnable. */
  notify(): void {
    this.#wakeups++;
    if (this.#state !== 'running') return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumped = this.#pump();
  }

  /** Aborts a task running here; returns false if it is not running in this process. */
  abort(taskId: string, reason: string): boolean {
    const run = this.#running.get(taskId);
    if (!run) return false;
    run.control.abort(new ExternalAbort(reason));
    return true;
  }

  /**
   * Stops claiming and waits for running tasks until `signal` aborts; tasks still running then
   * are aborted and handed back to the queue, so the next start runs them again.
   */
  drain(signal: AbortSignal): Promise<void> {
    this.#draining ??= this.#drain(signal);
    return this.#draining;
  }

  async #drain(signal: AbortSignal): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'draining';
    this.#clearTimers();
    if (this.#running.size > 0) {
      this.#deps.logger.info(
        { running: this.#running.size },
        'waiting for running tasks to finish',
      );
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        this.#idleWaiters.push(resolve);
      });
    }
    // A claim in flight when the drain began hands its tasks back itself: wait for it (not
    // past the drain's deadline: a claim hung on an unreachable store must not hold the stop).
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      void this.#pumped.then(resolve);
    });
    if (this.#running.size > 0) {
      // The kernel's own deadline line counts intake only: say what happens to the runs.
      this.#deps.logger.warn(
        { running: this.#running.size },
        'the drain deadline passed with tasks running: aborted and handed back to the queue (they run again at the next start)',
      );
    }
    for (const run of this.#running.values()) {
      run.control.abort(new ExternalAbort('host stopping'));
    }
    await this.#handBack([...this.#running.keys()]);
    await this.#flushCompletions();
  }

  /** Returns tasks this host holds to the queue, to run again at once (here or elsewhere). */
  async #handBack(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      await this.#deps.store
        .fail(
          id,
          this.#deps.owner,
          { name: 'Interrupted', message: 'the host stopped while the task ran' },
          {
            retryAt: this.#deps.clock.now(),
            now: this.#deps.clock.now(),
          },
        )
        .catch((err: unknown) =>
          this.#deps.logger.error({ err, taskId: id }, 'could not hand an interrupted task back'),
        );
    }
  }

  /** Waits for the drain's hand-back (it may outlive the host's drain deadline), then releases timers. */
  async stop(): Promise<void> {
    await this.#draining;
    this.#state = 'stopped';
    this.#clearTimers();
    this.#outbox.stop();
    const subscription = await this.#workSubscription;
    this.#workSubscription = undefined;
    await subscription?.close().catch((err: unknown) => {
      this.#deps.logger.warn({ err }, 'could not stop listening for work');
    });
    this.#leaseTimer?.cancel();
    this.#leaseTimer = undefined;
    this.#timeoutTimer?.cancel();
    this.#timeoutTimer = undefined;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (this.#state === 'running' && this.#freeSlots() > 0) {
          const limit = Math.min(this.#options.batchSize, this.#freeSlots());
          const tasks = await this.#deps.store.claim({
            owner: this.#deps.owner,
            leaseMs: this.#options.leaseMs,
            limit,
            now: this.#deps.clock.now(),
          });
          if (this.#state !== 'running') {
            // The host began to stop while this claim was in flight: its drain did not see
            // these tasks, so they go straight back rather than run into a closing store.
            await this.#handBack(tasks.map((t) => t.id));
            break;
          }
          for (const task of tasks) this.#execute(task);
          if (tasks.length < limit) break;
        }
      } while (this.#pumpAgain && this.#state === 'running');
    } catch (err) {
      this.#deps.logger.error({ err }, 'claiming tasks failed; retrying on the next wake-up');
    } finally {
      this.#pumping = false;
    }
    if (this.#state === 'running') await this.#scheduleWake();
  }

  /**
   * Slots for more tasks. A finished task whose completion waits for the next batch write still
   * holds its slot: it is running in the store until then, so `concurrency` bounds what the
   * store holds as running, not only what the agents are doing.
   */
  #freeSlots(): number {
    return this.#options.concurrency - this.#running.size - this.#pendingCompletions.length;
  }

  /** Sleeps until the poll interval or the next run-at, whichever is sooner. */
  async #scheduleWake(): Promise<void> {
    const now = this.#deps.clock.now();
    let at = now + this.#options.pollMs;
    if (this.#freeSlots() > 0) {
      const next = await this.#deps.store.nextRunAt(now).catch(() => undefined);
      if (next !== undefined && next < at) at = next;
    }
    if (this.#wakeTimer && this.#wakeAt <= at) return;
    this.#wakeTimer?.cancel();
    this.#wakeAt = at;
    this.#wakeTimer = this.#deps.clock.setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = Number.POSITIVE_INFINITY;
      this.notify();
    }, at - now);
  }

  #scheduleRecovery(): void {
    // At the next tick, or just after the earliest lease of another runner expires if sooner.
    const untilExpiry = this.#nextForeignExpiry - this.#deps.clock.now() + 5;
    const delay = Math.max(5, Math.min(this.#options.recoverEveryMs, untilExpiry));
    this.#recoverTimer = this.#deps.clock.setTimeout(() => {
      void this.recover()
        .then(() =>
          this.#pruneIfDue().catch((err: unknown) =>
            this.#deps.logger.error({ err }, 'deleting old finished tasks failed'),
          ),
        )
        .catch((err: unknown) => this.#deps.logger.error({ err }, 'lease recovery failed'))
        .finally(() => {
          if (this.#state !== 'running') return;
          this.#sweepReplies();
          this.#scheduleRecovery();
          this.notify();
        });
    }, delay);
  }

  /** Deletes finished tasks past their retention, in batches, at most once per hour. */
  async #pruneIfDue(): Promise<void> {
    const { retention } = this.#options;
    const now = this.#deps.clock.now();
    if (retention === false || now - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now;
    let deleted = 0;
    for (const [statuses, keepMs] of [
      [['completed'], retention.completedMs],
      [['failed', 'cancelled'], retention.failedMs],
    ] as const) {
      for (;;) {
        const n = await this.#deps.store.prune({ before: now - keepMs, statuses, limit: 1000 });
        deleted += n;
        if (n < 1000 || this.#state !== 'running') break;
        // Yield between batches: the store may be synchronous and the host has other work.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (deleted > 0)
      this.#deps.logger.info({ deleted }, 'deleted finished tasks past their retention');
  }

  #execute(task: Task): void {
    const control = new RunControl();
    const running = new Running(
      task,
      control,
      this.#deps.clock.now() + this.#options.taskTimeoutMs,
    );
    this.#running.set(task.id, running);
    this.#watchDeadline(running.deadline);
    const { events } = this.#deps;
    if (events.listenerCount('task.started') > 0) events.emit('task.started', { task });
    void this.#run(task, running)
      .catch((err: unknown) => {
        this.#deps.logger.error({ err, taskId: task.id }, 'could not record the end of a task');
        return undefined;
      })
      .then((next) => {
        // The slot stays taken while the loop turns (timers, I/O), so no more than
        // `concurrency` tasks run or are claimed meanwhile.
        if (this.#turn.overdue()) void nextTurn().then(() => this.#freeSlot(task, next));
        else this.#freeSlot(task, next);
      });
  }

  /** Gives `task`'s slot to the tasks claimed with its completion, or to the pump. */
  #freeSlot(task: Task, next: { claimed: Task[]; wakeups: number } | undefined): void {
    this.#running.delete(task.id);
    // The next task was claimed with this one's completion: hand the slot straight over.
    if (next) for (const t of next.claimed) this.#execute(t);
    if (this.#running.size === 0 && this.#idleWaiters.length > 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
    // A completion that claimed nothing found nothing to run, unless a wake-up came since
    // (work added while this slot was still taken): only then, or when the task ended
    // without looking for work, is the pump needed for the freed slot.
    if (next === undefined || (next.claimed.length === 0 && next.wakeups !== this.#wakeups)) {
      this.notify();
    }
  }

  /**
   * Runs one task to its end; resolves with the tasks claimed along with its completion (and
   * the wake-up count just before that claim), or undefined when it ended without looking for
   * work (a failure, a batched completion, a drain).
   */
  async #run(
    task: Task,
    running: Running,
  ): Promise<{ claimed: Task[]; wakeups: number } | undefined> {
    const { store, agents, clock, logger, owner, sessions } = this.#deps;
    const { control } = running;
    this.#keepLeases();
    try {
      const agentName = task.agent ?? agents.defaultAgent;
      const agent = agentName === undefined ? undefined : agents.get(agentName);
      if (!agent) {
        const message =
          agentName === undefined
            ? 'the task names no agent and the host has no default agent'
            : `no agent named "${agentName}" on this host`;
        const updated = await store.fail(
          task.id,
          owner,
          { name: 'UnknownAgent', message },
          { now: clock.now() },
        );
        if (updated) this.#failed(updated, false);
        return undefined;
      }
      const runLogger = lazyChild(logger, { task: task.id, agent: agent.name });
      // The agent's signal is made only if it reads it (see RunControl and AgentContext).
      const ctx = new AgentContext(task, control, runLogger, clock, this.#recordProcess);
      // A session run hands its end (its turn) to this task's completion, one commit for both;
      // batched completions keep the session's own write.
      if (sessions && this.#executor && this.#options.batchSize === 1) {
        ctx[TURN_HANDOFF] = running;
      }
      const ran = await inSpan(
        'agentd.task.run',
        {
          'agentd.task.id': task.id,
          'agentd.task.type': task.type,
          'agentd.agent': agent.name,
          'agentd.task.attempt': task.attempts,
        },
        () =>
          control.race(
            this.#executor
              ? this.#executor.execute(task, agent.name, ctx)
              : agent.run(task.input, ctx),
          ),
      );
      // What is stored is what the API, the CLI and the reply show: secrets masked here, once.
      const masker = this.#deps.masker;
      const result = masker ? { ...ran, output: masker.maskJson(ran.output) } : ran;
      if (this.#options.batchSize > 1) {
        this.#queueCompletion(task, result.output);
        return undefined;
      }
      // While running, complete this task and claim the next in one write transaction, with
      // the end of its session run when the session manager handed it over.
      const claim =
        this.#state === 'running'
          ? { owner, leaseMs: this.#options.leaseMs, limit: 1, now: clock.now() }
          : undefined;
      const wakeups = this.#wakeups;
      const turn = running.take();
      let ended: { completed: boolean; claimed: Task[] | undefined };
      try {
        if (turn && sessions) {
          ended = claim
            ? await completeTurnAndClaimIn(
                store,
                sessions,
                task.id,
                owner,
                result.output,
                turn,
                claim,
              )
            : {
                // Draining: the turn first, as a session run's own write would be.
                completed: await recordTurnIn(
                  sessions,
                  turn.sessionId,
                  turn.entries,
                  turn.lastActivityAt,
                )
                  .catch((err: unknown) =>
                    logger.warn(
                      { err, taskId: task.id },
                      'could not record the end of a session run',
                    ),
                  )
                  .then(() => store.complete(task.id, owner, result.output, clock.now())),
                claimed: undefined,
              };
          running.settle(true);
        } else {
          ended = claim
            ? await completeAndClaimIn(store, task.id, owner, result.output, claim)
            : {
                completed: await store.complete(task.id, owner, result.output, clock.now()),
                claimed: undefined,
              };
        }
      } catch (err) {
        // Not written with the completion: the task runs again, and its run records its turn.
        running.settle({ error: err });
        throw err;
      }
      const { completed, claimed } = ended;
      if (completed) this.#completed(task, result.output);
      else
        logger.warn(
          { taskId: task.id },
          'task finished after its lease was lost; result discarded',
        );
      return claimed && { claimed, wakeups };
    } catch (err) {
      const reason: unknown = control.reason;
      if (reason instanceof ExternalAbort) return undefined;
      const cause = reason instanceof RunTimeout ? reason : err;
      const error = taskError(cause, this.#deps.masker);
      // An executor's error may decide the retry itself: `retryable: false` ends the task now
      // (failover already tried every agent), `retryAt` names when (a rate limit's Retry-After).
      const verdict = (cause ?? {}) as { retryable?: unknown; retryAt?: unknown };
      const retryAt =
        verdict.retryable === false
          ? undefined
          : typeof verdict.retryAt === 'number'
            ? Math.max(verdict.retryAt, clock.now())
            : clock.now() + retryDelay(this.#backoff, task.attempts);
      const updated = await store
        .fail(task.id, owner, error, { retryAt, now: clock.now() })
        .catch((e: unknown) => {
          logger.error({ err: e, taskId: task.id }, 'could not record a failed attempt');
          return undefined;
        });
      if (updated) this.#failed(updated, updated.status === 'pending');
      return undefined;
    } finally {
      running.deadline = Number.POSITIVE_INFINITY;
      // A turn offered but not written above (the run was aborted meanwhile, or failed after
      // it) goes back to the session manager, which writes it itself; later offers are refused.
      running.settle(false);
    }
  }

  /**
   * Makes sure the timeout timer fires by `deadline`. Every run gets the same `taskTimeoutMs`
   * from its start, so runs reach their deadlines in the order they started (the order of
   * #running): one timer at the oldest run's deadline serves them all, where a timer per run
   * cost a timer's creation and cancellation on every task of the hot path. A manual clock
   * drives it in tests as it drove the per-run timers.
   */
  #watchDeadline(deadline: number): void {
    if (this.#timeoutTimer && this.#timeoutAt <= deadline) return;
    this.#timeoutTimer?.cancel();
    this.#timeoutAt = deadline;
    this.#timeoutTimer = this.#deps.clock.setTimeout(
      () => this.#abortOverdue(),
      deadline - this.#deps.clock.now(),
    );
  }

  /** Aborts every run past its deadline, then waits for the next deadline, if a run has one. */
  #abortOverdue(): void {
    this.#timeoutTimer = undefined;
    this.#timeoutAt = Number.POSITIVE_INFINITY;
    const now = this.#deps.clock.now();
    const limit = this.#options.taskTimeoutMs;
    for (const run of this.#running.values()) {
      if (run.deadline === Number.POSITIVE_INFINITY) continue;
      if (run.deadline > now) {
        this.#watchDeadline(run.deadline);
        return;
      }
      run.deadline = Number.POSITIVE_INFINITY;
      run.control.abort(new RunTimeout(limit));
    }
  }

  /**
   * Renews the leases of all running tasks every third of a lease's length, from one timer that
   * exists only while tasks run (during a drain too); a lost lease (the task was cancelled or
   * recovered elsewhere) aborts its run. One timer for all, rather than one per run, keeps the
   * per-task cost flat however many tasks run.
   */
  #keepLeases(): void {
    if (this.#leaseTimer || this.#state === 'stopped') return;
    const { store, clock, owner, logger } = this.#deps;
    const { leaseMs } = this.#options;
    this.#leaseTimer = clock.setTimeout(
      async () => {
        const expiresAt = clock.now() + leaseMs;
        await Promise.all(
          [...this.#running].map(async ([id, run]) => {
            // A failed write keeps the run: the lease may still hold, and the next tick retries.
            const held = await store.renewLease(id, owner, expiresAt).catch(() => true);
            if (held || run.control.aborted || this.#running.get(id) !== run) return;
            logger.warn(
              { taskId: id },
              'lease lost (task cancelled or recovered elsewhere); aborting the run',
            );
            run.control.abort(new ExternalAbort('lease lost'));
          }),
        );
        this.#leaseTimer = undefined;
        if (this.#running.size > 0) this.#keepLeases();
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
  }

  #queueCompletion(task: Task, output: JsonValue | null): void {
    this.#pendingCompletions.push({ id: task.id, result: output, task });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => void this.#flushCompletions());
  }

  async #flushCompletions(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#pendingCompletions;
    if (batch.length === 0) return;
    this.#pendingCompletions = [];
    try {
      await completeManyIn(this.#deps.store, batch, this.#deps.owner, this.#deps.clock.now());
      for (const item of batch) this.#completed(item.task, item.result);
    } catch (err) {
      this.#deps.logger.error(
        { err, tasks: batch.length },
        'could not record completed tasks; they will run again after lease expiry',
      );
    }
    // Their slots are free now.
    this.notify();
  }

  #completed(task: Task, output: JsonValue | null): void {
    const { events } = this.#deps;
    const needsTask = events.listenerCount('task.completed') > 0 || task.replyTo !== null;
    if (!needsTask) return;
    const done: Task = {
      ...task,
      status: 'completed',
      result: output,
      finishedAt: this.#deps.clock.now(),
      leaseOwner: null,
      leaseExpiresAt: null,
    };
    events.emit('task.completed', { task: done });
    this.#outbox.send(done);
  }

  #failed(task: Task, willRetry: boolean): void {
    this.#deps.logger.warn(
      {
        taskId: task.id,
        attempts: task.attempts,
        maxAttempts: task.maxAttempts,
        error: task.error,
        willRetry,
      },
      willRetry ? 'task attempt failed; will retry' : 'task failed',
    );
    this.#deps.events.emit('task.failed', { task, willRetry });
    if (willRetry) void this.#scheduleWake();
    else this.#outbox.send(task);
  }

  #clearTimers(): void {
    this.#wakeTimer?.cancel();
    this.#wakeTimer = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
    this.#recoverTimer?.cancel();
    this.#recoverTimer = undefined;
  }
}
