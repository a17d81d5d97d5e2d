#!/usr/bin/env node
// What the metrics feature costs the task engine, and what a scrape costs. After `npm run build`:
//   node bench/metrics-cost.mjs [--tasks 50000] [--runs 6] [--store-ops 10000] [--scrape 1000000]
//     [--scrape-states pending,completed] [--scrapes 7] [--scrape-gap-ms 200]
// The unbatched burn-down of bench/run.mjs (SQLite, a no-op agent, one task per claim) in three
// set-ups, in rotation so drift on a shared machine falls on all three:
//   bare      no metrics(), and the store's counting triggers dropped (since migration 0012 only
//             the delete trigger is left, which a burn-down never fires: bare and counters run the
//             same statements, so their difference is this machine's noise)
//   counters  no metrics(), the store as it ships (the counters behind TaskStore.stats())
//   metrics   metrics() and the counters: the whole feature
// Each gives tasks/s and CPU time per task (process.cpuUsage: every thread, the checkpoint worker
// too), the steadier figure on a loaded machine, split by thread on Linux (/proc schedstat): the
// main thread, where the task path and the metrics' handlers run; the threads started with the
// host (the store's checkpoint worker, which checkpoints every 50 ms while the WAL grows, so its
// share per task grows with the run's wall time: a run slowed by other processes pays more of
// it); and the threads that were there before (V8's helpers, parallel GC among them, and
// libuv's pool). Then the counters alone at the store: CPU per
// complete-and-claim transaction with and without them (--store-ops tasks, alternating, the
// SqliteTaskStore driven directly). Then a full scrape (registry render, store figures read
// fresh) with --scrape tasks stored, and `TaskStore.stats()` alone: once with them all pending (the
// queue itself a million deep), once all completed (--scrape-states, default pending,completed).
// The host runs its runner (no-op tasks) meanwhile, so with the tasks pending the queue moves:
// --scrapes scrapes, --scrape-gap-ms apart, each with the tasks completed since the one before.
// The first scrape is reported apart: it is the one that may walk the open tasks' index.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { agent, createHost, TaskStoreToken } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { MetricsRegistryToken, metrics } from '@agentd/plugin-monitor';
import { openDatabase, openSqliteStore, SqliteTaskStore, sqlite } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '6' },
    'store-ops': { type: 'string', default: '10000' },
    scrape: { type: 'string', default: '1000000' },
    'scrape-states': { type: 'string', default: 'pending,completed' },
    scrapes: { type: 'string', default: '7' },
    'scrape-gap-ms': { type: 'string', default: '200' },
  },
});
const N = Number(args.tasks);
const RUNS = Number(args.runs);
const dir = mkdtempSync(join(tmpdir(), 'agentd-metrics-bench-'));
let fileNo = 0;
const freshDb = () => join(dir, `m${fileNo++}.db`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m) => process.stderr.write(`${m}\n`);
/** CPU µs of each of this process's threads so far, by thread id (Linux; empty elsewhere). */
function threadsCpuUs() {
  const out = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const ns = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0];
        out.set(Number(tid), Number(ns) / 1000);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // No /proc: the split is NaN, the total (process.cpuUsage) stands.
  }
  return out;
}

/** CPU µs per thread group between two {@link threadsCpuUs} readings. */
function splitByThread(before, after) {
  const split = { main: Number.NaN, started: 0, others: 0 };
  for (const [tid, us] of after) {
    const spent = us - (before.get(tid) ?? 0);
    if (tid === process.pid) split.main = spent;
    else if (before.has(tid)) split.others += spent;
    else split.started += spent;
  }
  return split;
}

async function seeded(n) {
  const path = freshDb();
  const seed = openSqliteStore({ path });
  for (let i = 0; i < n; i += 10_000) {
    const size = Math.min(10_000, n - i);
    await seed.tasks.enqueueMany(
      Array.from({ length: size }, (_, j) => ({ input: i + j, agent: 'noop' })),
      Date.now(),
    );
  }
  await seed.close();
  return path;
}

