// The task counters of PostgreSQL (task-stats.ts): two stores (two hosts) on one schema count
// right while they claim and complete at once, and the rows of connections that are gone fold
// into slot 0 without changing a total.
import type { TaskStatus } from '@agentd/core';
import { TASK_STATUSES } from '@agentd/core/store';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MIGRATIONS } from './all-migrations.js';
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

/** Runs SQL on a connection of its own (what another program, or an older host, would do). */
async function raw<Row extends pg.QueryResultRow>(sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Tasks by status and priority, counted from the rows, shaped like `TaskStats.byPriority`. */
async function countRows(schema: string): Promise<Record<TaskStatus, number[]>> {
  const byPriority = Object.fromEntries(TASK_STATUSES.map((s) => [s, [0, 0, 0, 0]])) as Record<
    TaskStatus,
    number[]
  >;
  const rows = await raw<{ status: TaskStatus; priority: number; n: number }>(
    `SELECT status, priority, count(*)::int AS n FROM "${schema}".tasks GROUP BY status, priority`,
  );
  for (const row of rows) byPriority[row.status][row.priority] = row.n;
  return byPriority;
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

  it('stay exact after every kind of status change, each counted by its own statement', async () => {
    const { a, b, schema } = await twoStores();
    const exact = async () =>
      expect((await a.tasks.stats?.(Date.now()))?.byPriority).toEqual(await countRows(schema));
    const t0 = Date.now();
    const ids = (
      await a.tasks.enqueueMany!(
        Array.from({ length: 16 }, (_, i) => ({
          input: i,
          priority: (i % 4) as 0 | 1 | 2 | 3,
          maxAttempts: i < 12 ? 1 : 3,
        })),
        t0,
      )
    ).map((r) => r.task.id);
    // Hold (twice), release, cancel held, pending and running tasks.
    await a.tasks.hold(ids[0]!);
    await a.tasks.hold(ids[0]!);
    await a.tasks.hold(ids[1]!);
    await a.tasks.release(ids[1]!);
    await a.tasks.cancel(ids[0]!, t0);
    await a.tasks.cancel(ids[2]!, t0);
    await exact();
    // A batch claim, and claims shared between two hosts' callers.
    const claimed = await a.tasks.claim({ owner: 'a', leaseMs: 60_000, now: t0, limit: 6 });
    const [one, two] = await Promise.all([
      b.tasks.claim({ owner: 'b', leaseMs: 1, now: t0 }),
      b.tasks.claim({ owner: 'b', leaseMs: 1, now: t0 }),
    ]);
    expect(claimed).toHaveLength(6);
    await exact();
    await a.tasks.cancel(claimed[0]!.id, t0);
    // A completion alone, many at once, and one with its next claim.
    await a.tasks.complete(claimed[1]!.id, 'a', 'done', t0);
    await a.tasks.completeMany!(
      [claimed[2]!, claimed[3]!].map((t) => ({ id: t.id, result: null })),
      'a',
      t0,
    );
    const next = await a.tasks.completeAndClaim!(claimed[4]!.id, 'a', 'ok', {
      owner: 'a',
      leaseMs: 60_000,
      now: t0,
    });
    expect(next.completed).toBe(true);
    await exact();
    // A failure for good, and a retry (the task goes back to pending: no count moves).
    await a.tasks.fail(claimed[5]!.id, 'a', { name: 'Error', message: 'x' }, { now: t0 });
    const [retrying] = await a.tasks.claim({ owner: 'a', leaseMs: 60_000, now: t0 });
    await a.tasks.fail(
      retrying!.id,
      'a',
      { name: 'Error', message: 'again' },
      { now: t0, retryAt: t0 },
    );
    await exact();
    // Lease recovery: b's leases ran out, one task back to pending or failed for good.
    const report = await a.tasks.recoverExpired(t0 + 10);
    expect(report.requeued.length + report.failed.length).toBe([...one!, ...two!].length);
    await exact();
  });

  it('stay exact after every kind of insert, each counted by its own statement (no insert trigger)', async () => {
    const { a, b, schema } = await twoStores();
    const exact = async () =>
      expect((await a.tasks.stats?.(Date.now()))?.byPriority).toEqual(await countRows(schema));
    const t0 = Date.now();
    // One by one (shared commits), keyless and keyed, with a key taken twice.
    await Promise.all([
      a.tasks.enqueue({ input: 1, priority: 0 }, t0),
      a.tasks.enqueue({ input: 2, priority: 3, idempotencyKey: 'k' }, t0),
      b.tasks.enqueue({ input: 3, priority: 3, idempotencyKey: 'k' }, t0),
    ]);
    await exact();
    // Batches: keyless, and keyed with a key repeated inside the batch and one already stored.
    await a.tasks.enqueueMany!(
      Array.from({ length: 9 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
      t0,
    );
    await b.tasks.enqueueMany!(
      [
        { input: 'x', priority: 1, idempotencyKey: 'm' },
        { input: 'y', priority: 1, idempotencyKey: 'm' },
        { input: 'z', priority: 2, idempotencyKey: 'k' },
        { input: 'w', priority: 2 },
      ],
      t0,
    );
    await exact();
    // An answer (stored completed), twice with one key.
    const answer = { replyTo: { channel: 'c', id: '1' }, text: 'hi', idempotencyKey: 'a' };
    await a.tasks.recordAnswer!(answer, t0);
    await b.tasks.recordAnswer!(answer, t0);
    await exact();
    // A copy of a's tasks into an empty schema (agentd store copy), and its tasks there counted.
    const target = await createTestSchema();
    const copy = await openPostgresStore({ url: TEST_POSTGRES_URL, schema: target.schema });
    cleanups.push(async () => {
      await copy.close();
      await target.drop();
    });
    for await (const records of a.exportRecords()) await copy.importRecords(records);
    expect((await copy.tasks.stats?.(Date.now()))?.byPriority).toEqual(
      await countRows(target.schema),
    );
    expect((await copy.tasks.stats?.(Date.now()))?.byPriority).toEqual(await countRows(schema));
    const triggers = await raw<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = '"${schema}".tasks'::regclass
         AND NOT tgisinternal`,
    );
    expect(triggers.map((r) => r.tgname)).toEqual(['task_counts_delete']);
  });

  it('are put right by reconcileCounts() after changes nobody counted (an older host, plain SQL)', async () => {
    const { a, b, schema } = await twoStores();
    const t0 = Date.now();
    await a.tasks.enqueueMany!(
      Array.from({ length: 40 }, (_, i) => ({ input: i, priority: (i % 2) as 0 | 1 })),
      t0,
    );
    expect(await a.reconcileCounts()).toBe(0);
    // What a host of the previous version does after the upgrade's migration: claims and
    // completes without counting (the trigger that counted for it is gone).
    await raw(
      `UPDATE "${schema}".tasks SET status = 'running', attempts = 1, lease_owner = 'old',
         lease_expires_at = ${t0 + 60_000} WHERE seq IN (SELECT seq FROM "${schema}".tasks ORDER BY seq LIMIT 10)`,
    );
    await raw(`UPDATE "${schema}".tasks SET status = 'completed' WHERE seq IN (
      SELECT seq FROM "${schema}".tasks WHERE status = 'running' ORDER BY seq LIMIT 4)`);
    expect((await a.tasks.stats?.(t0))?.byPriority).not.toEqual(await countRows(schema));
    // Reconciling while two hosts work: their own changes are counted by their statements, so
    // the correction is only what nobody counted, whatever commits meanwhile.
    const [byA, , , byB] = await Promise.all([
      a.reconcileCounts(),
      burn(a, 'host-a'),
      burn(b, 'host-b'),
      b.reconcileCounts(),
    ]);
    // One of the two corrected what was missing; the other, after it, found nothing to add.
    expect([byA, byB].filter((n) => n > 0)).toHaveLength(1);
    expect((await a.tasks.stats?.(Date.now()))?.byPriority).toEqual(await countRows(schema));
    expect(await b.reconcileCounts()).toBe(0);
  });

  it('upgrade from 0210 with tasks in flight: the status trigger goes, the counts stay exact', async () => {
    const { schema, drop } = await createTestSchema();
    cleanups.push(drop);
    // The schema as the previous version left it, its statuses changed as that version did
    // (plain updates, counted by 0202's trigger).
    const before = ALL_MIGRATIONS.filter((m) => m.name < '0211');
    const old = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, migrations: before });
    await old.close();
    const t0 = Date.now();
    // Inserted as that version did: a plain INSERT, counted by 0202's insert trigger.
    await raw(
      `INSERT INTO "${schema}".tasks (input, description, type, priority, status, max_attempts,
         created_at, run_at, metadata)
       SELECT i::text, 'task', 'manual', i % 4, 'pending', 3, ${t0}, ${t0}, '{}'
       FROM generate_series(0, 11) AS i ORDER BY i`,
    );
    await raw(
      `UPDATE "${schema}".tasks SET status = 'running', attempts = 1, started_at = ${t0},
         lease_owner = 'old', lease_expires_at = ${t0 + 60_000} WHERE input::int < 5`,
    );
    await raw(
      `UPDATE "${schema}".tasks SET status = 'completed', lease_owner = NULL WHERE input = '0'`,
    );
    expect(await countRows(schema)).toMatchObject({
      running: [1, 1, 1, 1],
      completed: [1, 0, 0, 0],
    });

    const upgraded = await openPostgresStore({ url: TEST_POSTGRES_URL, schema });
    cleanups.push(() => upgraded.close());
    const triggers = await raw<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = '"${schema}".tasks'::regclass
         AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers.map((r) => r.tgname)).toEqual(['task_counts_delete']);
    expect((await upgraded.tasks.stats?.(t0))?.byPriority).toEqual(await countRows(schema));
    // The old host's tasks finish on the new version; new claims and completions count.
    const leases = await upgraded.tasks.listLeases!();
    for (const lease of leases) {
      await upgraded.tasks.complete(lease.taskId, 'old', 'ok', t0);
    }
    const claimed = await upgraded.tasks.claim({
      owner: 'new',
      leaseMs: 60_000,
      now: t0,
      limit: 3,
    });
    await upgraded.tasks.complete(claimed[0]!.id, 'new', null, t0);
    expect((await upgraded.tasks.stats?.(t0))?.byPriority).toEqual(await countRows(schema));
    expect(await upgraded.reconcileCounts()).toBe(0);
  });
});
