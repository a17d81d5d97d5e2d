import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateStore, Store } from '@agentd/core';
import {
  describeRolesContract,
  describeStoreContract,
  openMemoryStore,
} from '@agentd/core/testing';
import { openPostgresStore } from '@agentd/store-postgres';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterAll } from 'vitest';
import {
  createTestSchema,
  probePostgres,
  TEST_POSTGRES_URL,
} from '../packages/store-postgres/src/test-database.js';

// Every store in the repository, each run through the whole contract (Kysely's DIALECTS loop):
// a new store joins by adding one entry here. Store packages keep only their own specific tests.

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-contracts-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store under test: its name in the test report, and how to open a fresh, empty one. */
interface StoreUnderTest {
  name: string;
  open(): Store | Promise<Store>;
}

const STORES: StoreUnderTest[] = [
  { name: 'memory', open: () => openMemoryStore() },
  { name: 'sqlite', open: () => openSqliteStore({ path: join(dir, `store-${++files}.db`) }) },
];

// PostgreSQL joins where a server answers (a fresh schema per store, dropped on close); without
// one the probe says why it is skipped, and in CI it fails the run instead.
if ((await probePostgres()).available) {
  STORES.push({
    name: 'postgres',
    async open() {
      const { schema, drop } = await createTestSchema();
      const store = await openPostgresStore({ url: TEST_POSTGRES_URL, schema, pool: { max: 4 } });
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        await drop();
      };
      return store;
    },
  });
}

for (const store of STORES) {
  describeStoreContract(store.name, store.open);
  // Roles live on the state store's compareAndSet: each store proves they work on it.
  const stores = new Map<StateStore, Store>();
  describeRolesContract(
    store.name,
    async () => {
      const opened = await store.open();
      stores.set(opened.state, opened);
      return opened.state;
    },
    {
      close: async (state) => {
        await stores.get(state)?.close();
        stores.delete(state);
      },
    },
  );
}
