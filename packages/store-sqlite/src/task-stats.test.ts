import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'agentd-task-stats-'));
  dirs.push(d);
  return join(d, 'a.db');
};

describe('in-process task counts', () => {
  it('are exact for the writer at once and reach another connection when the writer closes', async () => {
    const path = fresh();
    const writer = openSqliteStore({ path });
    const reader = openSqliteStore({ path });
    await writer.tasks.enqueueMany([{ input: 1 }, { input: 2 }, { input: 3, priority: 0 }], 1);
    const [task] = await writer.tasks.claim({ owner: 'w', leaseMs: 1000, now: 2 });
    await writer.tasks.completeAndClaim(task?.id ?? '', 'w', null, {
      owner: 'w',
      leaseMs: 1000,
      now: 3,
    });
    const mine = await writer.tasks.counts();
    expect(mine).toMatchObject({ pending: 1, running: 1, completed: 1 });
    await writer.close();
    expect(await reader.tasks.counts()).toMatchObject({ pending: 1, running: 1, completed: 1 });
    await reader.close();
  });

  it('counts the table again when a writer died with changes not added', async () => {
    const path = fresh();
    const store = openSqliteStore({ path });
    await store.tasks.enqueueMany([{ input: 1 }, { input: 2 }], 1);
    await store.close();
    const db = new Database(path);
    db.exec(
      `UPDATE task_counts SET n = 0; INSERT INTO task_count_writers (id, pid) VALUES ('gone', 2147483646)`,
    );
    db.close();
    const reopened = openSqliteStore({ path });
    expect((await reopened.tasks.counts()).pending).toBe(2);
    await reopened.close();
  });
});
