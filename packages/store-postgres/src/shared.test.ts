import { afterEach, describe, expect, it } from 'vitest';
import { withClient } from './client.js';
import { SESSION_STATE_MIGRATIONS } from './session-state-schema.js';
import { openPostgresStore, type PostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

// Several hosts on one schema: each has its own pool, as separate processes would.

const postgres = await probePostgres();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function hosts(count: number): Promise<PostgresStore[]> {
  const { schema, drop } = await createTestSchema();
  cleanup.push(drop);
  // Opened together: the migrations apply once under the advisory lock.
  const stores = await Promise.all(
    Array.from({ length: count }, () =>
      openPostgresStore({
        url: TEST_POSTGRES_URL,
        schema,
        pool: { max: 3 },
        migrations: SESSION_STATE_MIGRATIONS,
      }),
    ),
  );
  for (const store of stores) cleanup.push(() => store.close());
  return stores;
}

describe.skipIf(!postgres.available)('several hosts on one schema', () => {
  it('lets exactly one host win a compareAndSet race for a schedule slot', async () => {
    const stores = await hosts(3);
    for (let slot = 0; slot < 5; slot++) {
      const wins = await Promise.all(
        stores.flatMap((store, host) =>
          [0, 1].map(() => store.state.compareAndSet('cron', `daily@${slot}`, undefined, host)),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      const winner = wins.indexOf(true);
      expect(await stores[0]!.state.get('cron', `daily@${slot}`)).toBe(Math.floor(winner / 2));
    }
  });

  it('keeps one active session per user when hosts activate different sessions at once', async () => {
    const stores = await hosts(2);
    const address = { channel: 'telegram', id: '7' };
    const created = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) =>
        stores[0]!.sessions.create({ userKey: 'telegram:7', address, name, agent: 'echo' }, 1),
      ),
    );
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        created.map((session, i) => stores[i % 2]!.sessions.activate('telegram:7', session.id)),
      );
      const active = (await stores[1]!.sessions.listByUser('telegram:7')).filter((s) => s.active);
      expect(active).toHaveLength(1);
      expect(await stores[0]!.sessions.findActive('telegram:7')).toEqual(active[0]);
    }
  });

  it('shows one host what another wrote', async () => {
    const [a, b] = await hosts(2);
    await a!.state.set('telegram', 'offset', 1234);
    expect(await b!.state.get('telegram', 'offset')).toBe(1234);
    const address = { channel: 'telegram', id: '9' };
    const s = await b!.sessions.create(
      { userKey: 'telegram:9', address, name: 'main', agent: 'x' },
      5,
    );
    await b!.sessions.appendHistory(s.id, { role: 'user', content: 'hi', at: 6 });
    expect(await a!.sessions.history(s.id, 10)).toEqual([{ role: 'user', content: 'hi', at: 6 }]);
  });
});

describe.skipIf(!postgres.available)('closing', () => {
  it('ends the pool, so no connection is left open', async () => {
    const { schema, drop } = await createTestSchema();
    cleanup.push(drop);
    const store = await openPostgresStore({
      url: TEST_POSTGRES_URL,
      schema,
      migrations: SESSION_STATE_MIGRATIONS,
    });
    await store.state.set('ns', 'k', 1);
    await store.close();
    expect(store.handle.pool.ended).toBe(true);
    expect(store.handle.pool.totalCount).toBe(0);
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe.skipIf(!postgres.available)('a connection that breaks while checked out', () => {
  it('rejects the query, does not crash the process, and is not reused', async () => {
    const [store] = await hosts(1);
    const pool = store!.handle.pool;
    const error = await withClient(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      // Another connection ends this one, as a server restart or a network cut would.
      await pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await sleep(50);
      await client.query('select 1');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(pool.totalCount).toBeLessThanOrEqual(1); // the broken one was destroyed
    await store!.state.set('ns', 'k', 'still works');
    expect(await store!.state.get('ns', 'k')).toBe('still works');
  });
});
