// A separate process that drains a shared queue: claims (random batch sizes), checks that no
// other task of a claimed task's session is running, completes (one by one or in bulk) and
// prints what it completed as JSON. Imports the built package: tests run after `npm run build`.
import { openSqliteStore } from '../../dist/index.js';

const [dbPath, owner, startAt] = process.argv.slice(2);
const store = openSqliteStore({ path: dbPath });
const completed = [];
const violations = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Start together: process start-up varies by hundreds of milliseconds on a busy machine, and a
// late worker would find the queue already drained.
await sleep(Math.max(0, Number(startAt) - Date.now()));

for (;;) {
  const tasks = await store.tasks.claim({
    owner,
    leaseMs: 60_000,
    limit: 1 + Math.floor(Math.random() * 4),
    now: Date.now(),
  });
  if (tasks.length === 0) {
    if ((await store.tasks.counts()).pending === 0) break;
    await sleep(1);
    continue;
  }
  for (const task of tasks) {
    if (task.attempts !== 1) violations.push(`${task.id} claimed with attempts ${task.attempts}`);
    if (task.sessionKey !== null) {
      const running = await store.tasks.list({ sessionKey: task.sessionKey, status: 'running' });
      if (running.length !== 1) violations.push(`${running.length} running in ${task.sessionKey}`);
    }
  }
  if (Math.random() < 0.5) {
    const items = tasks.map((task) => ({ id: task.id, result: { by: owner } }));
    const held = await store.tasks.completeMany(items, owner, Date.now());
    if (held !== tasks.length) violations.push(`completeMany held ${held} of ${tasks.length}`);
    completed.push(...tasks.map((task) => task.id));
  } else {
    for (const task of tasks) {
      if (await store.tasks.complete(task.id, owner, { by: owner }, Date.now())) {
        completed.push(task.id);
      } else {
        violations.push(`lost the lease of ${task.id}`);
      }
    }
  }
}
await store.close();
process.stdout.write(JSON.stringify({ owner, completed, violations }));
