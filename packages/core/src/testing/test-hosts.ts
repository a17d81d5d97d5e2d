import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Host } from '../kernel/host.js';

/**
 * Bookkeeping for tests that start real hosts on a real database file: push every host you start
 * onto `hosts`; after each test they are stopped and the temp directory behind `dbPath()` removed.
 * Call it at the top level of a test file.
 *
 * @example
 * ```ts
 * const { hosts, dbPath } = useTestHosts('my-plugin-');
 * it('starts', async () => {
 *   const host = createHost({ plugins: [sqlite({ path: dbPath() }), myPlugin()] });
 *   hosts.push(host);
 *   await host.start();
 * });
 * ```
 */
export function useTestHosts(prefix = 'agentd-test-'): { hosts: Host[]; dbPath: () => string } {
  let dir: string | undefined;
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop('test end')));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return {
    hosts,
    /** The database file of the current test (one temp directory per test). */
    dbPath: () => {
      dir ??= mkdtempSync(join(tmpdir(), prefix));
      return join(dir, 'agentd.db');
    },
  };
}
