import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

// Completions (with their next claim, and their session turn) made in the same promise jobs
// share one transaction: each as if alone, in the order made, one commit.

const dir = mkdtempSync(join(tmpdir(), 'agentd-completion-group-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = 1_700_000_000_000;
const lease = { owner: 'runner-1', leaseMs: 60_000 };

describe('SQLite completions made together', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  async function open() {
    const path = join(dir, `s${++n}.db`);
    const store = await openSqliteStore({ path, backgroundCheckpoints: false });
    stores.push(store);
    // Each commit appends the pages it changed to the WAL (no checkpoint meanwhile: 1,000 pages).
    const walBytes = () => statSync(`${path}-wal`).size;
    return { store, walBytes };
  }

  async function sixRunning(store: SqliteStore) {
    const tasks = (
      await store.tasks.enqueueMany!(
        Array.from({ length: 9 }, (_, i) => ({ input: `t${i}` })),
        T0,
      )
    ).map((r) => r.task);
    expect(await store.tasks.claim({ ...lease, limit: 6, now: T0 })).toHaveLength(6);
    return tasks;
  }

  it('writes completions of one tick in one commit, each caller getting its own outcome', async () => {
    const { store, walBytes } = await open();
    const tasks = await sixRunning(store);
    const now = { ...lease, now: T0 + 1 };
    // Three one after another: three commits.
    let before = walBytes();
    for (const t of tasks.slice(0, 3)) {
      await store.tasks.completeAndClaim!(t.id, 'runner-1', `r ${t.id}`, now);
    }
    const alone = walBytes() - before;
    // Three at once (one of them no longer held): one commit, fewer pages appended.
    before = walBytes();
    const results = await Promise.all([
      store.tasks.completeAndClaim!(tasks[3]!.id, 'runner-1', 'r3', now),
      store.tasks.completeAndClaim!(tasks[4]!.id, 'intruder', 'r4', now),
      store.tasks.completeAndClaim!(tasks[5]!.id, 'runner-1', 'r5', now),
    ]);
    const together = walBytes() - before;
    expect(together).toBeLessThan(alone);
    expect(results.map((r) => r.completed)).toEqual([true, false, true]);
    // Claims in the order made: nothing claimable was claimed twice.
    const claimed = results.flatMap((r) => r.claimed.map((t) => t.id));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect((await store.tasks.get(tasks[4]!.id))?.status).toBe('running');
    expect(await store.tasks.get(tasks[5]!.id)).toMatchObject({
      status: 'completed',
      result: 'r5',
    });
  });

  it('writes completions still queued when the store closes', async () => {
    const path = join(dir, `s${++n}.db`);
    const store = await openSqliteStore({ path });
    const tasks = await sixRunning(store);
    const done = store.tasks.completeAndClaim!(tasks[0]!.id, 'runner-1', 'r0', {
      ...lease,
      now: T0 + 1,
    });
    await store.close();
    expect((await done).completed).toBe(true);
    const reopened = await openSqliteStore({ path });
    stores.push(reopened);
    expect((await reopened.tasks.get(tasks[0]!.id))?.status).toBe('completed');
  });

  it('writes each on its own when the shared transaction fails, so one bad call fails alone', async () => {
    const { store } = await open();
    const tasks = await sixRunning(store);
    const now = { ...lease, now: T0 + 1 };
    const outcomes = await Promise.allSettled([
      store.tasks.completeAndClaim!(tasks[0]!.id, 'runner-1', 'r0', now),
      // An invalid claim throws inside the shared transaction, which is rolled back whole.
      store.tasks.completeAndClaim!(tasks[1]!.id, 'runner-1', 'r1', { ...now, limit: -1 }),
      store.tasks.completeAndClaim!(tasks[2]!.id, 'runner-1', 'r2', now),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.tasks.get(tasks[0]!.id))?.status).toBe('completed');
    expect((await store.tasks.get(tasks[1]!.id))?.status).toBe('running');
    expect((await store.tasks.get(tasks[2]!.id))?.status).toBe('completed');
  });
});
