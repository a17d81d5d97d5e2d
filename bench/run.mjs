#!/usr/bin/env node
// agentd task-engine benchmark. Run with `npm run bench` (builds first). Options:
//   --runs N     repetitions per measurement, median reported (default 5)
//   --tasks N    tasks per burn-down (default 100000)
//   --rss N      tasks for the memory run (default 1000000; 0 skips it)
//   --json FILE  also write the results to FILE
// Everything runs in this process against temp SQLite files (WAL, synchronous=NORMAL),
// with a silent logger and a no-op agent, as the figures in docs/benchmarks.md were taken.
// agentd is measured as a host runs its store (WAL checkpoints from a worker thread); the
// enqueue measures are also given with SQLite's own checkpoints, as the references run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agent, createHost, TaskQueueToken } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker } from 'plainjob';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    tasks: { type: 'string', default: '100000' },
    rss: { type: 'string', default: '1000000' },
    json: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const N = Number(args.tasks);
const RSS_TASKS = Number(args.rss);
const dir = mkdtempSync(join(tmpdir(), 'agentd-bench-'));
let fileNo = 0;
const freshDb = () => join(dir, `b${fileNo++}.db`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const log = (m) => process.stderr.write(`${m}\n`);

async function repeat(name, fn) {
  const values = [];
  for (let i = 0; i < RUNS; i++) {
    values.push(await fn());
    log(`  ${name} run ${i + 1}/${RUNS}: ${Math.round(values.at(-1)).toLocaleString('en')}`);
  }
  return { median: median(values), runs: values.map(Math.round) };
}

// The physical ceiling: one single-row INSERT per write transaction.
function rawWrites() {
  const db = new Database(freshDb());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (payload) VALUES (?)');
  const tx = db.transaction((p) => insert.run(p)).immediate;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) tx(`{"n":${i}}`);
  const rate = N / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

/**
 * A fresh store. With background checkpoints, waits a moment first: the checkpoint worker loads
 * its own copy of the SQLite driver when the store opens, which a running host did long ago, and
 * which would otherwise compete for the CPU with the first timed writes.
 */
async function openStore(backgroundCheckpoints) {
  const store = openSqliteStore({ path: freshDb(), backgroundCheckpoints });
  if (backgroundCheckpoints) await new Promise((resolve) => setTimeout(resolve, 300));
  return store;
}

// `backgroundCheckpoints` as a host's store runs (the sqlite() plugin's default), or SQLite's
// own checkpoints inside commits, as the raw reference above runs.
async function enqueueOneByOne(backgroundCheckpoints) {
  const store = await openStore(backgroundCheckpoints);
  const now = Date.now();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await store.tasks.enqueue({ input: i, agent: 'noop' }, now);
  const rate = N / ((performance.now() - t0) / 1000);
  await store.close();
  return rate;
}

async function enqueueBatch(backgroundCheckpoints) {
  const store = await openStore(backgroundCheckpoints);
  const tasks = Array.from({ length: N }, (_, i) => ({ input: i, agent: 'noop' }));
  const t0 = performance.now();
  await store.tasks.enqueueMany(tasks, Date.now());
  const rate = N / ((performance.now() - t0) / 1000);
  await store.close();
  return rate;
}

/** A real host (store plugin + built-in runner) with a no-op agent. */
async function startHost(path, runner) {
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', () => null)],
    runner: { pollMs: 1000, ...runner },
    plugins: [sqlite({ path })],
  });
  await host.start();
  return host;
}

async function burnDown(runner) {
  const path = freshDb();
  const seed = openSqliteStore({ path });
  await seed.tasks.enqueueMany(
    Array.from({ length: N }, (_, i) => ({ input: i, agent: 'noop' })),
    Date.now(),
  );
  await seed.close();
  let done = 0;
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const t0 = performance.now();
  const host = await startHost(path, runner);
  host.events.on('task.completed', () => {
    if (++done === N) finished();
  });
  await allDone;
  const rate = N / ((performance.now() - t0) / 1000);
  await host.stop('bench');
  return rate;
}

