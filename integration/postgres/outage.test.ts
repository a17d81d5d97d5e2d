import { createHmac } from 'node:crypto';
import {
  agent,
  createHost,
  type Host,
  HttpServerToken,
  type Task,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { webhook } from '@agentd/plugin-webhook';
import { openPostgresStore, postgres } from '@agentd/store-postgres';
import {
  type PrivateCluster,
  probePrivateCluster,
  startPrivateCluster,
  startTcpProxy,
} from '@agentd/store-postgres/testing';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// A server of these tests' own: they crash and restart it, which the shared one on 5432 (used
// by every other test run on this machine) must never be.
const available = probePrivateCluster().available;
const TOKEN = 'an-api-token-long-enough-for-the-outage-tests';
const HOOK_SECRET = 'a-webhook-secret-for-the-outage-tests';
const ALICE = { id: 42, firstName: 'Alice' };

let cluster: PrivateCluster;
beforeAll(async () => {
  if (available) cluster = await startPrivateCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.destroy();
});
// A test that failed with the server stopped must not fail the next ones too.
beforeEach(async () => {
  if (cluster && !cluster.running) await cluster.start();
});

// An unhandled 'error' event from pg, or an unhandled rejection, would end a real host: here
// it is recorded and fails the test that caused it.
const crashes: unknown[] = [];
const onCrash = (error: unknown) => crashes.push(error);
beforeAll(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
});
afterAll(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
});

let schemas = 0;
interface TestHost {
  host: Host;
  url: string;
  ran: unknown[];
  logs: () => string;
  schema: string;
}

async function startHost(
  extra: { pollMs?: number; telegram?: FakeBotApi; url?: string; leaseMs?: number } = {},
): Promise<TestHost> {
  const schema = `outage_${++schemas}`;
  const ran: unknown[] = [];
  const { logger, text } = memoryLogger();
  const host = createHost({
    logger,
    agents: [
      agent('echo', async (input) => {
        ran.push(input);
        // A task that is still running when the database goes away.
        if (input === 'slow') await new Promise((resolve) => setTimeout(resolve, 1500));
        return null;
      }),
    ],
    runner: {
      pollMs: extra.pollMs ?? 200,
      ...(extra.leaseMs !== undefined && { leaseMs: extra.leaseMs, recoverEveryMs: 500 }),
    },
    plugins: [
      postgres({
        url: extra.url ?? cluster.url,
        schema,
        pool: { max: 5, connectionTimeoutMillis: 1000 },
        healthTimeoutMs: 500,
      }),
      webhook({
        port: 0,
        api: { token: TOKEN },
        healthCacheMs: 0,
        routes: [
          {
            name: 'hook',
            path: '/hooks/in',
            verify: { scheme: 'hmac', secret: HOOK_SECRET },
            task: { agent: 'echo' },
          },
        ],
      }),
      ...(extra.telegram
        ? [
            telegram({
              token: extra.telegram.token,
              apiRoot: extra.telegram.url,
              allowedUsers: [ALICE.id],
              pollTimeoutSeconds: 1,
            }),
          ]
        : []),
    ],
  });
  await host.start();
  return { host, url: host.resolve(HttpServerToken).address!.url, ran, logs: text, schema };
}

