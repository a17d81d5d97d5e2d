import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  createHost,
  type Plugin,
  SessionStoreToken,
  StateStoreToken,
  StoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type SqlitePluginOptions, sqlite, sqliteOptionsSchema } from './plugin.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-plugin-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const logger = () => memoryLogger().logger;

describe('sqlite() plugin', () => {
  it('opens <dataDir>/agentd.db in start, provides the store and its parts, closes in stop', async () => {
    const dataDir = join(dir, 'default', '.agentd');
    const host = createHost({ logger: logger(), dataDir, plugins: [sqlite()] });
    await host.start();
    const path = join(dataDir, 'agentd.db');
    expect(existsSync(path)).toBe(true);
    const store = host.resolve(StoreToken);
    expect(store.description).toBe(`sqlite:${path}`);
    const { task } = await host.resolve(TaskStoreToken).enqueue({ input: 'hi' }, Date.now());
    expect(await store.tasks.get(task.id)).toEqual(task);
    await host.resolve(StateStoreToken).set('test', 'k', 1);
    expect(await store.state.get('test', 'k')).toBe(1);
    expect(await host.resolve(SessionStoreToken).listByStatus(['live'])).toEqual([]);
    // A consumer closing the shared store must not close it for everyone.
    await store.close();
    expect(await store.tasks.counts()).toMatchObject({ pending: 1 });
    await host.stop();
    const error = await store.tasks.counts().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_STORE_NOT_OPEN' });
  });

  it('resolves a relative path against the config directory and keeps data across restarts', async () => {
    const baseDir = join(dir, 'project');
    const make = () =>
      createHost(
        { logger: logger(), plugins: [sqlite({ path: 'data/queue.db', synchronous: 'FULL' })] },
        { baseDir },
      );
    const first = make();
    await first.start();
    expect(first.resolve(StoreToken).description).toBe(
      `sqlite:${join(baseDir, 'data', 'queue.db')}`,
    );
    const { task } = await first
      .resolve(TaskStoreToken)
      .enqueue({ input: 'persist me' }, Date.now());
    await first.stop();
    const second = make();
    await second.start();
    expect((await second.resolve(TaskStoreToken).get(task.id))?.input).toBe('persist me');
    await second.stop();
  });

  it('rejects calls made before start with a clear error', async () => {
    let early: unknown;
    const probe: Plugin = {
      name: 'probe',
      dependsOn: [TaskStoreToken],
      register(ctx) {
        early = ctx
          .resolve(TaskStoreToken)
          .counts()
          .catch((e: unknown) => e);
      },
    };
    const host = createHost({
      logger: logger(),
      dataDir: join(dir, 'early'),
      plugins: [probe, sqlite()],
    });
    await host.start();
    const error = (await early) as Error & { code?: string };
    expect(error.code).toBe('E_STORE_NOT_OPEN');
    expect(error.message).toMatch(/opens in start\(\)/);
    await host.stop();
  });

  it('reports bad options when the config is validated', async () => {
    const options = {
      pth: 'x.db',
      busyTimeoutMs: -1,
      synchronous: 'OFF',
    } as unknown as SqlitePluginOptions;
    const host = createHost({
      logger: logger(),
      dataDir: join(dir, 'bad'),
      plugins: [sqlite(options)],
    });
    const error = await host.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/pth: unknown option/);
    expect(issues).toMatch(/busyTimeoutMs: must be an integer/);
    expect(issues).toMatch(/synchronous: must be 'NORMAL' or 'FULL'/);
  });

  it('validates options as a Standard Schema', async () => {
    const validate = sqliteOptionsSchema['~standard'].validate;
    expect(await validate(undefined)).toEqual({ value: {} });
    expect(await validate({ path: 'a.db', busyTimeoutMs: 100, synchronous: 'NORMAL' })).toEqual({
      value: { path: 'a.db', busyTimeoutMs: 100, synchronous: 'NORMAL' },
    });
    expect(await validate({ path: '' })).toEqual({
      issues: [{ message: 'must be a non-empty string', path: ['path'] }],
    });
    expect(await validate('a.db')).toEqual({ issues: [{ message: 'options must be an object' }] });
  });
});
