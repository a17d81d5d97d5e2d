import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost, HealthRegistryToken, type Plugin, StoreToken } from '@agentd/core';
import { type StoreOpenMode, StoreOpenModeToken } from '@agentd/core/store';
import { memoryLogger } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackup } from './backup.js';
import { type SqlitePluginOptions, sqlite } from './plugin.js';
import { openSqliteStore } from './sqlite-store.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** A host with only the store, opened in `mode` (as the CLI does), that records alert events. */
async function hostAt(
  path: string,
  options: { mode?: StoreOpenMode; sqlite?: SqlitePluginOptions } = {},
) {
  const alerts: unknown[] = [];
  const { logger, lines } = memoryLogger();
  const plugins: Plugin[] = [
    sqlite({ path, ...options.sqlite }),
    {
      name: 'alert-probe',
      register: (ctx) => void ctx.events.on('alert', (a) => void alerts.push(a)),
    },
  ];
  const mode = options.mode;
  if (mode) {
    plugins.push({
      name: 'open-mode',
      provides: [StoreOpenModeToken],
      register: (ctx) => ctx.provide(StoreOpenModeToken, mode),
    });
  }
  // Like the CLI's store-only host: no runner, no session manager (which reads the store at start).
  const host = createHost({ logger, runner: false, sessions: false, plugins });
  return { host, alerts, lines, start: () => host.start() };
}

/** A store file with one backup holding `kept`, and `lost` written after that backup. */
async function storeWithBackup(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-recovery-'));
  const path = join(dir, 'agentd.db');
  // Written without the plugin, whose own first backup would be taken at a time of its choosing.
  const store = openSqliteStore({ path });
  await store.tasks.enqueue({ input: 'kept' }, Date.now());
  await createBackup(store.database, join(dir, 'backups'), 24);
  await store.tasks.enqueue({ input: 'lost' }, Date.now());
  await store.close();
  return path;
}

const filesIn = (d: string) => readdirSync(d).sort();

describe('a damaged store file, by open mode', () => {
  it('inspect (CLI commands): refuses with how to recover, and changes nothing', async () => {
    const path = await storeWithBackup();
    writeFileSync(path, 'x'.repeat(10_000));
    const before = { files: filesIn(dir), bytes: readFileSync(path) };
    const { host, start } = await hostAt(path, { mode: 'inspect' });
    const failure = start();
    await expect(failure).rejects.toMatchObject({ cause: { code: 'E_STORE_CORRUPT' } });
    await expect(failure).rejects.toThrow(
      /the store .*agentd\.db is corrupt \(.*\); this command changed nothing\. To recover: run "agentd start", which restores the newest intact backup itself .*"agentd restore"/,
    );
    await host.stop();
    expect(filesIn(dir)).toEqual(before.files);
    expect(readFileSync(path).equals(before.bytes)).toBe(true);
  });

  it('read (CLI commands that only look): refuses a file that is not a store as inspect does', async () => {
    const path = await storeWithBackup();
    const healthy = await hostAt(path, { mode: 'read' });
    await healthy.start();
    expect((await healthy.host.resolve(StoreToken).tasks.list()).map((t) => t.input)).toEqual([
      'lost',
      'kept',
    ]);
    await healthy.host.stop();
    writeFileSync(path, 'x'.repeat(10_000));
    const before = { files: filesIn(dir), bytes: readFileSync(path) };
    const { host, start } = await hostAt(path, { mode: 'read' });
    const failure = start();
    await expect(failure).rejects.toMatchObject({ cause: { code: 'E_STORE_CORRUPT' } });
    await expect(failure).rejects.toThrow(
      /the store .*agentd\.db is corrupt \(.*not a database.*\); this command changed nothing\. To recover: run "agentd start"/,
    );
    await host.stop();
    expect(filesIn(dir)).toEqual(before.files);
    expect(readFileSync(path).equals(before.bytes)).toBe(true);
  });

  it('replace (agentd restore): leaves the file closed, then restores a backup over it', async () => {
    const path = await storeWithBackup();
    writeFileSync(path, 'x'.repeat(10_000));
    const { host, start } = await hostAt(path, { mode: 'replace' });
    await start();
    const store = host.resolve(StoreToken);
    await expect(store.tasks.list()).rejects.toMatchObject({ code: 'E_STORE_CORRUPT' });
    const health = await host.resolve(HealthRegistryToken).run();
    expect(health.checks.store).toMatchObject({ status: 'fail', output: /is corrupt/ });
    const { keptAside } = await store.restore!();
    expect(keptAside).toMatch(/agentd\.db\.replaced-/);
    expect(readFileSync(keptAside!, 'utf8')).toBe('x'.repeat(10_000));
    expect((await store.tasks.list()).map((t) => t.input)).toEqual(['kept']);
    await host.stop();
  });

  it('repair (agentd start): restores, logs an error, raises an alert, keeps the damaged file', async () => {
    const path = await storeWithBackup();
    writeFileSync(path, 'x'.repeat(10_000));
    const { host, start, alerts, lines } = await hostAt(path);
    await start();
    expect(lines().find((l) => l.level === 50)?.msg).toMatch(
      /^the database was corrupt .*restored agentd-.*changes made after .* are lost; the corrupt file is kept at/,
    );
    expect(alerts).toEqual([
      expect.objectContaining({ severity: 'critical', title: 'Database restored from backup' }),
    ]);
    expect((await host.resolve(StoreToken).tasks.list()).map((t) => t.input)).toEqual(['kept']);
    expect(filesIn(dir).some((f) => f.startsWith('agentd.db.replaced-'))).toBe(true);
    await host.stop();
  });
});

