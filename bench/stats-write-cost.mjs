#!/usr/bin/env node
// CPU per no-op complete-and-claim and per enqueue on the SQLite store, the write path that
// task statistics must not slow down. Run after `npm run build`:
//   node bench/stats-write-cost.mjs [--tasks 20000] [--runs 5] [--drop-triggers]
// --drop-triggers removes any task_counts triggers first (to compare against a store without
// counters). Reports process CPU µs per operation (user + system), median of the runs: CPU,
// not wall time, so a loaded machine skews it less.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { openSqliteStore } = await import(process.env.AGENTD_STORE_MODULE ?? '@agentd/store-sqlite');

import Database from 'better-sqlite3';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    'drop-triggers': { type: 'boolean', default: false },
  },
});
const N = Number(args.tasks);
const dir = mkdtempSync(join(tmpdir(), 'agentd-stats-cost-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function once(run) {
  const path = join(dir, `s${run}.db`);
  openSqliteStore({ path }).close();
  if (args['drop-triggers']) {
    const db = new Database(path);
    for (const { name } of db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
      .all()) {
      db.exec(`DROP TRIGGER ${name}`);
    }
    db.close();
  }
  const store = openSqliteStore({ path });
  const now = Date.now();
  let t = cpuUs();
  for (let i = 0; i < N; i++) await store.tasks.enqueue({ input: i, agent: 'noop' }, now);
  const enqueue = (cpuUs() - t) / N;
  const claim = { owner: 'bench', leaseMs: 60_000, now };
  let [task] = await store.tasks.claim(claim);
  t = cpuUs();
  for (let i = 1; i < N; i++) {
    const { claimed } = await store.tasks.completeAndClaim(task.id, 'bench', null, claim);
    task = claimed[0];
  }
  const burn = (cpuUs() - t) / (N - 1);
  const stats = await store.tasks.stats?.(now);
  await store.close();
  return { enqueue, burn, stats };
}

const results = { enqueue: [], burn: [] };
let last;
for (let r = 0; r < Number(args.runs); r++) {
  last = await once(r);
  results.enqueue.push(last.enqueue);
  results.burn.push(last.burn);
}
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    dropTriggers: args['drop-triggers'],
    enqueueCpuUs: +median(results.enqueue).toFixed(1),
    completeAndClaimCpuUs: +median(results.burn).toFixed(1),
    completed: last.stats?.byPriority.completed,
  }),
);
