import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentdError } from '@agentd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { BackgroundCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES } from './checkpointer.js';
import { sqliteOptionsSchema } from './plugin.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-checkpointer-'));
let n = 0;
const freshPath = () => join(dir, `db-${++n}.db`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One write transaction per task, as a runner makes them: about 3 WAL pages each. */
async function writeTasks(store: SqliteStore, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await store.tasks.enqueue({ input: `task ${i}` }, T0);
}

/** The main file's size once it stops changing for a moment, or after `ms`. */
async function fileSizeAfter(path: string, ms: number): Promise<number> {
  const start = statSync(path).size;
  for (let waited = 0; waited < ms; waited += 20) {
    if (statSync(path).size !== start) return statSync(path).size;
    await sleep(20);
  }
  return statSync(path).size;
}

/**
 * Opens a store, raises the writer's own checkpoint threshold to the fallback's (as the worker
 * does), writes 400 tasks and reports the main file's size before and `waitMs` after.
 */
async function mainFileGrowth(options: { backgroundCheckpoints: boolean }, waitMs: number) {
  const path = freshPath();
  const store = openSqliteStore({ path, ...options });
  try {
    const autocheckpoint = store.database.pragma('wal_autocheckpoint', { simple: true });
    store.database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    const before = statSync(path).size;
    await writeTasks(store, 400);
    return { autocheckpoint, before, after: await fileSizeAfter(path, waitMs) };
  } finally {
    await store.close();
  }
}

describe('background checkpoints', () => {
  // 400 one-task transactions: far fewer pages than the writer's own (fallback) threshold, so
  // nothing but a background checkpoint moves them into the main file.
  it('copy the WAL into the file from a worker while the writer never checkpoints itself', async () => {
    const growth = await mainFileGrowth({ backgroundCheckpoints: true }, 5000);
    expect(growth.autocheckpoint).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
    expect(growth.after).toBeGreaterThan(growth.before);
  });

  it('are what moves the pages: without the worker, the same writes stay in the WAL', async () => {
    const growth = await mainFileGrowth({ backgroundCheckpoints: false }, 500);
    expect(growth.autocheckpoint).toBe(1000);
    expect(growth.after).toBe(growth.before);
  });

  it('stop with the store: close leaves no connection behind, so the WAL is folded in and removed', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path, backgroundCheckpoints: true });
    await writeTasks(store, 50);
    expect(existsSync(`${path}-wal`)).toBe(true);
    await store.close();
    // SQLite removes the WAL only when the last connection to the file closes.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = openSqliteStore({ path });
    expect((await reopened.tasks.list({ limit: 100 })).length).toBe(50);
    await reopened.close();
  });

  it('hand checkpoints back to SQLite when the worker fails, without failing the host', async () => {
    const store = openSqliteStore({ path: freshPath() });
    const db = store.database;
    try {
      // The worker cannot open this file: it fails and exits on its own.
      const checkpointer = BackgroundCheckpointer.start(db, join(dir, 'missing', 'nope.db'));
      expect(checkpointer).toBeDefined();
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
      for (let waited = 0; waited < 5000; waited += 20) {
        if (db.pragma('wal_autocheckpoint', { simple: true }) === 1000) break;
        await sleep(20);
      }
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      await checkpointer?.stop();
      await writeTasks(store, 3);
    } finally {
      await store.close();
    }
  });

  it('never keep a process alive that forgot to close its store', async () => {
    const path = freshPath();
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(dist)});
      const store = openSqliteStore({ path: ${JSON.stringify(path)}, backgroundCheckpoints: true });
      await store.tasks.enqueue({ input: 'left open' }, Date.now());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code).toBe(0);
    const reopened = openSqliteStore({ path });
    expect((await reopened.tasks.list()).map((t) => t.input)).toEqual(['left open']);
    await reopened.close();
  });

  it('are an option checked like the others', async () => {
    expect(() =>
      openSqliteStore({ path: freshPath(), backgroundCheckpoints: 'yes' as unknown as boolean }),
    ).toThrow(AgentdError);
    const result = await sqliteOptionsSchema['~standard'].validate({ backgroundCheckpoints: 1 });
    expect(result.issues).toEqual([
      { message: 'must be true or false', path: ['backgroundCheckpoints'] },
    ]);
    const ok = await sqliteOptionsSchema['~standard'].validate({ backgroundCheckpoints: false });
    expect(ok).toEqual({ value: { backgroundCheckpoints: false } });
  });
});
