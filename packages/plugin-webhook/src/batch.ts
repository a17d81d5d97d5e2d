import type { EnqueueResult, NewTask, TaskQueue } from '@agentd/core';

interface Pending {
  task: NewTask;
  resolve: (result: EnqueueResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for webhook intake: enqueues that arrive in the same turn of the event loop are
 * written in one `enqueueMany` transaction. A SQLite commit costs far more than a row (about
 * 75 µs against 15 µs here), so under load this multiplies intake; alone, a delivery waits only
 * for the end of the current turn. Each caller still resolves only once its task is stored, so a
 * 2xx still means "persisted". A batch the store refuses (one bad task refuses all) is retried
 * one task at a time, so only the bad one fails.
 *
 * @example
 * ```ts
 * const batcher = new EnqueueBatcher(() => ctx.tryResolve(TaskQueueToken));
 * const { task, created } = await batcher.enqueue({ input: payload, idempotencyKey: key });
 * ```
 */
export class EnqueueBatcher {
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(
    private readonly queue: () => TaskQueue | undefined,
    private readonly maxBatch = 256,
  ) {}

  enqueue(task: NewTask): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ task, resolve, reject });
      if (this.#pending.length >= this.maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    void this.#write(batch);
  };

  async #write(batch: Pending[]): Promise<void> {
    const queue = this.queue();
    if (!queue) {
      for (const p of batch) p.reject(new Error('no task queue'));
      return;
    }
    if (batch.length > 1) {
      let results: EnqueueResult[] | undefined;
      try {
        results = await queue.enqueueMany(batch.map((p) => p.task));
      } catch {
        // Fall through to one at a time.
      }
      if (results) {
        for (const [i, p] of batch.entries()) p.resolve(results[i]!);
        return;
      }
    }
    await Promise.all(
      batch.map(async (p) => {
        try {
          p.resolve(await queue.enqueue(p.task));
        } catch (error) {
          p.reject(error);
        }
      }),
    );
  }
}
