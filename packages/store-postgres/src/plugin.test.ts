import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  agent,
  createHost,
  HealthRegistryToken,
  SessionStoreToken,
  StateStoreToken,
  StoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresOptionsSchema } from './options.js';
import { postgres } from './plugin.js';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from './test-database.js';

const available = (await probePostgres()).available;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function freshSchema(): Promise<string> {
  const { schema, drop } = await createTestSchema();
  cleanup.push(drop);
  return schema;
}

/**
 * A TCP proxy to the test server that can be cut (every connection dropped, nothing listens)
 * and restored on the same port: the database "goes away" and comes back.
 */
async function cuttableProxy(): Promise<{
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
}> {
  const target = new URL(TEST_POSTGRES_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    const closed = new Promise((resolve) => server?.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();
  cleanup.push(cut);
  const url = new URL(TEST_POSTGRES_URL);
  url.host = `127.0.0.1:${port}`;
  // Trust auth ignores the password: it is here to show it never leaks.
  url.password = 'hunter2-secret';
  return { url: url.toString(), cut, restore: listen };
}

describe('postgres() options', () => {
  it('accepts the documented options and names what is wrong, without echoing values', async () => {
    const good = {
      url: 'postgres://agentd:pw@db:5432/agentd',
      schema: 'tenant_1',
      pool: { max: 5, idleTimeoutMillis: 1000, connectionTimeoutMillis: 2000 },
      ssl: { rejectUnauthorized: false, ca: '-----BEGIN CERTIFICATE-----' },
      applicationName: 'agentd-a',
      healthTimeoutMs: 500,
    };
    expect(await postgresOptionsSchema['~standard'].validate(good)).toEqual({ value: good });
    const bad = await postgresOptionsSchema['~standard'].validate({
      url: 'mysql://root:hunter2-secret@db/x',
      shema: 'x',
      pool: { max: 0 },
      ssl: 'yes',
    });
    expect(bad.issues?.map((i) => [i.path?.join('.'), i.message])).toEqual([
      ['url', 'must be a postgres:// or postgresql:// URL'],
      ['shema', expect.stringContaining('unknown option (known: url,')],
      ['pool.max', 'must be an integer of at least 1'],
      ['ssl', 'must be true, false or { rejectUnauthorized, ca }'],
    ]);
    expect(JSON.stringify(bad)).not.toContain('hunter2');
    expect(postgres({}).secretOptions).toEqual(['url', 'password']);
  });
});

describe.skipIf(!available)('postgres() plugin', () => {
  it('opens in start, provides the store and its parts, reports health, closes in stop', async () => {
    const schema = await freshSchema();
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [postgres({ url: TEST_POSTGRES_URL, schema, pool: { max: 3 } })],
    });
    await host.start();
    try {
      const store = host.resolve(StoreToken);
      const target = new URL(TEST_POSTGRES_URL);
      expect(store.description).toBe(
        `postgres://${target.username}@${target.hostname}:${target.port || 5432}${target.pathname}?schema=${schema}`,
      );
      await host.resolve(StateStoreToken).set('test', 'k', { n: 1 });
      expect(await store.state.get('test', 'k')).toEqual({ n: 1 });
      const sessions = host.resolve(SessionStoreToken);
      const s = await sessions.create(
        {
          userKey: 'telegram:1',
          address: { channel: 'telegram', id: '1' },
          name: 'main',
          agent: 'echo',
        },
        Date.now(),
      );
      expect((await store.sessions.get(s.id))?.name).toBe('main');
      const health = await host.resolve(HealthRegistryToken).run();
      expect(health.checks.store).toMatchObject({ status: 'pass', observedUnit: 'ms' });
      // A consumer closing the shared store must not close it for everyone.
      await store.close();
      expect(await store.state.get('test', 'k')).toEqual({ n: 1 });
    } finally {
      await host.stop();
    }
    const error = await host
      .resolve(StateStoreToken)
      .get('test', 'k')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_STORE_NOT_OPEN' });
  });

  it('offers LISTEN/NOTIFY (onWork) by default, and not with listen: false (PgBouncer)', async () => {
    const schema = await freshSchema();
    for (const listen of [undefined, false]) {
      const host = createHost({
        logger: memoryLogger().logger,
        plugins: [
          postgres({ url: TEST_POSTGRES_URL, schema, ...(listen === false && { listen }) }),
        ],
      });
      await host.start();
      try {
        expect(typeof host.resolve(TaskStoreToken).onWork).toBe(
          listen === false ? 'undefined' : 'function',
        );
      } finally {
        await host.stop();
      }
    }
    const bad = await postgresOptionsSchema['~standard'].validate({ listen: 'no' });
    expect(bad).toEqual({ issues: [{ message: 'must be true or false', path: ['listen'] }] });
  });

  it('survives losing the database: health fails without the password, then recovers', async () => {
    const schema = await freshSchema();
    const proxy = await cuttableProxy();
    const logs = memoryLogger();
    const host = createHost({
      logger: logs.logger,
      plugins: [postgres({ url: proxy.url, schema, pool: { connectionTimeoutMillis: 500 } })],
    });
    await host.start();
    cleanup.push(() => host.stop());
    const health = host.resolve(HealthRegistryToken);
    const state = host.resolve(StateStoreToken);
    await state.set('test', 'k', 1);
    expect((await health.run()).checks.store).toMatchObject({ status: 'pass' });

    await proxy.cut();
    await sleep(50); // the pool's idle connections see their sockets close
    const down = (await health.run()).checks.store;
    expect(down?.status).toBe('fail');
    expect(down?.output).toMatch(/cannot use PostgreSQL at postgres:\/\/\S+@127\.0\.0\.1:\d+\//);
    expect(down?.output).not.toContain('hunter2');
    await expect(state.get('test', 'k')).rejects.toThrow();
    expect(host.state).toBe('ready');
    // The idle connection that broke was reported on the pool: logged, not thrown.
    expect(logs.text()).toContain('a PostgreSQL connection broke');
    expect(logs.text()).not.toContain('hunter2');

    await proxy.restore();
    expect((await health.run()).checks.store).toMatchObject({ status: 'pass' });
    expect(await state.get('test', 'k')).toBe(1);
  });

  it('fails to start with E_POSTGRES_UNREACHABLE when nothing listens', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [
        postgres({
          url: 'postgres://agentd:hunter2-secret@127.0.0.1:1/none',
          pool: { connectionTimeoutMillis: 500 },
        }),
      ],
    });
    const error = (await host.start().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'E_PLUGIN_START' });
    expect(error.cause).toMatchObject({ code: 'E_POSTGRES_UNREACHABLE' });
    expect(error.message).toContain('cannot use PostgreSQL at postgres://agentd@127.0.0.1:1/none');
    expect(error.message).not.toContain('hunter2');
  });

  it('runs a task to completion on a fresh schema', async () => {
    const schema = await freshSchema();
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `ran ${String(input)}`)],
      plugins: [postgres({ url: TEST_POSTGRES_URL, schema })],
    });
    await host.start();
    cleanup.push(() => host.stop());
    const tasks = host.resolve(TaskStoreToken);
    const { task } = await tasks.enqueue({ input: 'hello', agent: 'echo' }, Date.now());
    const deadline = Date.now() + 10_000;
    while ((await tasks.get(task.id))?.status !== 'completed') {
      if (Date.now() > deadline) throw new Error('the task did not complete');
      await sleep(20);
    }
    expect(await tasks.get(task.id)).toMatchObject({ result: 'ran hello', attempts: 1 });
  });

  it('wakes a host at once on work another host enqueued (LISTEN/NOTIFY, not its poll)', async () => {
    const schema = await freshSchema();
    // The worker polls once a minute: only a notification explains a run within seconds.
    const worker = createHost({
      name: 'worker',
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `ran ${String(input)}`)],
      runner: { pollMs: 60_000 },
      plugins: [postgres({ url: TEST_POSTGRES_URL, schema })],
    });
    const intake = createHost({
      name: 'intake',
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `ran ${String(input)}`)],
      runner: false,
      plugins: [postgres({ url: TEST_POSTGRES_URL, schema })],
    });
    await worker.start();
    cleanup.push(() => worker.stop());
    await intake.start();
    cleanup.push(() => intake.stop());
    // Let the worker's first (empty) claim pass, so it is asleep until its next poll.
    await sleep(300);
    const enqueuedAt = Date.now();
    const { task } = await intake
      .resolve(TaskStoreToken)
      .enqueue({ input: 'from intake', agent: 'echo' }, Date.now());
    const store = worker.resolve(TaskStoreToken);
    while ((await store.get(task.id))?.status !== 'completed') {
      if (Date.now() - enqueuedAt > 10_000) throw new Error('the worker did not wake up');
      await sleep(20);
    }
    expect(Date.now() - enqueuedAt).toBeLessThan(5_000);
    expect(await store.get(task.id)).toMatchObject({ result: 'ran from intake' });
  });
});
