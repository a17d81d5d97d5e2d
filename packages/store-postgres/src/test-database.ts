import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The database the tests use: `AGENTD_TEST_POSTGRES_URL`, or the local server's `test` database
 * (this project's machines run PostgreSQL on 127.0.0.1:5432 with trust auth; `.ci/postgres.sh`
 * starts it in CI).
 */
export const TEST_POSTGRES_URL =
  process.env.AGENTD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether PostgreSQL answers at {@link TEST_POSTGRES_URL}. Without one, tests skip with a message
 * that says so, except in CI (`CI` set), where a missing server fails the run: CI must show that
 * the PostgreSQL tests ran.
 *
 * @example
 * ```ts
 * const postgres = await probePostgres();
 * describe.skipIf(!postgres.available)('PostgreSQL store', () => { ... });
 * ```
 */
export async function probePostgres(): Promise<{ available: boolean; reason?: string }> {
  const client = new pg.Client({
    connectionString: TEST_POSTGRES_URL,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return { available: true };
  } catch (error) {
    const reason = `no PostgreSQL at ${TEST_POSTGRES_URL.replace(/\/\/[^@]*@/, '//')} (${(error as Error).message}); set AGENTD_TEST_POSTGRES_URL or run .ci/postgres.sh`;
    if (process.env.CI) throw new Error(`PostgreSQL tests cannot run in CI: ${reason}`);
    console.warn(`skipping PostgreSQL tests: ${reason}`);
    return { available: false, reason };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A fresh schema in the test database, so tests (and test files running in parallel) never see
 * each other's rows. `drop()` removes it with everything in it.
 */
export async function createTestSchema(): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `agentd_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`create schema "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      try {
        await c.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await c.end();
      }
    },
  };
}