describe('a 0-byte store file', () => {
  it('is damaged when backups exist: inspect refuses, start restores the backup and alerts', async () => {
    const path = await storeWithBackup();
    writeFileSync(path, '');
    for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
    const inspect = await hostAt(path, { mode: 'inspect' });
    await expect(inspect.start()).rejects.toThrow(
      /is corrupt \(the file is empty \(0 bytes\), but 1 backup\(s\) exist, so it held data once\)/,
    );
    await inspect.host.stop();
    expect(readFileSync(path).length).toBe(0);

    const repair = await hostAt(path);
    await repair.start();
    expect(repair.alerts).toHaveLength(1);
    expect((await repair.host.resolve(StoreToken).tasks.list()).map((t) => t.input)).toEqual([
      'kept',
    ]);
    await repair.host.stop();
  });

  it('without any backup is what a crash during the first start leaves: opens as a new store, with a warning', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-recovery-'));
    const path = join(dir, 'agentd.db');
    writeFileSync(path, '');
    const { host, start, lines } = await hostAt(path, { mode: 'inspect' });
    await start();
    expect(lines().find((l) => l.level === 40)?.msg).toMatch(
      /the database file is empty \(0 bytes\) and no backup exists: it opens as a new, empty store/,
    );
    await host.resolve(StoreToken).tasks.enqueue({ input: 'first' }, Date.now());
    expect(await host.resolve(StoreToken).tasks.counts()).toMatchObject({ pending: 1 });
    await host.stop();
  });
});

describe("the store's health check", () => {
  it('fails while another process holds the write lock past busyTimeoutMs, and passes after the next write', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-plugin-recovery-'));
    const path = join(dir, 'agentd.db');
    const { host, start } = await hostAt(path, { sqlite: { busyTimeoutMs: 200, backup: false } });
    await start();
    const health = host.resolve(HealthRegistryToken);
    expect((await health.run()).checks.store).toMatchObject({ status: 'pass' });
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./test-fixtures/hold-lock.mjs', import.meta.url)), path, '1500'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const tasks = host.resolve(StoreToken).tasks;
    await expect(tasks.enqueue({ input: 'blocked' }, Date.now())).rejects.toMatchObject({
      code: 'SQLITE_BUSY',
    });
    const during = await health.run();
    expect(during.status).toBe('fail');
    expect(during.checks.store?.output).toMatch(/writes are failing .*SQLITE_BUSY/);
    expect(await exited).toBe(0);
    await tasks.enqueue({ input: 'after' }, Date.now());
    expect((await health.run()).checks.store).toMatchObject({ status: 'pass' });
    await host.stop();
  }, 15_000);
});