/** Drops the triggers that keep task_counts: the store without its counters. */
function dropCounters(db) {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'task_counts%'")
    .pluck()
    .all();
  for (const name of names) db.exec(`DROP TRIGGER "${name}"`);
}

function hostOn(path, withMetrics, runner = { concurrency: 3, batchSize: 1 }, run = () => null) {
  return createHost({
    logger: silentLogger(),
    agents: [agent('noop', run)],
    runner: { pollMs: 1000, ...runner },
    plugins: [sqlite({ path }), withMetrics && metrics({ storeCacheMs: 0 })],
  });
}

const SETUPS = ['bare', 'counters', 'metrics'];

async function burnDown(setup) {
  const path = await seeded(N);
  if (setup === 'bare') {
    const db = new Database(path);
    dropCounters(db);
    db.close();
  }
  const host = hostOn(path, setup === 'metrics');
  let done = 0;
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const cpu0 = process.cpuUsage();
  const threads0 = threadsCpuUs();
  const t0 = performance.now();
  await host.start();
  host.events.on('task.completed', () => {
    if (++done === N) finished();
  });
  await allDone;
  const rate = N / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const { main, started, others } = splitByThread(threads0, threadsCpuUs());
  await host.stop('bench');
  return {
    rate,
    cpu: (cpu.user + cpu.system) / N,
    main: main / N,
    started: started / N,
    others: others / N,
  };
}

const runs = Object.fromEntries(
  SETUPS.map((s) => [s, { rate: [], cpu: [], main: [], started: [], others: [] }]),
);
for (let i = 0; i < RUNS; i++) {
  // Rotate the order too, so no set-up always runs first after the others' files.
  for (let j = 0; j < SETUPS.length; j++) {
    const setup = SETUPS[(i + j) % SETUPS.length];
    const figures = await burnDown(setup);
    for (const [k, v] of Object.entries(figures)) runs[setup][k].push(v);
    const { rate, cpu, main, started, others } = figures;
    log(
      `burn-down ${setup.padEnd(8)}: ${Math.round(rate)} tasks/s, ${cpu.toFixed(1)} µs CPU/task, main thread ${main.toFixed(1)}, threads started with the host ${started.toFixed(1)}, others ${others.toFixed(1)}`,
    );
  }
}
// --runs 0 skips the burn-downs and the store's figures: scrapes only.
if (RUNS > 0) {
  const m = Object.fromEntries(
    SETUPS.map((s) => [
      s,
      Object.fromEntries(Object.entries(runs[s]).map(([k, xs]) => [k, median(xs)])),
    ]),
  );
  const slower = (a, b) => (((m[b].rate - m[a].rate) / m[b].rate) * 100).toFixed(1);
  const more = (a, b, k) => (((m[a][k] - m[b][k]) / m[b][k]) * 100).toFixed(1);
  for (const s of SETUPS) {
    log(
      `median ${s.padEnd(8)}: ${Math.round(m[s].rate)} tasks/s, ${m[s].cpu.toFixed(1)} µs CPU/task, main thread ${m[s].main.toFixed(1)}, threads started with the host ${m[s].started.toFixed(1)}, others ${m[s].others.toFixed(1)}`,
    );
  }
  for (const [what, a, b] of [
    ['whole feature (metrics vs bare)', 'metrics', 'bare'],
    ['counters alone (counters vs bare)', 'counters', 'bare'],
    ['handlers alone (metrics vs counters)', 'metrics', 'counters'],
  ]) {
    log(
      `${what}: ${slower(a, b)} % slower, ${more(a, b, 'cpu')} % more CPU per task, main thread ${more(a, b, 'main')} %`,
    );
  }
}

