import { describeSessionStoreContract, describeStateStoreContract } from '@agentd/core/testing';
import { describe } from 'vitest';
import { SESSION_STATE_MIGRATIONS } from './session-state-schema.js';
import { openPostgresStore, type PostgresStore } from './store.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const postgres = await probePostgres();

/** A store on a fresh schema of its own; closing it drops the schema. */
async function freshStore(): Promise<PostgresStore> {
  const { schema, drop } = await createTestSchema();
  const store = await openPostgresStore({
    url: TEST_POSTGRES_URL,
    schema,
    pool: { max: 4 },
    migrations: SESSION_STATE_MIGRATIONS,
  });
  const close = store.close;
  return Object.assign(store, {
    async close() {
      await close();
      await drop();
    },
  });
}

const stores = new WeakMap<object, PostgresStore>();
async function part<K extends 'sessions' | 'state'>(key: K): Promise<PostgresStore[K]> {
  const store = await freshStore();
  stores.set(store[key], store);
  return store[key];
}
const close = (subject: object) => stores.get(subject)?.close();

describe.skipIf(!postgres.available)('PostgreSQL sessions and state', () => {
  describeSessionStoreContract('postgres', () => part('sessions'), { close });
  describeStateStoreContract('postgres', () => part('state'), { close });
});
