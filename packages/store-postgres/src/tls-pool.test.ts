import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from './store.js';
import {
  type PrivateCluster,
  probePrivateCluster,
  startPrivateCluster,
} from './testing/private-cluster.js';

// A server of its own: the shared one on 5432 serves no TLS, and its settings are not ours.
const available = probePrivateCluster().available;
let cluster: PrivateCluster;
beforeAll(async () => {
  if (available) cluster = await startPrivateCluster({ tls: true });
}, 60_000);
afterAll(async () => {
  await cluster?.destroy();
});

describe.skipIf(!available)('TLS and pool options against a real server', () => {
  it('connects over TLS, verifying the server against the given CA', async () => {
    const store = await openPostgresStore({ url: cluster.url, ssl: { ca: cluster.caCert } });
    try {
      const { rows } = await store.handle.pool.query<{ ssl: boolean; version: string }>(
        'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()',
      );
      expect(rows[0]).toMatchObject({ ssl: true });
      expect(rows[0]!.version).toMatch(/^TLSv1\.[23]$/);
      expect(await store.health()).toMatchObject({ status: 'pass' });
    } finally {
      await store.close();
    }
  });

  it('refuses a server whose certificate it cannot verify (ssl: true), saying why', async () => {
    const error = await openPostgresStore({ url: cluster.url, ssl: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_POSTGRES_UNREACHABLE' });
    expect((error as Error).message).toMatch(/self[- ]signed certificate/);
  });

  it('encrypts without verifying with ssl: { rejectUnauthorized: false }', async () => {
    const store = await openPostgresStore({
      url: cluster.url,
      ssl: { rejectUnauthorized: false },
    });
    try {
      const { rows } = await store.handle.pool.query<{ ssl: boolean }>(
        'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
      );
      expect(rows[0]?.ssl).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('opens at most pool.max connections, named by applicationName', async () => {
    const store = await openPostgresStore({
      url: cluster.url,
      schema: 'pool_test',
      pool: { max: 2, idleTimeoutMillis: 60_000 },
      applicationName: 'agentd-pool-test',
    });
    try {
      await Promise.all(
        Array.from({ length: 6 }, () => store.handle.pool.query('select pg_sleep(0.1)')),
      );
      const { rows } = await store.handle.pool.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where application_name = 'agentd-pool-test'`,
      );
      expect(Number(rows[0]!.n)).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('gives up connecting after pool.connectionTimeoutMillis, then the store reports why', async () => {
    const store = await openPostgresStore({
      url: cluster.url,
      schema: 'timeout_test',
      pool: { max: 1, connectionTimeoutMillis: 300 },
    });
    try {
      // The one connection is busy: the next call waits for it no longer than the timeout.
      const busy = store.handle.pool.query('select pg_sleep(1)');
      const t0 = Date.now();
      const error = await store.state.get('x', 'y').catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(900);
      expect(error).toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
      await busy;
      expect(await store.state.get('x', 'y')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