async function latency() {
  const samples = [];
  let started;
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('probe', () => void started(performance.now()))],
    runner: { pollMs: 60_000 },
    plugins: [sqlite({ path: freshDb() })],
  });
  await host.start();
  const queue = host.resolve(TaskQueueToken);
  for (let i = 0; i < 2200; i++) {
    const ran = new Promise((r) => (started = r));
    const completed = host.events.next('task.completed');
    const t0 = performance.now();
    await queue.enqueue({ input: i });
    const t1 = await ran;
    await completed;
    if (i >= 200) samples.push(t1 - t0); // the first 200 warm up the JIT and the page cache
  }
  await host.stop('bench');
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function plainjobQueue() {
  const db = new Database(freshDb());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return defineQueue({ connection: better(db), logger: silent });
}

// plainjob's enqueue, one job per call and all in one call: the same-run references for the
// issue's enqueue targets, which were set against plainjob and raw writes on a faster day.
function plainjobAddOne() {
  const queue = plainjobQueue();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) queue.add('noop', i);
  const rate = N / ((performance.now() - t0) / 1000);
  queue.close();
  return rate;
}

function plainjobAddMany() {
  const queue = plainjobQueue();
  const items = Array.from({ length: N }, (_, i) => i);
  const t0 = performance.now();
  queue.addMany('noop', items);
  const rate = N / ((performance.now() - t0) / 1000);
  queue.close();
  return rate;
}

async function plainjobBurnDown() {
  const queue = plainjobQueue();
  queue.addMany(
    'noop',
    Array.from({ length: N }, (_, i) => i),
  );
  let done = 0;
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const worker = defineWorker('noop', () => {}, {
    queue,
    logger: silent,
    pollIntervall: 1000,
    onCompleted: () => {
      if (++done === N) finished();
    },
  });
  const t0 = performance.now();
  void worker.start();
  await allDone;
  const rate = N / ((performance.now() - t0) / 1000);
  await worker.stop();
  queue.close();
  return rate;
}

/**
 * What the host keeps: a full GC, a quiet moment, and another GC before each reading. Without
 * the pause a reading catches V8's young generation mid-resize (pages it has freed but not yet
 * handed back), which swings RSS by up to 60 MB on a 2-core VM whatever the host keeps. The
 * unsettled RSS is sampled too, and its peak reported.
 */
async function settledMemory() {
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 250));
  globalThis.gc?.();
  return process.memoryUsage();
}

async function memoryGrowth() {
  const path = freshDb();
  const host = await startHost(path, {});
  const queue = host.resolve(TaskQueueToken);
  // Small chunks, as a live host sees work: the figure is what the host keeps, not the size of
  // one giant enqueue array.
  const chunk = 5_000;
  let done = 0;
  host.events.on('task.completed', () => void done++);
  let baseline;
  let peakRss = 0;
  const settledRss = [];
  for (let sent = 0; sent < RSS_TASKS; sent += chunk) {
    await queue.enqueueMany(Array.from({ length: chunk }, (_, i) => ({ input: sent + i })));
    while (done < sent + chunk) await new Promise((r) => setTimeout(r, 5));
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if ((sent + chunk) % 100_000 === 0) {
      const now = await settledMemory();
      if (sent + chunk === 100_000) baseline = now; // after warm-up: JIT, caches, pools
      settledRss.push(Math.round(now.rss / 2 ** 20));
      log(
        `  memory run: ${done.toLocaleString('en')} tasks, rss ${(now.rss / 2 ** 20).toFixed(1)} MB settled, ${(peakRss / 2 ** 20).toFixed(1)} MB peak so far`,
      );
    }
  }
  const end = await settledMemory();
  await host.stop('bench');
  const mb = (n) => n / 2 ** 20;
  return {
    tasks: RSS_TASKS,
    baselineRssMb: mb(baseline.rss),
    endRssMb: mb(end.rss),
    growthMb: mb(end.rss - baseline.rss),
    peakRssMb: mb(peakRss),
    settledRssMbEvery100k: settledRss,
    heapUsedGrowthMb: mb(end.heapUsed - baseline.heapUsed),
  };
}

