import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { SqliteTaskStore } from './task-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-task-stats-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const T0 = Date.UTC(2026, 0, 1);

describe('SqliteTaskStore.stats', () => {
  it('walks the open tasks again after any write, by this connection or another, and not while nothing changed', async () => {
    const path = join(dir, 'walks.db');
    const db = openDatabase({ path });
    const store = new SqliteTaskStore(db);
    await store.enqueueMany(
      Array.from({ length: 30 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      T0,
    );
    const first = await store.stats(T0);
    expect(first.byPriority.pending).toEqual([8, 8, 7, 7]);
    // Nothing changed: the same figures (from the kept walk).
    expect(await store.stats(T0)).toEqual(first);
    // This connection writes: a claim and a completion, then a raw delete of a pending task.
    const [claimed] = await store.claim({ owner: 'me', leaseMs: 1000, now: T0, limit: 1 });
    expect((await store.stats(T0)).byPriority.running).toEqual([1, 0, 0, 0]);
    await store.complete(claimed!.id, 'me', null, T0);
    const afterOwn = await store.stats(T0);
    expect(afterOwn.byPriority.running).toEqual([0, 0, 0, 0]);
    expect(afterOwn.byPriority.completed).toEqual([1, 0, 0, 0]);
    expect(afterOwn.byPriority.pending).toEqual([7, 8, 7, 7]);
    // Another connection (another process would be the same) claims the next two tasks.
    const other = openDatabase({ path });
    const [a, b] = await new SqliteTaskStore(other).claim({
      owner: 'them',
      leaseMs: 1000,
      now: T0,
      limit: 2,
    });
    expect([a?.priority, b?.priority]).toEqual([0, 0]);
    const afterOther = await store.stats(T0);
    expect(afterOther.byPriority.running).toEqual([2, 0, 0, 0]);
    expect(afterOther.byPriority.pending).toEqual([5, 8, 7, 7]);
    other.close();
    // A write this store did not make, on its own connection, is seen too.
    db.prepare("DELETE FROM tasks WHERE status = 'pending' AND priority = 3").run();
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 7, 0]);
    // Inside an open transaction that rolls back: the figures read inside are not kept.
    db.exec('BEGIN');
    db.prepare("DELETE FROM tasks WHERE status = 'pending' AND priority = 2").run();
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 0, 0]);
    db.exec('ROLLBACK');
    expect((await store.stats(T0)).byPriority.pending).toEqual([5, 8, 7, 0]);
    db.close();
  });
});
