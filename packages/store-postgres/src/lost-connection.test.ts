import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const available = (await probePostgres()).available;
const crashes: unknown[] = [];
const onCrash = (error: unknown) => crashes.push(error);
beforeAll(() => process.on('uncaughtException', onCrash));
afterAll(() => process.off('uncaughtException', onCrash));

describe.skipIf(!available)('a connection killed while Kysely holds it', () => {
  it('rejects the next query and does not end the process; the one after gets a new connection', async () => {
    const { schema, drop } = await createTestSchema();
    // Only this test's own connections are killed (the shared server serves others).
    const name = `agentd-lost-${randomBytes(4).toString('hex')}`;
    const store = await openPostgresStore({
      url: TEST_POSTGRES_URL,
      schema,
      applicationName: name,
    });
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      // Held by Kysely between two queries (as in a transaction), idle when it is killed.
      const held = store.handle.db.connection().execute(async (db) => {
        await sql`select 1`.execute(db);
        const { rows } = await admin.query(
          `select pg_terminate_backend(pid) as killed from pg_stat_activity
            where application_name = $1 and state = 'idle'`,
          [name],
        );
        expect(rows.length).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 2`.execute(db);
      });
      await expect(held).rejects.toThrow(/terminat|not queryable|Connection/i);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(crashes).toEqual([]);
      expect(await store.tasks.list({})).toEqual([]);
    } finally {
      await admin.end();
      await store.close();
      await drop();
    }
  });
});