// The counters at the store, without a host: CPU per complete-and-claim transaction.
const OPS = Number(args['store-ops']);
async function completeAndClaimCpu(withCounters) {
  const db = openDatabase({ path: freshDb() });
  if (!withCounters) dropCounters(db);
  const tasks = new SqliteTaskStore(db);
  await tasks.enqueueMany(
    Array.from({ length: OPS }, (_, i) => ({ input: i, agent: 'noop' })),
    Date.now(),
  );
  const claim = { owner: 'bench', leaseMs: 60_000, now: Date.now(), limit: 1 };
  let [task] = await tasks.claim(claim);
  let ops = 0;
  const cpu0 = process.cpuUsage();
  while (task) {
    claim.now = Date.now();
    [task] = (await tasks.completeAndClaim(task.id, 'bench', null, claim)).claimed;
    ops++;
  }
  const cpu = process.cpuUsage(cpu0);
  db.close();
  return (cpu.user + cpu.system) / ops;
}
if (OPS > 0 && RUNS > 0) {
  const perOp = { without: [], with: [] };
  for (let i = 0; i < RUNS; i++) {
    perOp.without.push(await completeAndClaimCpu(false));
    perOp.with.push(await completeAndClaimCpu(true));
  }
  const [a, b] = [median(perOp.without), median(perOp.with)];
  log(
    `complete-and-claim at the store, CPU µs per transaction: without counters ${a.toFixed(1)} (${perOp.without.map((x) => x.toFixed(1)).join(', ')}), with ${b.toFixed(1)} (${perOp.with.map((x) => x.toFixed(1)).join(', ')}): +${(b - a).toFixed(1)} µs`,
  );
}

const stored = Number(args.scrape);
// The store's figures with the tasks stored waiting (the open tasks' index a million deep) and
// with them all finished (the index empty): a store may count either kind differently.
for (const state of stored > 0 ? args['scrape-states'].split(',') : []) {
  const path = await seeded(stored);
  if (state !== 'pending') {
    // One statement: the counting triggers follow it as they follow the store's own writes.
    const db = new Database(path);
    db.prepare('UPDATE tasks SET status = ?, finished_at = run_at').run(state);
    db.close();
  }
  // The unbatched runner (one task per claim) of no-op tasks that resolve at once: the runner lets
  // the event loop turn every 10 ms while it drains (runtime/event-loop-turn.ts), so the scrapes'
  // timers run while the queue moves.
  const host = hostOn(path, true);
  let completed = 0;
  host.events.on('task.completed', () => completed++);
  const started = performance.now();
  await host.start();
  log(
    `host started in ${(performance.now() - started).toFixed(0)} ms, ${completed} tasks completed`,
  );
  const service = host.resolve(MetricsRegistryToken);
  const tasks = host.resolve(TaskStoreToken);
  const scrapes = Number(args.scrapes);
  const gap = Number(args['scrape-gap-ms']);
  const times = [];
  const reads = [];
  const moved = [];
  let figures;
  // The longest the event loop was held while scraping (a walk of the open tasks blocks it).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  for (let i = 0; i < scrapes; i++) {
    const before = completed;
    await new Promise((resolve) => setTimeout(resolve, gap));
    moved.push(completed - before);
    let t0 = performance.now();
    await service.scrape();
    times.push(performance.now() - t0);
    t0 = performance.now();
    figures = await tasks.stats(Date.now());
    reads.push(performance.now() - t0);
  }
  loopDelay.disable();
  const later = (xs) => (xs.length > 1 ? xs.slice(1) : xs);
  const total = (status) => figures.byPriority[status].reduce((x, y) => x + y, 0);
  log(
    `scrape with ${stored.toLocaleString('en')} ${state} tasks stored: first ${times[0].toFixed(1)} ms, then median ${median(later(times)).toFixed(1)} ms, max ${Math.max(...later(times)).toFixed(1)} (${times.map((t) => t.toFixed(0)).join(', ')}); tasks completed before each: ${moved.join(', ')}`,
  );
  log(
    `TaskStore.stats() alone right after, ${state}: median ${median(later(reads)).toFixed(2)} ms, max ${Math.max(...later(reads)).toFixed(1)} (${reads.map((t) => t.toFixed(1)).join(', ')}); reads pending ${total('pending')}, running ${total('running')}, completed ${total('completed')}`,
  );
  log(
    `event loop while scraping, ${state}: delay max ${(loopDelay.max / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms`,
  );
  await host.stop('bench');
}
rmSync(dir, { recursive: true, force: true });
