import { AgentdError } from '@agentd/core';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

// The store's group commit (CommitGroup): concurrent enqueues, claims and completions share
// statements and commits, and each caller still gets exactly its own outcome. Rows written by
// one transaction share its id (xmin), which is how these tests see that commits were shared.

const postgres = await probePostgres();
const T0 = 1_700_000_000_000;

describe.skipIf(!postgres.available)('PostgreSQL store: shared commits', () => {
  const opened: { store: PostgresStore; drop: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const { store, drop } of opened.splice(0)) {
      await store.close();
      await drop();
    }
  });

  async function open(): Promise<PostgresStore> {
    const { schema, drop } = await createTestSchema();
    const store = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, pool: { max: 4 } });
    opened.push({ store, drop });
    return store;
  }

  /** How many transactions wrote the given tasks' current row versions. */
  async function writers(store: PostgresStore, ids: readonly string[]): Promise<number> {
    const { rows } = await store.handle.pool.query<{ n: string }>(
      `SELECT count(DISTINCT xmin::text) AS n FROM ${store.handle.table('tasks')}
       WHERE seq = ANY($1::bigint[])`,
      [ids.map((id) => Number.parseInt(id.slice(5), 36))],
    );
    return Number(rows[0]?.n);
  }

  it('stores 100 concurrent enqueues in fewer commits, each caller getting its own task', async () => {
    const store = await open();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.tasks.enqueue({ input: { i } }, T0 + i)),
    );
    expect(results.every((r) => r.created)).toBe(true);
    const ids = results.map((r) => r.task.id);
    expect(new Set(ids).size).toBe(100);
    for (const [i, r] of results.entries()) {
      expect(await store.tasks.get(r.task.id)).toEqual({ ...r.task });
      expect(r.task.input).toEqual({ i });
      expect(r.task.createdAt).toBe(T0 + i);
    }
    expect(await writers(store, ids)).toBeLessThan(10);
    // Claimed in the order the callers enqueued them.
    const claimed = await store.tasks.claim({
      owner: 'h',
      leaseMs: 60_000,
      now: T0 + 200,
      limit: 100,
    });
    expect(claimed.map((t) => t.id)).toEqual(ids);
  });

  it('gives concurrent callers with one idempotency key one task, created once', async () => {
    const store = await open();
    const results = await Promise.all([
      store.tasks.enqueue({ input: 'a', idempotencyKey: 'k' }, T0),
      store.tasks.enqueue({ input: 'free' }, T0),
      store.tasks.enqueue({ input: 'b', idempotencyKey: 'k' }, T0),
      store.tasks.enqueue({ input: 'c', idempotencyKey: 'k' }, T0),
    ]);
    expect(results.map((r) => r.created)).toEqual([true, true, false, false]);
    const [first, , second, third] = results;
    expect(second?.task).toEqual(first?.task);
    expect(third?.task).toEqual(first?.task);
    expect(first?.task.input).toBe('a');
    // A key stored by an earlier write: read back, not created again.
    const again = await Promise.all([
      store.tasks.enqueue({ input: 'd', idempotencyKey: 'k' }, T0),
      store.tasks.enqueue({ input: 'e', idempotencyKey: 'k2' }, T0),
    ]);
    expect(again.map((r) => r.created)).toEqual([false, true]);
    expect(again[0]?.task).toEqual(first?.task);
    expect((await store.tasks.counts()).pending).toBe(3);
  });

  it('refuses a bad task among concurrent enqueues alone; the others are stored', async () => {
    const store = await open();
    const settled = await Promise.allSettled([
      store.tasks.enqueue({ input: 1 }, T0),
      store.tasks.enqueue({ input: 2, priority: 9 as never }, T0),
      store.tasks.enqueue({ input: 3 }, T0),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (settled[1] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(AgentdError);
    expect(reason.message).not.toMatch(/^tasks\[/);
    expect((await store.tasks.counts()).pending).toBe(2);
  });

  it('completes and claims for concurrent workers in shared transactions, each getting its own next task', async () => {
    const store = await open();
    await store.tasks.enqueueMany!(
      Array.from({ length: 20 }, (_, i) => ({ input: i })),
      T0,
    );
    const owner = 'host-a';
    const running = await store.tasks.claim({ owner, leaseMs: 60_000, now: T0 + 1, limit: 10 });
    expect(running).toHaveLength(10);
    const steps = await Promise.all(
      running.map((task, i) =>
        store.tasks.completeAndClaim!(
          task.id,
          owner,
          { done: i },
          {
            owner,
            leaseMs: 60_000,
            now: T0 + 2,
          },
        ),
      ),
    );
    expect(steps.every((s) => s?.completed)).toBe(true);
    const next = steps.flatMap((s) => s?.claimed ?? []);
    expect(next).toHaveLength(10);
    expect(new Set(next.map((t) => t.id)).size).toBe(10);
    expect(next.every((t) => t.status === 'running' && t.leaseOwner === owner)).toBe(true);
    for (const [i, task] of running.entries()) {
      expect(await store.tasks.get(task.id)).toMatchObject({
        status: 'completed',
        result: { done: i },
        finishedAt: T0 + 2,
      });
    }
    expect(
      await writers(
        store,
        running.map((t) => t.id),
      ),
    ).toBeLessThan(10);
    // A completion that no longer holds still claims, and reports false to its caller only.
    const [stale, fresh] = await Promise.all([
      store.tasks.completeAndClaim!(running[0]!.id, owner, 'again', {
        owner,
        leaseMs: 1,
        now: T0 + 3,
      }),
      store.tasks.completeAndClaim!(next[0]!.id, owner, 'ok', { owner, leaseMs: 1, now: T0 + 3 }),
    ]);
    expect(stale?.completed).toBe(false);
    expect(fresh?.completed).toBe(true);
    expect((await store.tasks.get(running[0]!.id))?.result).toEqual({ done: 0 });
  });

  it('claims many in claim order from a fresh, never analyzed table', async () => {
    const store = await open();
    const tasks = Array.from({ length: 3000 }, (_, i) => ({
      input: i,
      priority: (i % 3) as 0 | 1 | 2,
    }));
    await store.tasks.enqueueMany!(tasks, T0);
    const claimed = await store.tasks.claim({ owner: 'h', leaseMs: 60_000, now: T0, limit: 500 });
    expect(claimed.map((t) => t.input)).toEqual(Array.from({ length: 500 }, (_, k) => k * 3));
  });

  it('stores a lone surrogate as U+FFFD through enqueue, as through any text parameter', async () => {
    const store = await open();
    const { task } = await store.tasks.enqueue(
      { input: 'x', description: 'a\uD800b', sessionKey: '\uDC00' },
      T0,
    );
    const stored = await store.tasks.get(task.id);
    expect(stored?.description).toBe('a\uFFFDb');
    expect(stored?.sessionKey).toBe('\uFFFD');
    const keyed = await store.tasks.enqueue({ input: 'y', idempotencyKey: 'k\uD800' }, T0);
    expect(keyed.created).toBe(true);
    expect((await store.tasks.enqueue({ input: 'z', idempotencyKey: 'k\uD800' }, T0)).task.id).toBe(
      keyed.task.id,
    );
  });
});
