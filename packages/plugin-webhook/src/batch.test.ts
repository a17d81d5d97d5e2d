import type { EnqueueResult, NewTask, TaskQueue } from '@agentd/core';
import { describe, expect, it } from 'vitest';
import { EnqueueBatcher } from './batch.js';

function fakeQueue() {
  const calls: string[] = [];
  let n = 0;
  const result = (task: NewTask): EnqueueResult => ({
    task: { id: `t${n++}`, input: task.input ?? null } as EnqueueResult['task'],
    created: true,
  });
  const queue: TaskQueue = {
    async enqueue(task) {
      calls.push(`one:${String(task.input)}`);
      if (task.input === 'bad') throw new Error('bad task');
      return result(task);
    },
    async enqueueMany(tasks) {
      calls.push(`many:${tasks.length}`);
      if (tasks.some((t) => t.input === 'bad')) throw new Error('batch refused');
      return tasks.map(result);
    },
    cancel: async () => undefined,
    hold: async () => undefined,
    release: async () => undefined,
  };
  return { queue, calls };
}

describe('EnqueueBatcher', () => {
  it('writes what arrives in one turn as one batch, in order', async () => {
    const { queue, calls } = fakeQueue();
    const batcher = new EnqueueBatcher(() => queue);
    const results = await Promise.all(['a', 'b', 'c'].map((input) => batcher.enqueue({ input })));
    expect(calls).toEqual(['many:3']);
    expect(results.map((r) => r.task.input)).toEqual(['a', 'b', 'c']);
    await batcher.enqueue({ input: 'alone' });
    expect(calls).toEqual(['many:3', 'one:alone']);
  });

  it('retries a refused batch one by one, so only the bad task fails', async () => {
    const { queue, calls } = fakeQueue();
    const batcher = new EnqueueBatcher(() => queue);
    const outcomes = await Promise.allSettled(
      ['a', 'bad', 'c'].map((input) => batcher.enqueue({ input })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual(['many:3', 'one:a', 'one:bad', 'one:c']);
  });

  it('flushes at the size cap without waiting for the turn to end', async () => {
    const { queue, calls } = fakeQueue();
    const batcher = new EnqueueBatcher(() => queue, 2);
    await Promise.all(['a', 'b', 'c'].map((input) => batcher.enqueue({ input })));
    expect(calls).toEqual(['many:2', 'one:c']);
  });
});
