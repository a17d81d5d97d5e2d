import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Host } from '../kernel/host.js';
import { type MemoryStore, openMemoryStore } from './memory-store.js';

/**
 * Bookkeeping for tests that start real hosts: push every host you start onto `hosts`; after each
 * test they are stopped. A test's hosts keep their data in `store()`, a {@link MemoryStore} that
 * every host the test starts (or restarts) shares, as hosts share a database file; or, for a store
 * plugin on a real file, in `dbPath()`, whose temp directory is removed after the test. Call it at
 * the top level of a test file.
 *
 * @example
 * ```ts
 * const { hosts, store } = useTestHosts();
 * it('keeps tasks across a restart', async () => {
 *   const host = createHost({ plugins: [memoryStore({ store: store() }), myPlugin()] });
 *   hosts.push(host);
 *   await host.start();
 * });
 * ```
 */
export function useTestHosts(prefix = 'agentd-test-'): {
  hosts: Host[];
  store: () => MemoryStore;
  dbPath: () => string;
} {
  let dir: string | undefined;
  let store: MemoryStore | undefined;
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop('test end')));
    store = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return {
    hosts,
    /** The memory store of the current test (a new, empty one per test). */
    store: () => {
      store ??= openMemoryStore();
      return store;
    },
    /** The database file of the current test (one temp directory per test). */
    dbPath: () => {
      dir ??= mkdtempSync(join(tmpdir(), prefix));
      return join(dir, 'agentd.db');
    },
  };
}