const postTask = (url: string, input: string) =>
  fetch(`${url}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input, idempotencyKey: `api:${input}` }),
  });
const postHook = (url: string, id: string, payload: unknown) => {
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', HOOK_SECRET).update(body).digest('hex');
  return fetch(`${url}/hooks/in`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-delivery-id': id,
      'x-signature': `sha256=${signature}`,
    },
    body,
  });
};
async function health(url: string): Promise<{ status: number; store: string; output?: string }> {
  const res = await fetch(`${url}/health`);
  const body = (await res.json()) as {
    checks: Record<string, { status: string; output?: string }[]>;
  };
  const store = body.checks.store?.[0];
  return { status: res.status, store: store?.status ?? 'missing', output: store?.output };
}

describe.skipIf(!available)('a host on PostgreSQL losing its database', () => {
  it('survives a crash-restart: /health fails, intake answers 503 and stores nothing, then all recovers', async () => {
    const h = await startHost();
    try {
      expect((await postTask(h.url, 'before')).status).toBe(201);
      const tasks = h.host.resolve(TaskStoreToken);
      // Completed, not only run: a completion lost with the server would run it again.
      await expect
        .poll(async () => (await tasks.list({})).map((t: Task) => t.status), { timeout: 10_000 })
        .toEqual(['completed']);

      await cluster.stop('immediate');
      const down = await health(h.url);
      expect(down.status).toBe(503);
      expect(down.store).toBe('fail');
      // (The URL itself is a secret option, and so masked in answers, as the password would be.)
      expect(down.output).toMatch(/cannot use PostgreSQL at .*ECONNREFUSED/);

      const refused = await postTask(h.url, 'during');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'store_unavailable',
      );
      const hook = await postHook(h.url, 'd-1', { n: 1 });
      expect(hook.status).toBe(503);
      expect(((await hook.json()) as { error: { code: string } }).error.code).toBe(
        'store_unavailable',
      );
      // A few of the runner's polls fail meanwhile; the host keeps running.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      await cluster.start();
      await expect.poll(async () => (await health(h.url)).store, { timeout: 15_000 }).toBe('pass');
      // The senders deliver again, and now it is stored once and run.
      expect((await postTask(h.url, 'during')).status).toBe(201);
      expect((await postHook(h.url, 'd-1', { n: 1 })).status).toBe(202);
      const store = h.host.resolve(TaskStoreToken);
      await expect
        .poll(async () => (await store.list({ limit: 100 })).map((t: Task) => t.status), {
          timeout: 15_000,
        })
        .toEqual(['completed', 'completed', 'completed']);
      // Each accepted input ran exactly once; what was refused was stored only when sent again.
      expect(h.ran).toHaveLength(3);
      expect(h.ran).toEqual(expect.arrayContaining(['before', 'during', { n: 1 }]));
      expect(h.logs()).toMatch(/PostgreSQL connection broke|cannot be reached/);
      expect(crashes).toEqual([]);
    } finally {
      await h.host.stop();
    }
  }, 60_000);

  it('completes a task that was running when the database crashed, once it is back', async () => {
    const h = await startHost({ leaseMs: 2000 });
    try {
      expect((await postTask(h.url, 'slow')).status).toBe(201);
      await expect.poll(() => h.ran, { timeout: 10_000 }).toEqual(['slow']);
      // The run is under way: its completion cannot be written while the server is down.
      await cluster.stop('immediate');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await cluster.start();
      const store = h.host.resolve(TaskStoreToken);
      await expect
        .poll(async () => (await store.list({ limit: 10 })).map((t: Task) => t.status), {
          timeout: 20_000,
        })
        .toEqual(['completed']);
      // Run again only if its completion was lost with the lease (at least once, never lost).
      expect(h.ran.length).toBeGreaterThanOrEqual(1);
      expect(h.ran.length).toBeLessThanOrEqual(2);
      expect(crashes).toEqual([]);
    } finally {
      await h.host.stop();
    }
  }, 60_000);

  it('survives pg_terminate_backend of all its connections, and LISTEN resubscribes', async () => {
    // Polling once a minute: a task run within seconds was found through LISTEN/NOTIFY.
    const h = await startHost({ pollMs: 60_000 });
    const other = await openPostgresStore({ url: cluster.url, schema: h.schema });
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      await other.tasks.enqueue({ input: 'first', agent: 'echo' }, Date.now());
      await expect.poll(() => h.ran, { timeout: 10_000 }).toEqual(['first']);

      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'agentd' and pid <> pg_backend_pid()`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      // The listening connection reconnects after a second; then a task enqueued elsewhere
      // wakes the host again without waiting for its poll.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const t0 = Date.now();
      await other.tasks.enqueue({ input: 'second', agent: 'echo' }, Date.now());
      await expect.poll(() => h.ran, { timeout: 10_000 }).toEqual(['first', 'second']);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect((await health(h.url)).store).toBe('pass');
      expect(crashes).toEqual([]);
    } finally {
      await admin.end();
      await other.close();
      await h.host.stop();
    }
  }, 60_000);

  it('survives a network cut where nothing answers (a blackhole), then reconnects', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: cluster.port });
    const h = await startHost({ url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` });
    try {
      expect((await postTask(h.url, 'before the cut')).status).toBe(201);
      await expect.poll(() => h.ran, { timeout: 10_000 }).toEqual(['before the cut']);
      proxy.cut({ blackhole: true });
      const down = await health(h.url);
      expect(down).toMatchObject({ status: 503, store: 'fail' });
      // The pool's connect timeout (1 s here) bounds the wait; then 503, nothing stored.
      const t0 = Date.now();
      const refused = await postTask(h.url, 'during the cut');
      expect(refused.status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(5000);
      proxy.heal();
      await expect.poll(async () => (await health(h.url)).store, { timeout: 15_000 }).toBe('pass');
      expect((await postTask(h.url, 'after the cut')).status).toBe(201);
      await expect
        .poll(() => h.ran, { timeout: 10_000 })
        .toEqual(['before the cut', 'after the cut']);
      expect(crashes).toEqual([]);
    } finally {
      await h.host.stop();
      await proxy.close();
    }
  }, 60_000);

  it('Telegram: an update that arrives while the database is down is not confirmed, and is taken once it is back', async () => {
    const api = await FakeBotApi.start({ token: '123456:OUTAGE-test-token' });
    const h = await startHost({ telegram: api });
    try {
      api.sendText(ALICE, 'hello before');
      await expect.poll(() => h.ran, { timeout: 10_000 }).toEqual(['hello before']);
      const confirmedBefore = api.confirmedBelow;

      await cluster.stop('immediate');
      const id = api.sendText(ALICE, 'hello during');
      // Polled and tried (the intake guard retries for a few seconds), never confirmed.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(api.confirmedBelow).toBeLessThanOrEqual(id);
      expect(api.confirmedBelow).toBeGreaterThanOrEqual(confirmedBefore);

      await cluster.start();
      await expect
        .poll(() => h.ran, { timeout: 30_000, message: h.logs() })
        .toEqual(['hello before', 'hello during']);
      await expect.poll(() => api.confirmedBelow, { timeout: 10_000 }).toBeGreaterThan(id);
      // Not kept as a dead letter: the store being away is not the update's fault.
      const letters = await h.host.resolve(TaskStoreToken).listDeadLetters?.({});
      expect(letters).toEqual([]);
      expect(crashes).toEqual([]);
    } finally {
      await h.host.stop();
      await api.close();
    }
  }, 90_000);
});
