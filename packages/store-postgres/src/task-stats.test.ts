// The task counters of PostgreSQL (task-stats.ts): two stores (two hosts) on one schema count
// right while they claim and complete at once, and the rows of connections that are gone fold
// into slot 0 without changing a total.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const postgres = await probePostgres();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function twoStores(): Promise<{ a: PostgresStore; b: PostgresStore; schema: string }> {
  const { schema, drop } = await createTestSchema();
  const a = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, pool: { max: 4 } });
  const b = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, pool: { max: 4 } });
  cleanups.push(async () => {
    await a.close();
    await b.close();
    await drop();
  });
  return { a, b, schema };
}

async function burn(store: PostgresStore, owner: string): Promise<number> {
  let done = 0;
  for (;;) {
    const [task] = await store.tasks.claim({ owner, leaseMs: 60_000, now: Date.now() });
    if (!task) return done;
    if (await store.tasks.complete(task.id, owner, 'ok', Date.now())) done++;
  }
}

describe.skipIf(!postgres.available)('PostgreSQL task counters', () => {
  it('count right across two hosts working at once, and keep totals when slots fold', async () => {
    const { a, b, schema } = await twoStores();
    const now = Date.now();
    await a.tasks.enqueueMany?.(
      Array.from({ length: 120 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      now,
    );
    const [doneA, doneB] = await Promise.all([burn(a, 'host-a'), burn(b, 'host-b')]);
    expect(doneA + doneB).toBe(120);
    const stats = await b.tasks.stats?.(Date.now());
    expect(stats?.byPriority.completed).toEqual([30, 30, 30, 30]);
    expect(stats?.byPriority.pending).toEqual([0, 0, 0, 0]);
    expect(stats?.byPriority.running).toEqual([0, 0, 0, 0]);

    // Several connections wrote: their rows fold into slot 0 once they are gone.
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const slots = async () =>
        (
          await admin.query<{ n: string }>(
            `select count(distinct slot)::text as n from "${schema}".task_counts`,
          )
        ).rows[0]?.n;
      expect(Number(await slots())).toBeGreaterThan(1);
      await a.close();
      await b.close();
      const c = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, pool: { max: 2 } });
      cleanups.push(() => c.close());
      const folded = await c.tasks.stats?.(Date.now());
      expect(folded?.byPriority.completed).toEqual([30, 30, 30, 30]);
      expect(await slots()).toBe('1');
      expect(await c.tasks.counts()).toMatchObject({ completed: 120, pending: 0 });
    } finally {
      await admin.end();
    }
  });

  it('finds the oldest runnable task by its run-at, across priorities', async () => {
    const { a } = await twoStores();
    const t0 = 1_900_000_000_000;
    await a.tasks.enqueue({ input: 'low', priority: 3, runAt: t0 - 5000 }, t0 - 9000);
    await a.tasks.enqueue({ input: 'high', priority: 1, runAt: t0 - 1000 }, t0 - 9000);
    await a.tasks.enqueue({ input: 'future', priority: 0, runAt: t0 + 60_000 }, t0 - 9000);
    expect((await a.tasks.stats?.(t0))?.oldestRunnableAt).toBe(t0 - 5000);
    expect((await a.tasks.stats?.(t0 - 6000))?.oldestRunnableAt).toBeNull();
    expect((await a.tasks.stats?.(t0))?.byPriority.pending).toEqual([1, 1, 0, 1]);
  });
});
