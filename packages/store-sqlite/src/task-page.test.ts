import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewTask, Task, TaskStore } from '@agentd/core';
import { pageTasksIn, type TaskPageQuery } from '@agentd/core/store';
import { openMemoryStore } from '@agentd/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

/** Every page of a query, following the cursors; also counts the calls. */
async function walk(
  page: (q: TaskPageQuery) => Promise<{ tasks: Task[]; next: string | null }>,
  query: TaskPageQuery,
): Promise<{ ids: string[]; calls: number }> {
  const ids: string[] = [];
  let after: string | undefined;
  let calls = 0;
  do {
    const result = await page({ ...query, ...(after ? { after } : {}) });
    calls++;
    ids.push(...result.tasks.map((t) => t.id));
    after = result.next ?? undefined;
  } while (after && calls < 10_000);
  return { ids, calls };
}

describe('SQLite keyset paging of tasks (pageTasks)', () => {
  let dir: string;
  let store: SqliteStore;
  const TOTAL = 45_000;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-task-page-'));
    store = openSqliteStore({ path: join(dir, 'agentd.db') });
    const batch: NewTask[] = [];
    for (let i = 0; i < TOTAL; i++) {
      batch.push({
        input: i,
        description: i % 10_000 === 7 ? `Quarterly INVOICE ${i}` : `task 100% _done_ ${i}`,
        agent: i % 3 === 0 ? 'writer' : 'triage',
        type: i % 2 === 0 ? 'webhook' : 'message',
      });
    }
    for (let i = 0; i < batch.length; i += 5000)
      await store.tasks.enqueueMany!(batch.slice(i, i + 5000), 1000);
  }, 120_000);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks every task once, newest first, across its scan windows', async () => {
    const { ids } = await walk((q) => store.tasks.pageTasks!(q), { limit: 500 });
    expect(ids).toHaveLength(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    const newest = await store.tasks.list({ limit: 3 });
    expect(ids.slice(0, 3)).toEqual(newest.map((t) => t.id));
  });

  it('matches rare text across windows with short pages and cursors, as the fallback does', async () => {
    const rare = await walk((q) => store.tasks.pageTasks!(q), { text: 'invoice', limit: 50 });
    expect(rare.ids).toHaveLength(5);
    const descriptions = await Promise.all(
      rare.ids.map(async (id) => (await store.tasks.get(id))?.description),
    );
    expect(descriptions.every((d) => d?.includes('INVOICE'))).toBe(true);
    // Wildcards and quotes are plain text.
    expect(
      (await walk((q) => store.tasks.pageTasks!(q), { text: '100% _done_ 44999' })).ids,
    ).toHaveLength(1);
    expect((await walk((q) => store.tasks.pageTasks!(q), { text: "%' OR '1'='1" })).ids).toEqual(
      [],
    );
    const both = await walk((q) => store.tasks.pageTasks!(q), {
      agent: 'writer',
      type: 'webhook',
      limit: 200,
    });
    expect(both.ids).toHaveLength(Math.ceil(TOTAL / 6));
    // The same store seen without its fast path: core's fallback pages it with list().
    const tasks = store.tasks;
    const withoutPageTasks = {
      ...tasks,
      list: tasks.list.bind(tasks),
      pageTasks: undefined,
    } as unknown as TaskStore;
    const viaFallback = await walk((q) => pageTasksIn(withoutPageTasks, q), {
      agent: 'writer',
      type: 'webhook',
      limit: 200,
    });
    expect(viaFallback.ids).toEqual(both.ids);
  });

  it('answers a first page fast, and refuses cursors and limits it never gave', async () => {
    const started = performance.now();
    const page = await store.tasks.pageTasks!({
      status: 'pending',
      agent: 'writer',
      text: 'done',
      limit: 50,
    });
    expect(page.tasks).toHaveLength(50);
    expect(performance.now() - started).toBeLessThan(500);
    await expect(store.tasks.pageTasks!({ after: 'o:5' })).rejects.toMatchObject({
      code: 'E_INVALID_QUERY',
    });
    await expect(store.tasks.pageTasks!({ limit: 10_000 })).rejects.toMatchObject({
      code: 'E_INVALID_QUERY',
    });
    await expect(store.tasks.pageTasks!({ status: 'bogus' as never })).rejects.toMatchObject({
      code: 'E_INVALID_QUERY',
    });
    expect(await store.tasks.pageTasks!({ after: 's:1' })).toEqual({ tasks: [], next: null });
  });
});

describe('the store kit fallback (pageTasksIn over list)', () => {
  it('pages a store without pageTasks by offsets, filtering text itself', async () => {
    const memory = openMemoryStore();
    const made: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { task } = await memory.tasks.enqueue(
        { input: i, description: i % 7 === 0 ? `Special ${i}` : `plain ${i}` },
        1000 + i,
      );
      made.push(task.id);
    }
    expect((memory.tasks as TaskStore).pageTasks).toBeUndefined();
    const all = await walk((q) => pageTasksIn(memory.tasks, q), { limit: 4 });
    expect(all.ids).toEqual([...made].reverse());
    const special = await walk((q) => pageTasksIn(memory.tasks, q), { text: 'SPECIAL', limit: 2 });
    expect(special.ids).toEqual([made[28], made[21], made[14], made[7], made[0]]);
    await expect(pageTasksIn(memory.tasks, { after: 's:3' })).rejects.toMatchObject({
      code: 'E_INVALID_QUERY',
    });
  });
});
