import type { AgentRegistry } from '../contracts/agent.js';
import type { Clock } from '../contracts/clock.js';
import type { EnqueueResult, NewTask, Task, TaskQueue, TaskStore } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { enqueueManyInto } from '../store-kit/fast-paths.js';

/** What the queue needs from the runner: a wake-up call and a way to abort a running task. */
export interface RunnerHandle {
  notify(): void;
  abort(taskId: string, reason: string): boolean;
}

/** An `enqueue` waiting for its batch to be written. */
interface PendingEnqueue {
  task: NewTask;
  now: number;
  resolve: (result: EnqueueResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The kernel's {@link TaskQueue}: fills in the default agent, refuses unknown agents at once
 * (a clear error beats a task that fails later), persists through the store and wakes the runner
 * without a polling delay.
 *
 * Single enqueues made while the same promise jobs run (a channel taking a batch of messages
 * side by side, several webhook deliveries at once) are written together, in the order they
 * were made, by one `enqueueMany` (one write transaction), once those jobs have run: a
 * `process.nextTick` later, before any timer or I/O. Each caller still gets its own result,
 * and its own error: when a batch fails, its tasks are written one by one, so one bad task
 * fails alone.
 */
export class DefaultTaskQueue implements TaskQueue {
  #pending: PendingEnqueue[] = [];

  constructor(
    private readonly store: TaskStore,
    private readonly agents: AgentRegistry,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly runner: () => RunnerHandle | undefined,
  ) {}

  enqueue(task: NewTask): Promise<EnqueueResult> {
    let prepared: NewTask;
    try {
      prepared = this.#prepare(task);
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.clock.now();
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) process.nextTick(() => void this.#flush());
      this.#pending.push({ task: prepared, now, resolve, reject });
    });
  }

  /** Writes the enqueues made since the last flush: one `enqueueMany` per run of equal `now`. */
  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; ) {
      const now = (pending[start] as PendingEnqueue).now;
      let end = start + 1;
      while (end < pending.length && (pending[end] as PendingEnqueue).now === now) end++;
      await this.#write(pending.slice(start, end), now);
      start = end;
    }
  }

  async #write(batch: readonly PendingEnqueue[], now: number): Promise<void> {
    if (batch.length > 1) {
      const results = await enqueueManyInto(
        this.store,
        batch.map((p) => p.task),
        now,
      ).catch(() => undefined);
      if (results) {
        for (const [i, p] of batch.entries()) p.resolve(results[i] as EnqueueResult);
        this.#after(results);
        return;
      }
      // One task may have failed them all (too large, refused by a constraint): one by one,
      // each caller gets its own outcome.
    }
    await Promise.all(
      batch.map(async (p) => {
        try {
          const result = await this.store.enqueue(p.task, now);
          this.#after([result]);
          p.resolve(result);
        } catch (error) {
          p.reject(error);
        }
      }),
    );
  }

  async enqueueMany(tasks: readonly NewTask[]): Promise<EnqueueResult[]> {
    // The store's enqueueMany when it has one, else core's fallback on enqueue.
    const results = await enqueueManyInto(
      this.store,
      tasks.map((t) => this.#prepare(t)),
      this.clock.now(),
    );
    this.#after(results);
    return results;
  }

  async cancel(id: string): Promise<Task | undefined> {
    const task = await this.store.cancel(id, this.clock.now());
    if (task) {
      this.runner()?.abort(id, 'cancelled');
      this.events.emit('task.cancelled', { task });
    }
    return task;
  }

  async hold(id: string): Promise<Task | undefined> {
    const task = await this.store.hold(id);
    if (task) this.events.emit('task.held', { task });
    return task;
  }

  async release(id: string): Promise<Task | undefined> {
    const task = await this.store.release(id);
    if (task) {
      // Its run-at may have passed while it was held: the runner looks again now.
      this.runner()?.notify();
      this.events.emit('task.released', { task });
    }
    return task;
  }

  #prepare(task: NewTask): NewTask {
    if (task === null || typeof task !== 'object') {
      throw new AgentdError('E_INVALID_TASK', 'a task must be an object like { input: "..." }');
    }
    const agent = task.agent ?? this.agents.defaultAgent;
    if (agent === undefined) {
      throw new AgentdError(
        'E_NO_AGENT',
        'the task names no agent and the host has no default agent; add one under "agents"',
      );
    }
    if (!this.agents.get(agent)) {
      const known = this.agents.list().map((a) => a.name);
      throw new AgentdError(
        'E_UNKNOWN_AGENT',
        `unknown agent "${agent}"${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      );
    }
    return task.agent === agent ? task : { ...task, agent };
  }

  #after(results: readonly EnqueueResult[]): void {
    if (!results.some((r) => r.created)) return;
    this.runner()?.notify();
    if (this.events.listenerCount('task.enqueued') === 0) return;
    for (const r of results) if (r.created) this.events.emit('task.enqueued', { task: r.task });
  }
}
