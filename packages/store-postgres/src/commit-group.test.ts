import { describe, expect, it } from 'vitest';
import { CommitGroup } from './commit-group.js';

/** A write that takes a few milliseconds, recording each batch it was given. */
function recordingWrites(fail?: (item: number) => boolean) {
  const batches: number[][] = [];
  const singles: number[] = [];
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  return {
    batches,
    singles,
    async writeMany(items: number[]) {
      await pause();
      if (fail && items.some(fail)) throw new Error('the batch was refused');
      batches.push(items);
      return items.map((i) => i * 10);
    },
    async writeOne(item: number) {
      await pause();
      if (fail?.(item)) throw new Error(`item ${item} was refused`);
      singles.push(item);
      return item * 10;
    },
  };
}

describe('CommitGroup', () => {
  it('writes a lone caller at once, and callers arriving meanwhile together in the next write', async () => {
    const w = recordingWrites();
    const group = new CommitGroup(w.writeMany, w.writeOne);
    expect(await group.submit(1)).toBe(10);
    expect(w.singles).toEqual([1]);
    // 50 callers in one turn of the event loop: one write takes them all.
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => group.submit(i + 2)));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => (i + 2) * 10));
    expect(w.batches).toEqual([Array.from({ length: 50 }, (_, i) => i + 2)]);
  });

  it('gathers what arrives during a write into the next one, at most maxBatch per write', async () => {
    const w = recordingWrites();
    const group = new CommitGroup(w.writeMany, w.writeOne, { maxBatch: 4 });
    const first = group.submit(0);
    await new Promise((resolve) => setImmediate(resolve)); // the first write is now in flight
    const rest = Array.from({ length: 6 }, (_, i) => group.submit(i + 1));
    expect(await Promise.all([first, ...rest])).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(w.singles).toEqual([0]);
    expect(w.batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('lets callers that reach submit through several awaits in one turn share a write', async () => {
    const w = recordingWrites();
    const group = new CommitGroup(w.writeMany, w.writeOne);
    // As a runner's tasks claimed together finish: each through its own chain of promises, of
    // different lengths (with a flush in a microtask, the first went alone).
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        for (let hop = 0; hop < i; hop++) await Promise.resolve();
        return group.submit(i);
      }),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(w.singles).toEqual([]);
    expect(w.batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it('deals what waits out evenly over the free writes in flight', async () => {
    const w = recordingWrites();
    const group = new CommitGroup(w.writeMany, w.writeOne, { maxInFlight: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => group.submit(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(w.batches).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ]);
  });

  it('writes each item of a refused batch on its own, so only the bad one fails', async () => {
    const w = recordingWrites((item) => item === 3);
    const group = new CommitGroup(w.writeMany, w.writeOne);
    const settled = await Promise.allSettled([1, 2, 3, 4].map((i) => group.submit(i)));
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((settled[2] as PromiseRejectedResult).reason.message).toBe('item 3 was refused');
    expect(w.batches).toEqual([]);
    expect(w.singles.sort()).toEqual([1, 2, 4]);
  });

  it('lets a result settled after the commit reject only its own caller', async () => {
    const group = new CommitGroup<number, number>(
      async (items) => items.map((i) => (i === 2 ? Promise.reject(new Error('read failed')) : i)),
      async (i) => i,
    );
    const settled = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
