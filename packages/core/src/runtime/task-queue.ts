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

/**
 * The kernel's {@link TaskQueue}: fills in the default agent, refuses unknown agents at once
 * (a clear error beats a task that fails later), persists through the store and wakes the runner
 * without a polling delay.
 */
export class DefaultTaskQueue implements TaskQueue {
  constructor(
    private readonly store: TaskStore,
    private readonly agents: AgentRegistry,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly runner: () => RunnerHandle | undefined,
  ) {}

  async enqueue(task: NewTask): Promise<EnqueueResult> {
    const result = await this.store.enqueue(this.#prepare(task), this.clock.now());
    this.#after([result]);
    return result;
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