const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
log(
  `agentd bench: ${N.toLocaleString('en')} tasks, median of ${RUNS} runs, on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`,
);

const results = { machine, tasks: N, runs: RUNS };
log('raw better-sqlite3 single-row write transactions/s');
results.rawWriteTx = await repeat('raw', rawWrites);
log('agentd enqueue one at a time, tasks/s (store as a host runs it: background checkpoints)');
results.enqueueOne = await repeat('enqueue', () => enqueueOneByOne(true));
log('agentd enqueue one at a time, tasks/s (SQLite checkpointing inside commits, as raw does)');
results.enqueueOneInlineCheckpoints = await repeat('enqueue, inline checkpoints', () =>
  enqueueOneByOne(false),
);
log('agentd enqueueMany in one call, tasks/s (background checkpoints)');
results.enqueueBatch = await repeat('enqueueMany', () => enqueueBatch(true));
log('agentd enqueueMany in one call, tasks/s (checkpoints inside commits)');
results.enqueueBatchInlineCheckpoints = await repeat('enqueueMany, inline checkpoints', () =>
  enqueueBatch(false),
);
log(
  'agentd burn-down, unbatched (one task per claim; a completion and the next claim share a transaction), tasks/s',
);
results.burnDown = await repeat('burn-down', () => burnDown({ concurrency: 3, batchSize: 1 }));
log('agentd burn-down, batched claims and completions (batchSize 100), tasks/s');
results.burnDownBatched = await repeat('burn-down batched', () =>
  burnDown({ concurrency: 100, batchSize: 100 }),
);
log('plainjob burn-down on the same machine, jobs/s');
results.plainjob = await repeat('plainjob', plainjobBurnDown);
log('plainjob add one at a time, jobs/s');
results.plainjobAddOne = await repeat('plainjob add', plainjobAddOne);
log('plainjob addMany in one call, jobs/s');
results.plainjobAddMany = await repeat('plainjob addMany', plainjobAddMany);
log('enqueue-to-start latency (in-process, idle runner)');
results.latencyMs = await latency();
if (RSS_TASKS > 0) {
  log(`memory over a ${RSS_TASKS.toLocaleString('en')}-task run`);
  results.memory = await memoryGrowth();
}
results.ratios = {
  burnDownVsRawWriteTx: results.burnDown.median / results.rawWriteTx.median,
  burnDownVsPlainjob: results.burnDown.median / results.plainjob.median,
  batchedVsPlainjob: results.burnDownBatched.median / results.plainjob.median,
  enqueueOneVsRawWriteTx: results.enqueueOne.median / results.rawWriteTx.median,
  enqueueOneInlineCheckpointsVsRawWriteTx:
    results.enqueueOneInlineCheckpoints.median / results.rawWriteTx.median,
  enqueueOneVsPlainjobAdd: results.enqueueOne.median / results.plainjobAddOne.median,
  enqueueManyVsPlainjobAddMany: results.enqueueBatch.median / results.plainjobAddMany.median,
  enqueueManyInlineCheckpointsVsPlainjobAddMany:
    results.enqueueBatchInlineCheckpoints.median / results.plainjobAddMany.median,
};
// The issue's targets were set against references it measured on this VM on one day (raw write
// transactions 62,000/s, plainjob 10,300 jobs/s, plainjob addMany 296,000/s). The VM's speed
// varies from day to day, so each target is also given scaled by the same reference measured
// in this run: met there means agentd keeps the ratio to the reference that the target asks for.
const ISSUE_REFERENCES = { rawWriteTx: 62_000, plainjob: 10_300, plainjobAddMany: 296_000 };
const scaled = (target, reference) =>
  (target * results[reference].median) / ISSUE_REFERENCES[reference];
