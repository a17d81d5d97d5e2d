import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PreparedStatements } from './prepared-statements.js';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

// The hot path's statements are prepared once per connection (PreparedStatements). One
// connection per store here, so what `pg_prepared_statements` shows is what the store's
// claims and completions ran on.

const postgres = await probePostgres();
const T0 = 1_700_000_000_000;
const LEASE = { owner: 'host-a', leaseMs: 60_000, limit: 1 };

interface Prepared {
  name: string;
  statement: string;
  runs: number;
}

describe.skipIf(!postgres.available)('PostgreSQL store: prepared statements', () => {
  const opened: { store: PostgresStore; drop: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const { store, drop } of opened.splice(0)) {
      await store.close();
      await drop();
    }
  });

  async function open(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
    const { schema, drop } = await createTestSchema();
    const store = await openPostgresStore({
      url: TEST_POSTGRES_URL,
      schema,
      pool: { max: 1 },
      ...options,
    });
    opened.push({ store, drop });
    return store;
  }

  async function prepared(store: PostgresStore): Promise<Prepared[]> {
    const { rows } = await store.handle.pool.query<Prepared>(
      `SELECT name, statement, (generic_plans + custom_plans)::int AS runs
       FROM pg_prepared_statements ORDER BY name`,
    );
    return rows;
  }

  /** Enqueues `n` tasks, claims the first, then completes each one while claiming the next. */
  async function burnDown(store: PostgresStore, n: number): Promise<string[]> {
    for (let i = 0; i < n; i++) await store.tasks.enqueue({ input: { i } }, T0 + i);
    const completeAndClaim = store.tasks.completeAndClaim?.bind(store.tasks);
    if (!completeAndClaim) throw new Error('the PostgreSQL store completes and claims at once');
    const done: string[] = [];
    let [task] = await store.tasks.claim({ ...LEASE, now: T0 + n });
    for (let i = 0; task; i++) {
      const next = await completeAndClaim(
        task.id,
        LEASE.owner,
        { i },
        {
          ...LEASE,
          now: T0 + n + i,
        },
      );
      expect(next.completed).toBe(true);
      done.push(task.id);
      task = next.claimed[0];
    }
    return done;
  }

  it('plans the insert, the completion and the claim once per connection, then runs them by name', async () => {
    const store = await open();
    expect(await burnDown(store, 6)).toHaveLength(6);
    const statements = await prepared(store);
    expect(statements).toHaveLength(3);
    // The insert is prepared through the protocol (no PREPARE), by the driver: six enqueues.
    const insert = statements.find((s) => /INSERT INTO .*tasks/s.test(s.statement));
    expect(insert?.runs).toBe(6);
    // The first claim, then six completions each carrying a claim (the last found nothing):
    // each statement prepared once, then run by name every time.
    const completion = statements.find((s) =>
      /UPDATE .*SET status = 'completed'/s.test(s.statement),
    );
    const claim = statements.find((s) => /LIMIT 1\s+FOR UPDATE OF t SKIP LOCKED/.test(s.statement));
    expect(completion?.runs).toBe(6);
    expect(claim?.runs).toBe(7);
    const tasks = await store.tasks.list({ status: 'completed' });
    expect(tasks.map((t) => (t.result as { i: number }).i).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops preparing, says so once and loses nothing when the connection forgets them (a pooler)', async () => {
    const warnings: string[] = [];
    const store = await open({ onWarning: (message) => warnings.push(message) });
    expect(await burnDown(store, 2)).toHaveLength(2);
    expect(await prepared(store)).toHaveLength(3);
    // What a pooler in transaction mode does to a client: its next transaction runs on a server
    // connection that never saw the store's PREPARE.
    await store.handle.pool.query('DEALLOCATE ALL');
    const done = await burnDown(store, 3);
    expect(done).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/prepared statements are not kept.*preparedStatements: false/s);
    expect(await prepared(store)).toEqual([]);
    const completed = await store.tasks.list({ status: 'completed' });
    expect(completed).toHaveLength(5);
    expect(await store.tasks.list({ status: 'running' })).toEqual([]);
  });

  it('runs a batch insert again unnamed, once, when its prepared statement went missing (a pooler)', async () => {
    const warnings: string[] = [];
    const store = await open({ onWarning: (message) => warnings.push(message) });
    const enqueueMany = store.tasks.enqueueMany?.bind(store.tasks);
    if (!enqueueMany) throw new Error('the PostgreSQL store enqueues batches');
    const batch = (from: number) =>
      Array.from({ length: 5 }, (_, i) => ({ input: { i: from + i }, agent: 'noop' }));
    await enqueueMany(batch(0), T0);
    await enqueueMany([{ input: 'keyed', idempotencyKey: 'k' }], T0);
    expect(await prepared(store)).toHaveLength(2);
    await store.handle.pool.query('DEALLOCATE ALL');
    // The driver still thinks the statement is there and sends only its values: 26000.
    const results = await enqueueMany(batch(5), T0);
    expect(results.map((r) => r.created)).toEqual([true, true, true, true, true]);
    const again = await enqueueMany([{ input: 'keyed', idempotencyKey: 'k' }], T0);
    expect(again[0]?.created).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(await prepared(store)).toEqual([]);
    const stored = await store.tasks.list({ limit: 100 });
    expect(stored.map((t) => t.input)).toHaveLength(11);
  });

  it('stops preparing when a statement of its name is already there (another client of a pooler)', async () => {
    const warnings: string[] = [];
    const statements = new PreparedStatements(true, (message) => warnings.push(message));
    const double = statements.define('SELECT $1::bigint * 2 AS n', ['bigint']);
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      // A pooler gave this client a server connection where another client prepared it.
      await client.query(`PREPARE ${double.name} (bigint) AS SELECT 0::bigint AS n`);
      const error = await statements.text(client, double, [21]).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('42P05');
      expect(statements.recover(error)).toBe(true);
      expect(statements.enabled).toBe(false);
      expect(warnings).toHaveLength(1);
      // From now on the values are written in: the other client's statement is never run.
      const text = await statements.text(client, double, [21]);
      expect(text).not.toMatch(/EXECUTE/);
      expect((await client.query(text)).rows).toEqual([{ n: '42' }]);
      // An unrelated error is not taken for a pooler's.
      expect(statements.recover(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
      expect(warnings).toHaveLength(1);
    } finally {
      await client.end();
    }
  });

  it('prepares nothing with preparedStatements: false', async () => {
    const warnings: string[] = [];
    const store = await open({
      preparedStatements: false,
      onWarning: (message) => warnings.push(message),
    });
    expect(await burnDown(store, 4)).toHaveLength(4);
    expect(await prepared(store)).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
