import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
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
import { enqueueManyInto, StoreOpenModeToken } from '@agentd/core/store';
import { memoryLogger } from '@agentd/core/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type SqlitePluginOptions, sqlite, sqliteOptionsSchema } from './plugin.js';
import { SqliteTaskStore } from './task-store.js';

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

  it("reads the task figures once at a host's start (the walk of the open tasks is paid there, not in the first scrape), never for a CLI command", async () => {
    const path = join(dir, 'warm.db');
    const stats = vi.spyOn(SqliteTaskStore.prototype, 'stats');
    try {
      const host = createHost({ logger: logger(), runner: false, plugins: [sqlite({ path })] });
      await host.start();
      expect(stats).toHaveBeenCalledTimes(1);
      await host.stop();
      stats.mockClear();
      const cli = createHost({
        logger: logger(),
        runner: false,
        sessions: false,
        plugins: [
          sqlite({ path }),
          {
            name: 'open-mode',
            provides: [StoreOpenModeToken],
            register: (ctx) => ctx.provide(StoreOpenModeToken, 'read'),
          },
        ],
      });
      await cli.start();
      expect(stats).not.toHaveBeenCalled();
      await cli.stop();
    } finally {
      stats.mockRestore();
    }
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

describe('sqlite() plugin: backups and corruption', () => {
  const hostAt = async (path: string, extra: Record<string, unknown> = {}) => {
    const alerts: unknown[] = [];
    const { logger, lines } = memoryLogger();
    const host = createHost({
      logger,
      runner: false, // nothing claims: the counts below stay what the store holds
      plugins: [
        sqlite({ path, ...extra }),
        {
          name: 'alert-probe',
          register: (ctx) => void ctx.events.on('alert', (a) => void alerts.push(a)),
        },
      ],
    });
    await host.start();
    return { host, alerts, lines };
  };

  it('backs up at first start, restores the newest good backup over a corrupt file, keeps the corrupt file aside, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-backup-'));
    const path = join(dir, 'agentd.db');
    const first = await hostAt(path);
    const store = first.host.resolve(StoreToken);
    await enqueueManyInto(
      store.tasks,
      Array.from({ length: 300 }, (_, i) => ({ input: `t${i} ${'x'.repeat(200)}` })),
      Date.now(),
    );
    const backup = await store.backup!();
    expect(backup.location.startsWith(join(dir, 'backups'))).toBe(true);
    expect((await store.listBackups!()).length).toBeGreaterThanOrEqual(1);
    await first.host.stop();

    truncateSync(path, 8192 + 17);
    const second = await hostAt(path);
    const message = second.lines().find((l) => l.msg?.startsWith('the database was corrupt'));
    expect(message?.msg).toMatch(
      /restored agentd-.*\.db .*changes made after .* are lost; the corrupt file is kept at .*agentd\.db\.replaced-/,
    );
    expect(second.alerts).toEqual([
      expect.objectContaining({
        severity: 'critical',
        source: 'store-sqlite',
        title: 'Database restored from backup',
      }),
    ]);
    expect((await second.host.resolve(StoreToken).tasks.counts()).pending).toBe(300);
    expect(readdirSync(dir).some((f) => f.startsWith('agentd.db.replaced-'))).toBe(true);
    await second.host.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on a corrupt file without a good backup, moving nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-backup-'));
    const path = join(dir, 'agentd.db');
    writeFileSync(path, Buffer.alloc(20_000, 0x5a));
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [sqlite({ path, backup: false })],
    });
    await expect(host.start()).rejects.toThrow(
      /is corrupt .*backups are off, so there is nothing to restore/,
    );
    const withBackups = createHost({ logger: memoryLogger().logger, plugins: [sqlite({ path })] });
    await expect(withBackups.start()).rejects.toThrow(
      /is corrupt .* and there is no good backup in/,
    );
    expect(readdirSync(dir).sort()).toEqual(['agentd.db']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores on request (agentd restore) with the store re-opened on the restored data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-backup-'));
    const { host } = await hostAt(join(dir, 'agentd.db'), { backup: { keep: 3 } });
    const store = host.resolve(StoreToken);
    await store.tasks.enqueue({ input: 'before' }, Date.now());
    await store.backup!();
    await store.tasks.enqueue({ input: 'after' }, Date.now());
    const { restored, keptAside } = await store.restore!();
    expect(keptAside).toMatch(/agentd\.db\.replaced-/);
    expect(restored.bytes).toBeGreaterThan(0);
    expect((await store.tasks.list()).map((t) => t.input)).toEqual(['before']);
    await host.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
