import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_MIGRATIONS } from './all-migrations.js';
import type { Migration } from './handle.js';
import { applyMigrations } from './migrations.js';
import { openPostgresStore, resolveConnection } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const postgres = await probePostgres();

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function fresh(): Promise<{ schema: string; pool: pg.Pool }> {
  const { schema, drop } = await createTestSchema();
  const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 2 });
  cleanup.push(drop, () => pool.end());
  return { schema, pool };
}

// Not idempotent on purpose: applied twice, `create table` fails and the rows double.
const STEPS: Migration[] = [
  {
    name: '0001_counter',
    sql: `create table "{{schema}}".applied (n int);
          select pg_sleep(0.2);
          insert into "{{schema}}".applied values (1);`,
  },
  { name: '0002_more', sql: 'insert into "{{schema}}".applied values (2);' },
];

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: unknown }).code,
  );

describe.skipIf(!postgres.available)('applyMigrations', () => {
  it('applies in order, records the names, and does nothing the second time', async () => {
    const { schema, pool } = await fresh();
    expect(await applyMigrations(pool, schema, STEPS, () => 42)).toEqual([
      '0001_counter',
      '0002_more',
    ]);
    expect(await applyMigrations(pool, schema, STEPS)).toEqual([]);
    const { rows } = await pool.query(
      `select name, applied_at from "${schema}".migrations order by name`,
    );
    expect(rows).toEqual([
      { name: '0001_counter', applied_at: '42' },
      { name: '0002_more', applied_at: '42' },
    ]);
  });

  it('applies once when three hosts start together on a fresh schema', async () => {
    const { schema } = await fresh();
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1 }));
    cleanup.push(async () => {
      await Promise.all(pools.map((p) => p.end()));
    });
    const results = await Promise.all(pools.map((p) => applyMigrations(p, schema, STEPS)));
    // Each migration applied once, in order, by whichever host held the lock (the lock is per
    // migration's transaction, so hosts may share the work); the others found it done.
    expect(results.flat().sort()).toEqual(['0001_counter', '0002_more']);
    const { rows } = await pools[0]!.query(`select n from "${schema}".applied order by n`);
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('refuses a schema migrated by a newer version', async () => {
    const { schema, pool } = await fresh();
    await applyMigrations(pool, schema, STEPS);
    await pool.query(`insert into "${schema}".migrations values ('0999_future', 1)`);
    const error = await applyMigrations(pool, schema, STEPS).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_STORE_SCHEMA_NEWER' });
    expect((error as Error).message).toContain('0999_future');
  });

  it('rolls a failed migration back, keeps the ones before it, and releases the lock', async () => {
    const { schema, pool } = await fresh();
    const broken: Migration = {
      name: '0003_broken',
      sql: `insert into "{{schema}}".applied values (3); select * from "{{schema}}".missing;`,
    };
    const error = await applyMigrations(pool, schema, [...STEPS, broken]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_STORE_SCHEMA' });
    expect((error as Error).message).toMatch(/0003_broken.*missing/);
    const { rows } = await pool.query(`select n from "${schema}".applied order by n`);
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
    // The lock was released: a fixed list applies at once.
    const fixed: Migration = {
      name: '0003_broken',
      sql: 'insert into "{{schema}}".applied values (3);',
    };
    expect(await applyMigrations(pool, schema, [...STEPS, fixed])).toEqual(['0003_broken']);
  });

  it("applies the store's whole list to a fresh schema", async () => {
    const { schema, pool } = await fresh();
    expect(await applyMigrations(pool, schema, ALL_MIGRATIONS)).toEqual(
      ALL_MIGRATIONS.map((m) => m.name),
    );
    const { rows } = await pool.query(
      'select table_name from information_schema.tables where table_schema = $1 order by 1',
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['migrations', 'session_history', 'sessions', 'state']),
    );
  });
});

describe('connection options', () => {
  it('describes the server without the password and refuses a bad schema or URL', () => {
    const resolved = resolveConnection({
      url: 'postgres://agentd:hunter2-secret@db.internal:6543/queue',
      schema: 'tenant_a',
    });
    expect(resolved.description).toBe('postgres://agentd@db.internal:6543/queue?schema=tenant_a');
    expect(resolved.mask('auth failed for hunter2-secret')).toBe('auth failed for ***');
    expect(resolved.config).toMatchObject({ host: 'db.internal', port: 6543, max: 10 });
    expect(() => resolveConnection({ schema: 'x"; drop table' })).toThrow(
      expect.objectContaining({ code: 'E_POSTGRES_OPTIONS' }),
    );
    expect(() => resolveConnection({ url: 'mysql://a@b/c' })).toThrow(/postgres:\/\//);
    const tls = resolveConnection({
      host: 'db',
      user: 'a',
      password: 'pw-123456',
      ssl: { ca: 'PEM' },
    });
    expect(tls.config).toMatchObject({ host: 'db', user: 'a', ssl: { ca: 'PEM' }, port: 5432 });
    expect(tls.description).toBe('postgres://a@db:5432/?schema=agentd');
  });

  it.skipIf(!postgres.available)('names its connections with applicationName', async () => {
    const { schema, drop } = await createTestSchema();
    cleanup.push(drop);
    const store = await openPostgresStore({
      url: TEST_POSTGRES_URL,
      schema,
      applicationName: 'agentd-test-app',
      migrate: false,
    });
    cleanup.push(() => store.close());
    const { rows } = await store.handle.pool.query(
      'select application_name from pg_stat_activity where pid = pg_backend_pid()',
    );
    expect(rows).toEqual([{ application_name: 'agentd-test-app' }]);
  });

  it('fails to open with E_POSTGRES_UNREACHABLE, and no password, when nothing listens', async () => {
    const open = openPostgresStore({
      url: 'postgres://agentd:hunter2-secret@127.0.0.1:1/none',
      pool: { connectionTimeoutMillis: 1000 },
    });
    const error = await open.catch((e: unknown) => e);
    expect(await codeOf(Promise.reject(error))).toBe('E_POSTGRES_UNREACHABLE');
    expect((error as Error).message).toContain('postgres://agentd@127.0.0.1:1/none');
    expect((error as Error).message).not.toContain('hunter2');
  });
});
