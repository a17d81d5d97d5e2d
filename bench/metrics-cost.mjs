#!/usr/bin/env node
// What metrics() costs the task engine, and what a scrape costs. Run after `npm run build`:
//   node bench/metrics-cost.mjs [--tasks 50000] [--runs 6] [--scrape 1000000]
// The unbatched burn-down of bench/run.mjs (SQLite, a no-op agent, one task per claim) with and
// without metrics(), in alternating runs so drift on a shared machine falls on both; then the
// time of a full scrape (registry render, store figures read fresh) with `--scrape` tasks stored
// (pending, so the queue itself is a million deep), and of `TaskStore.stats()` alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agent, createHost, TaskStoreToken } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { MetricsRegistryToken, metrics } from '@agentd/plugin-monitor';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '6' },
    scrape: { type: 'string', default: '1000000' },
  },
});
const N = Number(args.tasks);
const RUNS = Number(args.runs);
const dir = mkdtempSync(join(tmpdir(), 'agentd-metrics-bench-'));
let fileNo = 0;
const freshDb = () => join(dir, `m${fileNo++}.db`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m) => process.stderr.write(`${m}\n`);

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

function hostOn(path, withMetrics, runner = { concurrency: 3, batchSize: 1 }) {
  return createHost({
    logger: silentLogger(),
    agents: [agent('noop', () => null)],
    runner: { pollMs: 1000, ...runner },
    plugins: [sqlite({ path }), withMetrics && metrics({ storeCacheMs: 0 })],
  });
}

async function burnDown(withMetrics) {
  const host = hostOn(await seeded(N), withMetrics);
  let done = 0;
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const t0 = performance.now();
  await host.start();
  host.events.on('task.completed', () => {
    if (++done === N) finished();
  });
  await allDone;
  const rate = N / ((performance.now() - t0) / 1000);
  await host.stop('bench');
  return rate;
}

const rates = { without: [], with: [] };
for (let i = 0; i < RUNS; i++) {
  const withMetrics = i % 2 === 1;
  const rate = await burnDown(withMetrics);
  rates[withMetrics ? 'with' : 'without'].push(rate);
  log(`burn-down ${withMetrics ? 'with   ' : 'without'} metrics: ${Math.round(rate)} tasks/s`);
}
const a = median(rates.without);
const b = median(rates.with);
log(
  `median without ${Math.round(a)}, with ${Math.round(b)} tasks/s: ${(((a - b) / a) * 100).toFixed(1)} % slower`,
);

const stored = Number(args.scrape);
if (stored > 0) {
  const host = hostOn(await seeded(stored), true, false);
  await host.start();
  const service = host.resolve(MetricsRegistryToken);
  const times = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await service.scrape();
    times.push(performance.now() - t0);
  }
  log(
    `scrape with ${stored.toLocaleString('en')} tasks stored: median ${median(times).toFixed(1)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`,
  );
  const tasks = host.resolve(TaskStoreToken);
  const reads = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await tasks.stats(Date.now());
    reads.push(performance.now() - t0);
  }
  log(`TaskStore.stats() alone: median ${median(reads).toFixed(2)} ms`);
  await host.stop('bench');
}
rmSync(dir, { recursive: true, force: true });
