import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';
import { SqliteTaskStore } from './task-store.js';

// The workers are plain Node processes importing the built package (dist/), since Node 20
// cannot import this TypeScript source. `npm test` builds first.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const fixture = (name: string) =>
  fileURLToPath(new URL(`./test-fixtures/${name}`, import.meta.url));
const built = existsSync(dist);
if (!built) {
  console.warn(
    `[store-sqlite] multi-process tests skipped: ${dist} is missing; run \`npm run build -w packages/store-sqlite\` first`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'agentd-store-mp-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectClean(exit: Exit): void {
  expect(exit.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
  expect(exit.stderr).toBe('');
  expect(exit.code).toBe(0);
}

describe.skipIf(!built)('several processes sharing one file', () => {
  it('completes every task exactly once, one session task at a time, without SQLITE_BUSY', async () => {
    const path = join(dir, 'shared-queue.db');
    const store = openSqliteStore({ path });
    const tasks = Array.from({ length: 2000 }, (_, i) => ({
      input: i,
      // A quarter of the tasks belong to ten sessions, to exercise the one-per-session rule.
      ...(i % 4 === 0 ? { sessionKey: `chat-${i % 10}` } : {}),
    }));
    const created = await store.tasks.enqueueMany(tasks, Date.now());
    const all = created.map((r) => r.task.id);

    const startAt = String(Date.now() + 1500);
    const exits = await Promise.all(
      ['worker-a', 'worker-b', 'worker-c'].map((owner) =>
        run('claim-worker.mjs', [path, owner, startAt]),
      ),
    );
    for (const exit of exits) expectClean(exit);
    const reports = exits.map(
      (exit) =>
        JSON.parse(exit.stdout) as { owner: string; completed: string[]; violations: string[] },
    );
    for (const report of reports) expect(report.violations).toEqual([]);
    const completed = reports.flatMap((r) => r.completed);
    expect(completed).toHaveLength(2000);
    expect(new Set(completed)).toEqual(new Set(all));
    // Every worker got a share: the claims really were concurrent.
    for (const report of reports) expect(report.completed.length).toBeGreaterThan(0);

    expect(await store.tasks.counts()).toEqual({
      pending: 0,
      held: 0,
      running: 0,
      completed: 2000,
      failed: 0,
      cancelled: 0,
    });
    const byOwner = new Map(reports.map((r) => [r.owner, new Set(r.completed)]));
    for (const task of await store.tasks.list({ limit: 2000 })) {
      expect(task.attempts).toBe(1);
      const owner = (task.result as { by: string }).by;
      expect(byOwner.get(owner)?.has(task.id)).toBe(true);
    }
    await store.close();
  });

  it('keeps stats() equal to a count of the rows across kill -9s in the middle of writes', async () => {
    const path = join(dir, 'counts-kill.db');
    await openSqliteStore({ path }).close();
    for (let kill = 0; kill < 6; kill++) {
      const child = spawn(process.execPath, [fixture('count-writer.mjs'), path, `w${kill}`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      // Killed at a random moment of its loop, often inside a batch's transaction.
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 300));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    const db = new Database(path, { readonly: true });
    // What stats() reads: task_counts for the statuses off the hot path and the pending, running
    // and completed group, the open-tasks index for pending and running.
    const { byPriority } = await new SqliteTaskStore(db).stats(Date.now());
    const counted = Object.entries(byPriority)
      .flatMap(([status, ns]) => ns.map((n, priority) => ({ status, priority, n })))
      .filter((r) => r.n !== 0)
      .sort((a, b) =>
        a.status < b.status ? -1 : a.status > b.status ? 1 : a.priority - b.priority,
      );
    const actual = db
      .prepare(
        'SELECT status, priority, count(*) AS n FROM tasks GROUP BY status, priority ORDER BY status, priority',
      )
      .all();
    expect(counted).toEqual(actual);
    // The writers got through every path that ends a task (running rows exist only when a
    // kill fell between a claim and its completion).
    const statuses = new Set(actual.map((r) => (r as { status: string }).status));
    for (const status of ['pending', 'completed', 'failed', 'cancelled']) {
      expect(statuses).toContain(status);
    }
    db.close();
  }, 60_000);

  it('migrates a new file once when several processes open it at the same moment', async () => {
    const path = join(dir, 'fresh', 'race.db');
    const startAt = String(Date.now() + 700);
    const names = ['p1', 'p2', 'p3'];
    const exits = await Promise.all(
      names.map((name) => run('open-worker.mjs', [path, name, startAt])),
    );
    for (const exit of exits) expectClean(exit);
    const reports = exits.map((exit) => JSON.parse(exit.stdout) as { name: string; ids: string[] });

    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT name FROM agentd_migrations ORDER BY name').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ name: m.name })));
    expect(db.prepare('SELECT count(*) AS n FROM meta').get()).toEqual({ n: 1 });
    // 5 rounds x 3 processes unique tasks, plus the one task behind the shared key.
    expect(db.prepare('SELECT count(*) AS n FROM tasks').get()).toEqual({ n: 16 });
    db.close();

    const sharedIds = new Set(reports.flatMap((r) => r.ids.filter((_, i) => i % 2 === 1)));
    expect(sharedIds.size).toBe(1);
    const store = openSqliteStore({ path });
    for (const id of reports.flatMap((r) => r.ids)) {
      expect(await store.tasks.get(id)).toBeDefined();
    }
    await store.close();
  });
});
