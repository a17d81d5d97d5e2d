// How long the dashboard's task list takes with many tasks stored: one page of
// TaskStore.pageTasks (keyset, bounded scan) against list() with an offset, on a SQLite file.
// Run: npm run build && node packages/plugin-dashboard/bench/task-pages.mjs [tasks=1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '@agentd/store-sqlite';

const total = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'agentd-pages-bench-'));
const store = openSqliteStore({ path: join(dir, 'agentd.db'), synchronous: 'NORMAL' });
try {
  let started = performance.now();
  const batch = 10_000;
  for (let i = 0; i < total; i += batch) {
    const tasks = [];
    for (let j = i; j < Math.min(total, i + batch); j++) {
      tasks.push({
        input: j,
        description: j % 250_000 === 11 ? `rare invoice ${j}` : `routine job ${j}`,
        agent: j % 100_000 === 5 ? 'rare-agent' : 'writer',
      });
    }
    await store.tasks.enqueueMany(tasks, 1000);
  }
  console.log(`stored ${total} tasks in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const time = async (label, fn, runs = 5) => {
    const times = [];
    let last;
    for (let i = 0; i < runs; i++) {
      started = performance.now();
      last = await fn();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const n = last.tasks ? last.tasks.length : last.length;
    console.log(
      `${label.padEnd(52)} median ${times[Math.floor(runs / 2)].toFixed(1)} ms (${n} tasks${last.next ? ', more' : ''})`,
    );
    return last;
  };
  const first = await time('first page, no filter', () => store.tasks.pageTasks({ limit: 50 }));
  await time('next page by cursor', () => store.tasks.pageTasks({ limit: 50, after: first.next }));
  await time('status=pending', () => store.tasks.pageTasks({ status: 'pending', limit: 50 }));
  await time('status=failed (none stored: bounded scan)', () =>
    store.tasks.pageTasks({ status: 'failed', limit: 50 }),
  );
  await time('agent=rare-agent (1 in 100,000)', () =>
    store.tasks.pageTasks({ agent: 'rare-agent', limit: 50 }),
  );
  await time('text=invoice (1 in 250,000)', () =>
    store.tasks.pageTasks({ text: 'invoice', limit: 50 }),
  );
  await time('text=routine job 12 (common)', () =>
    store.tasks.pageTasks({ text: 'routine job 12', limit: 50 }),
  );
  await time('page from the middle (cursor)', () =>
    store.tasks.pageTasks({ limit: 50, after: `s:${Math.floor(total / 2)}` }),
  );
  await time('list() with offset to the middle (for contrast)', () =>
    store.tasks.list({ limit: 50, offset: Math.floor(total / 2) }),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
