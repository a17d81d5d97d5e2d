import type { JsonValue, TaskStore } from '@agentd/core';
import {
  describeDeadLetterContract,
  describeReplyContract,
  describeTaskStoreContract,
} from '@agentd/core/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_MIGRATIONS } from './all-migrations.js';
import type { Migration, PostgresHandle } from './handle.js';
import { PostgresTaskStore } from './task-store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const postgres = await probePostgres();

/** A handle over `pool` for `schema`, as the store's plugin builds it. */
function handleFor(pool: pg.Pool, schema: string): PostgresHandle {
  return {
    pool,
    db: new Kysely({ dialect: new PostgresDialect({ pool }) }),
    schema,
    table: (name) => `"${schema}"."${name}"`,
  };
}

/**
 * Applies every migration of the store to `schema`, in order, each in a transaction (the
 * runner's job in production), so the tasks table is the one hosts use.
 */
async function migrate(
  pool: pg.Pool,
  schema: string,
  which: (migration: Migration) => boolean = () => true,
): Promise<void> {
  for (const migration of ALL_MIGRATIONS.filter(which)) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(migration.sql.replaceAll('{{schema}}', schema));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }
}

describe.skipIf(!postgres.available)('PostgresTaskStore', () => {
  // One pool for the contract suites (every store gets its own schema); pools of their own for
  // the tests that play several hosts.
  const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 4 });
  const drops = new Map<TaskStore, () => Promise<void>>();
  afterAll(async () => {
    await pool.end();
  });

  const create = async () => {
    const { schema, drop } = await createTestSchema();
    await migrate(pool, schema);
    const store = new PostgresTaskStore(handleFor(pool, schema));
    drops.set(store, drop);
    return store;
  };
  const close = async (store: TaskStore) => {
    await drops.get(store)?.();
    drops.delete(store);
  };

  it('keeps strings PostgreSQL TEXT cannot hold exactly, and tells look-alikes apart', async () => {
    const store = await create();
    try {
      // U+0000 is escaped as U+0001 U+0002: a string that holds those two itself must stay apart.
      const tricky = ['a\u0000', 'a\u0001\u0002', 'a\u0001', 'a\u0001\u0001', '\u0001', 'a'];
      const ids: string[] = [];
      for (const text of tricky) {
        const { task, created } = await store.enqueue(
          { input: text, description: text, idempotencyKey: text, sessionKey: text, agent: text },
          Date.UTC(2026, 0, 1),
        );
        expect(created).toBe(true);
        ids.push(task.id);
      }
      for (const [i, text] of tricky.entries()) {
        const found = await store.findByIdempotencyKey(text);
        expect(found).toMatchObject({
          id: ids[i],
          description: text,
          sessionKey: text,
          agent: text,
        });
        expect(await store.list({ sessionKey: text })).toHaveLength(1);
      }
    } finally {
      await close(store);
    }
  });

  it('stores each task of a batch as given, whether a column is shared, varies, or is absent in some tasks', async () => {
    // The insert sends a value shared by every task of a batch once and the others per task
    // (batchInsertValues): every column here is shared in one batch and varies (set in some
    // tasks, absent in others) in another, keyless and keyed.
    const store = await create();
    try {
      const T = Date.UTC(2026, 0, 1);
      const full = {
        description: 'd',
        type: 't',
        agent: 'a',
        priority: 1 as const,
        runAt: T + 5,
        maxAttempts: 7,
        sessionKey: 's',
        replyTo: { channel: 'c', id: '1' },
        metadata: { m: 1 },
      };
      const batches = [
        [
          { input: 1, ...full },
          { input: 2, ...full },
        ],
        [
          { input: 3, ...full },
          { input: 4 },
          { input: 5, ...full, agent: 'b', priority: 3 as const },
        ],
        [{ input: 6 }, { input: 7, ...full, sessionKey: 'other' }],
        [
          { input: 8, ...full, idempotencyKey: 'k8' },
          { input: 9, idempotencyKey: 'k9' },
          { input: 10, ...full, idempotencyKey: 'k8' },
          { input: 11, ...full },
        ],
        [{ input: 12 }],
      ];
      for (const batch of batches) {
        const results = await store.enqueueMany(batch, T);
        expect(results).toHaveLength(batch.length);
        for (const [i, r] of results.entries()) {
          expect(await store.get(r.task.id)).toEqual(r.task);
          if (r.created) expect(r.task).toMatchObject({ ...batch[i], createdAt: T });
        }
      }
      expect(
        (await store.list({ limit: 100 }))
          .map((t) => t.input)
          .sort((x, y) => Number(x) - Number(y)),
      ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]);
    } finally {
      await close(store);
    }
  });

  it('stores JSON inputs, addresses and metadata of a batch exactly as their JSON texts', async () => {
    // A varying JSON column goes as one JSON array of the texts themselves, read back element by
    // element as text (batchInsertValues): escapes, lone surrogates, NUL, numbers and nulls must
    // come back as core wrote them.
    const store = await create();
    try {
      const T = Date.UTC(2026, 0, 1);
      const inputs = [
        'plain',
        'a "quoted" \\ back\\slash',
        'lone \ud800 surrogate',
        'nul \u0000 and \u0001\u0002',
        '😀 é 中',
        { nested: { list: [1, -0, 1e21, 1.5e-7, null, true, 'x"y'] }, '': 'empty key' },
        [],
        null,
        42,
        JSON.parse('{"__proto__": "kept as data"}') as JsonValue,
      ];
      const batch = inputs.map((input, i) => ({
        input,
        // A lone surrogate in a TEXT column is stored as U+FFFD (jsonSafe): not this test's
        // subject, so descriptions are given.
        description: `task ${i}`,
        replyTo: i % 3 === 0 ? undefined : { channel: 'c', id: `"${i}"`, thread: '\ud83d' },
        metadata: i % 2 ? { i, text: 'tab\there' } : undefined,
      }));
      const results = await store.enqueueMany(batch, T);
      for (const [i, { task }] of results.entries()) {
        expect(task.input).toEqual(JSON.parse(JSON.stringify(inputs[i] ?? null)));
        expect(await store.get(task.id)).toEqual(task);
      }
    } finally {
      await close(store);
    }
  });

  it('gives each task of a keyless batch its own seq when the seqs are not consecutive', async () => {
    // A keyless batch reads its ids as first + i when its seqs are consecutive, and from the
    // list of seqs otherwise (batchInsertSql), as when another session draws seqs meanwhile.
    // An identity stepping by 3 makes them never consecutive.
    const { schema, drop } = await createTestSchema();
    try {
      await migrate(pool, schema);
      const store = new PostgresTaskStore(handleFor(pool, schema));
      const T = Date.UTC(2026, 0, 1);
      const batch = Array.from({ length: 40 }, (_, i) => ({ input: { i }, agent: 'noop' }));
      const check = async () => {
        const results = await store.enqueueMany(batch, T);
        expect(results.map((r) => r.task.input)).toEqual(batch.map((t) => t.input));
        for (const r of results) expect(await store.get(r.task.id)).toEqual(r.task);
        return results.map((r) => r.task.id);
      };
      const consecutive = await check();
      await pool.query(`ALTER TABLE "${schema}".tasks ALTER COLUMN seq SET INCREMENT BY 3`);
      const stepped = await check();
      expect(new Set([...consecutive, ...stepped]).size).toBe(80);
    } finally {
      await drop();
    }
  });

  it('upgrades to the partial key index (0212): stored keys still deduplicate, keyless tasks stay out of it', async () => {
    const { schema, drop } = await createTestSchema();
    try {
      // The schema as 0211 left it (the UNIQUE constraint), with keyed and keyless tasks.
      await migrate(pool, schema, (m) => m.name < '0212');
      const T = Date.UTC(2026, 0, 1);
      const before = new PostgresTaskStore(handleFor(pool, schema));
      const first = await before.enqueue({ input: 1, idempotencyKey: 'k' }, T);
      await before.enqueueMany([{ input: 2 }, { input: 3 }], T);
      await migrate(pool, schema, (m) => m.name >= '0212');

      const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tasks'
           AND indexdef LIKE '%(idempotency_key)%'`,
        [schema],
      );
      // Partial: a keyless task (NULL) has no entry in it.
      expect(indexes).toEqual([
        {
          indexname: 'tasks_idempotency_key_set',
          indexdef: expect.stringMatching(
            /^CREATE UNIQUE INDEX .* WHERE \(idempotency_key IS NOT NULL\)$/,
          ),
        },
      ]);
      const store = new PostgresTaskStore(handleFor(pool, schema));
      const again = await store.enqueue({ input: 4, idempotencyKey: 'k' }, T);
      expect([again.created, again.task.id]).toEqual([false, first.task.id]);
      const many = await store.enqueueMany(
        [{ input: 5, idempotencyKey: 'm' }, { input: 6, idempotencyKey: 'k' }, { input: 7 }],
        T,
      );
      expect(many.map((r) => r.created)).toEqual([true, false, true]);
      expect(many[1]?.task.id).toBe(first.task.id);
      const answer = { replyTo: { channel: 'c', id: '1' }, text: 'hi', idempotencyKey: 'a' };
      const answered = await store.recordAnswer(answer, T);
      expect((await store.recordAnswer(answer, T)).task.id).toBe(answered.task.id);
      // k, the two keyless ones of 0211, m, the keyless one, the answer.
      expect(await store.list({ limit: 10 })).toHaveLength(6);
      // Two hosts racing on one new key still make one task (the index, not the code, decides).
      const raced = await Promise.all(
        [1, 2, 3].map((i) => store.enqueue({ input: i, idempotencyKey: 'race' }, T)),
      );
      expect(new Set(raced.map((r) => r.task.id)).size).toBe(1);
      expect(raced.filter((r) => r.created)).toHaveLength(1);
    } finally {
      await drop();
    }
  });

  describeTaskStoreContract('postgres', create, { close });
  describeReplyContract('postgres', create, { close });
  describeDeadLetterContract('postgres', create, { close });
});

describe.skipIf(!postgres.available)('PostgresTaskStore across hosts', () => {
  const T0 = Date.UTC(2026, 0, 1);

  /** Two stores over one schema, each with a pool of its own: two agentd hosts. */
  async function twoHosts() {
    const { schema, drop } = await createTestSchema();
    const pools = [1, 2].map(() => new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 3 }));
    const [a, b] = pools as [pg.Pool, pg.Pool];
    await migrate(a, schema);
    return {
      a: new PostgresTaskStore(handleFor(a, schema)),
      b: new PostgresTaskStore(handleFor(b, schema)),
      pool: a,
      schema,
      async close() {
        await Promise.all(pools.map((p) => p.end()));
        await drop();
      },
    };
  }

  it('never hands one task to two hosts, nor runs two tasks of one session at once', async () => {
    const hosts = await twoHosts();
    try {
      const sessions = ['s1', 's2', 's3', 's4', 's5'];
      const enqueued: { id: string; sessionKey: string | null }[] = [];
      for (let i = 0; i < 80; i++) {
        const sessionKey = i % 4 === 0 ? null : (sessions[i % sessions.length] as string);
        const { task } = await hosts.a.enqueue(
          { input: `task ${i}`, ...(sessionKey ? { sessionKey } : {}) },
          T0,
        );
        enqueued.push({ id: task.id, sessionKey });
      }
      const claimedIds: string[] = [];
      const running = new Map<string, string>(); // session key -> task id, as the hosts see it
      const violations: string[] = [];
      const orderBySession = new Map<string, string[]>();

      const work = async (store: PostgresTaskStore, owner: string) => {
        let idle = 0;
        while (idle < 3) {
          const claimed = await store.claim({ owner, leaseMs: 60_000, limit: 3, now: T0 });
          if (claimed.length === 0) {
            idle++;
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          idle = 0;
          for (const task of claimed) {
            claimedIds.push(task.id);
            if (task.sessionKey !== null) {
              const other = running.get(task.sessionKey);
              if (other !== undefined) {
                violations.push(`${task.id} and ${other} of ${task.sessionKey} ran at once`);
              }
              running.set(task.sessionKey, task.id);
              orderBySession.set(task.sessionKey, [
                ...(orderBySession.get(task.sessionKey) ?? []),
                task.id,
              ]);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
          for (const task of claimed) {
            // Released before the completion commits: while it is in flight the task still
            // runs in the database, so no other task of its session can be claimed yet.
            if (task.sessionKey !== null) running.delete(task.sessionKey);
            expect(await store.complete(task.id, owner, 'ok', T0)).toBe(true);
          }
        }
      };
      await Promise.all([work(hosts.a, 'host-a'), work(hosts.b, 'host-b')]);

      expect(violations).toEqual([]);
      // Every task claimed exactly once, by one host or the other.
      expect(claimedIds).toHaveLength(enqueued.length);
      expect(new Set(claimedIds).size).toBe(enqueued.length);
      // A session's tasks ran in enqueue order.
      for (const key of sessions) {
        const expected = enqueued.filter((t) => t.sessionKey === key).map((t) => t.id);
        expect(orderBySession.get(key)).toEqual(expected);
      }
      expect(await hosts.b.counts()).toMatchObject({ completed: 80, pending: 0, running: 0 });
    } finally {
      await hosts.close();
    }
  });

  it('creates a task once when hosts enqueue one idempotency key at the same time', async () => {
    const hosts = await twoHosts();
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? hosts.a : hosts.b).enqueue({ input: i, idempotencyKey: 'delivery:7' }, T0),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
      expect((await hosts.a.counts()).pending).toBe(1);
    } finally {
      await hosts.close();
    }
  });

  it('gives each task of keyless batches stored by two hosts at once its own row', async () => {
    // Both hosts' inserts draw seqs from one sequence at the same time, so the seqs of one
    // batch need not be consecutive: each task's id must still be its own row's.
    const hosts = await twoHosts();
    try {
      const batch = (host: string) =>
        Array.from({ length: 300 }, (_, i) => ({ input: { host, i }, agent: `${host}-${i % 7}` }));
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          (k % 2 === 0 ? hosts.a : hosts.b).enqueueMany(batch(`h${k}`), T0),
        ),
      );
      const ids = results.flat().map((r) => r.task.id);
      expect(new Set(ids).size).toBe(1800);
      for (const [k, stored] of results.entries()) {
        for (const [i, { task, created }] of stored.entries()) {
          expect(created).toBe(true);
          expect(await hosts.b.get(task.id)).toMatchObject({
            input: { host: `h${k}`, i },
            agent: `h${k}-${i % 7}`,
          });
        }
      }
    } finally {
      await hosts.close();
    }
  });

  it('refuses a second running task of one session whatever writes it', async () => {
    const hosts = await twoHosts();
    try {
      await hosts.a.enqueue({ input: 'first', sessionKey: 'chat:1' }, T0);
      await hosts.a.enqueue({ input: 'second', sessionKey: 'chat:1' }, T0);
      expect(
        await hosts.b.claim({ owner: 'host-b', leaseMs: 60_000, limit: 5, now: T0 }),
      ).toHaveLength(1);
      const forced = hosts.pool.query(
        `UPDATE "${hosts.schema}".tasks SET status = 'running' WHERE status = 'pending'`,
      );
      await expect(forced).rejects.toMatchObject({
        code: '23505',
        constraint: 'tasks_one_running_per_session',
      });
    } finally {
      await hosts.close();
    }
  });

  it('retries a claim that raced another host for a session, when their clocks disagree', async () => {
    const hosts = await twoHosts();
    try {
      // Host A's clock is ahead: for it the first task is due; for host B it is not, so B takes
      // the second as the session's next task. The unique index must stop B.
      const { task: first } = await hosts.a.enqueue(
        { input: 'first', sessionKey: 'chat:1', runAt: T0 + 50 },
        T0,
      );
      await hosts.a.enqueue({ input: 'second', sessionKey: 'chat:1' }, T0);
      const hostA = await hosts.pool.connect();
      try {
        // Host A's claim of the first task, caught before its commit.
        await hostA.query('BEGIN');
        await hostA.query(
          `UPDATE "${hosts.schema}".tasks SET status = 'running', attempts = 1, lease_owner = 'host-a',
             lease_expires_at = $1 WHERE status = 'pending' AND input = '"first"'`,
          [T0 + 60_000],
        );
        const claimB = hosts.b.claim({ owner: 'host-b', leaseMs: 60_000, now: T0 });
        await new Promise((resolve) => setTimeout(resolve, 200));
        await hostA.query('COMMIT');
        // B's first try waited on A's row, then failed on the index; its retry sees A's task.
        expect(await claimB).toEqual([]);
      } finally {
        hostA.release();
      }
      expect((await hosts.b.listLeases()).map((l) => [l.taskId, l.owner])).toEqual([
        [first.id, 'host-a'],
      ]);
    } finally {
      await hosts.close();
    }
  });

  it("recovers a gone host's lease from another host, and the gone host's completion is refused", async () => {
    const hosts = await twoHosts();
    try {
      const { task } = await hosts.a.enqueue(
        { input: 'x', replyTo: { channel: 'test', id: '1' } },
        T0,
      );
      const [claimed] = await hosts.a.claim({ owner: 'host-a', leaseMs: 60_000, now: T0 });
      expect(claimed?.id).toBe(task.id);
      const report = await hosts.b.recoverExpired(T0 + 1000, { owners: ['host-a'] });
      expect(report).toEqual({ requeued: [task.id], failed: [] });
      expect(await hosts.a.complete(task.id, 'host-a', 'late', T0 + 2000)).toBe(false);
      const [again] = await hosts.b.claim({ owner: 'host-b', leaseMs: 60_000, now: T0 + 3000 });
      expect(again).toMatchObject({ id: task.id, attempts: 2, leaseOwner: 'host-b' });
      expect((await hosts.a.get(task.id))?.error?.name).toBe('RunnerGone');
    } finally {
      await hosts.close();
    }
  });
});

describe.skipIf(!postgres.available)('PostgresTaskStore.onWork', () => {
  const T0 = Date.UTC(2026, 0, 1);

  /** Resolves when `count()` reaches `n`, or fails after `ms`. */
  async function until(count: () => number, n: number, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (count() < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} wake-ups, got ${count()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function twoHosts() {
    const { schema, drop } = await createTestSchema();
    const pools = [1, 2].map(() => new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 3 }));
    const [a, b] = pools as [pg.Pool, pg.Pool];
    await migrate(a, schema);
    return {
      a: new PostgresTaskStore(handleFor(a, schema)),
      b: new PostgresTaskStore(handleFor(b, schema)),
      schema,
      admin: a,
      async close() {
        await Promise.all(pools.map((p) => p.end()));
        await drop();
      },
    };
  }

  it('wakes a host when another enqueues, requeues or recovers work, and stops when closed', async () => {
    const hosts = await twoHosts();
    try {
      let wakes = 0;
      const subscription = await hosts.b.onWork(() => wakes++);
      const { task } = await hosts.a.enqueue({ input: 'x', idempotencyKey: 'k' }, T0);
      await until(() => wakes, 1);
      await hosts.a.enqueueMany([{ input: 'y' }, { input: 'z' }], T0);
      await until(() => wakes, 2);
      await hosts.a.claim({ owner: 'host-a', leaseMs: 1_000, now: T0 });
      await hosts.a.fail(
        task.id,
        'host-a',
        { name: 'Error', message: 'x' },
        {
          retryAt: T0 + 5_000,
          now: T0,
        },
      );
      await until(() => wakes, 3);
      await hosts.a.claim({ owner: 'host-a', leaseMs: 1_000, limit: 3, now: T0 + 5_000 });
      expect((await hosts.a.recoverExpired(T0 + 10_000)).requeued).toHaveLength(3);
      await until(() => wakes, 4);
      await subscription.close();
      await hosts.a.enqueue({ input: 'after close' }, T0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(wakes).toBe(4);
    } finally {
      await hosts.close();
    }
  });

  it('listens again after its connection breaks, and wakes once for what it may have missed', async () => {
    const hosts = await twoHosts();
    try {
      let wakes = 0;
      const errors: Error[] = [];
      const subscription = await hosts.b.onWork(() => wakes++, {
        retryMs: 20,
        onError: (error) => errors.push(error),
      });
      // An operator (or a failover) ends the listening backend.
      const { rowCount } = await hosts.admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN "agentd_work:${hosts.schema}"`],
      );
      expect(rowCount).toBe(1);
      await until(() => wakes, 1);
      expect(errors.length).toBeGreaterThan(0);
      await hosts.a.enqueue({ input: 'x' }, T0);
      await until(() => wakes, 2);
      await subscription.close();
    } finally {
      await hosts.close();
    }
  });
});