results.targets = [
  ['enqueueOne', 40_000, 'rawWriteTx'],
  ['enqueueBatch', 300_000, 'plainjobAddMany'],
  ['burnDown', 20_000, 'plainjob'],
  ['burnDownBatched', 50_000, 'plainjob'],
].map(([measure, target, reference]) => ({
  measure,
  value: results[measure].median,
  target,
  reference,
  scaledTarget: scaled(target, reference),
  met: results[measure].median >= target,
  metScaled: results[measure].median >= scaled(target, reference),
}));
rmSync(dir, { recursive: true, force: true });

const fmt = (n) => Math.round(n).toLocaleString('en');
const target = (measure, words) => {
  const t = results.targets.find((x) => x.measure === measure);
  return `${words} ${fmt(t.target)} (${t.met ? 'met' : 'not met'}); scaled to this run's ${t.reference}: ${fmt(t.scaledTarget)} (${t.metScaled ? 'met' : 'not met'})`;
};
const rows = [
  [
    'raw better-sqlite3 write transactions/s (ceiling)',
    fmt(results.rawWriteTx.median),
    'issue day: 62,000',
  ],
  ['enqueue one at a time, tasks/s', fmt(results.enqueueOne.median), target('enqueueOne', '>=')],
  [
    'enqueue one, checkpoints inside commits, tasks/s',
    fmt(results.enqueueOneInlineCheckpoints.median),
    '',
  ],
  [
    'enqueueMany in one call, tasks/s',
    fmt(results.enqueueBatch.median),
    target('enqueueBatch', '>='),
  ],
  [
    'enqueueMany, checkpoints inside commits, tasks/s',
    fmt(results.enqueueBatchInlineCheckpoints.median),
    '',
  ],
  ['burn-down unbatched, tasks/s', fmt(results.burnDown.median), target('burnDown', '>=')],
  [
    'burn-down batched, tasks/s',
    fmt(results.burnDownBatched.median),
    target('burnDownBatched', 'aim'),
  ],
  ['plainjob burn-down, jobs/s', fmt(results.plainjob.median), 'issue day: 10,300'],
  ['plainjob add one at a time, jobs/s', fmt(results.plainjobAddOne.median), ''],
  [
    'plainjob addMany in one call, jobs/s',
    fmt(results.plainjobAddMany.median),
    'issue day: 296,000',
  ],
  ['unbatched / raw write tx', results.ratios.burnDownVsRawWriteTx.toFixed(2), ''],
  ['unbatched / plainjob', results.ratios.burnDownVsPlainjob.toFixed(2), '>= 1.94 asked'],
  ['batched / plainjob', results.ratios.batchedVsPlainjob.toFixed(2), 'aim 4.85'],
  ['enqueue one / raw write tx', results.ratios.enqueueOneVsRawWriteTx.toFixed(2), '>= 0.65 asked'],
  [
    'enqueue one, checkpoints inside commits / raw',
    results.ratios.enqueueOneInlineCheckpointsVsRawWriteTx.toFixed(2),
    '',
  ],
  ['enqueue one / plainjob add', results.ratios.enqueueOneVsPlainjobAdd.toFixed(2), ''],
  [
    'enqueueMany / plainjob addMany',
    results.ratios.enqueueManyVsPlainjobAddMany.toFixed(2),
    '>= 1.01 asked',
  ],
  [
    'enqueueMany, checkpoints inside commits / addMany',
    results.ratios.enqueueManyInlineCheckpointsVsPlainjobAddMany.toFixed(2),
    '',
  ],
  ['enqueue-to-start p50, ms', results.latencyMs.p50.toFixed(3), '<= 1'],
  ['enqueue-to-start p99, ms', results.latencyMs.p99.toFixed(3), '<= 5'],
  ...(results.memory
    ? [
        [
          `RSS growth over ${fmt(results.memory.tasks)} tasks, MB`,
          results.memory.growthMb.toFixed(1),
          '< 20',
        ],
        ['peak RSS during that run (unsettled), MB', results.memory.peakRssMb.toFixed(1), ''],
      ]
    : []),
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`\n${'measure'.padEnd(w0)}  ${'median'.padStart(w1)}  target`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
console.log(`\n${JSON.stringify(results, null, 2)}`);
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
