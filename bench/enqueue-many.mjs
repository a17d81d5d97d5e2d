#!/usr/bin/env node
// enqueueMany against plainjob's addMany (issue 19), in alternating runs in one process, so drift
// on a shared machine falls on both. Run after `npm run build`:
//   node bench/enqueue-many.mjs [--tasks 100000] [--runs 7] [--baseline path/to/store-sqlite/dist/index.js]
// Each run enqueues --tasks tasks ({ input: i, agent: 'noop' }) in one call into a fresh file:
// agentd as a host's store runs (background checkpoints, the worker given 300 ms to start), as
// `bench/run.mjs` measures it, and plainjob on a fresh WAL file. Reported per side: median
// tasks/s, and median CPU time per task (process.cpuUsage: every thread of the process, so the
// checkpoint worker too), the steadier figure when the machine is loaded. With --baseline, the
// given build of @agentd/store-sqlite (e.g. main's, copied out) runs in the same rotation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { better, defineQueue } from 'plainjob';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '7' },
    baseline: { type: 'string' },
  },
});
const N = Number(args.tasks);
const RUNS = Number(args.runs);
const dir = mkdtempSync(join(tmpdir(), 'agentd-enqueue-bench-'));
let fileNo = 0;
const freshDb = () => join(dir, `e${fileNo++}.db`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m) => process.stderr.write(`${m}\n`);
const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** Runs `fn` and returns [tasks/s, CPU µs per task]. */
async function measured(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return [N / (ms / 1000), (cpu.user + cpu.system) / N];
}

const agentd = (open) => async () => {
  const store = open({ path: freshDb(), backgroundCheckpoints: true });
  await new Promise((r) => setTimeout(r, 300));
  const tasks = Array.from({ length: N }, (_, i) => ({ input: i, agent: 'noop' }));
  const result = await measured(() => store.tasks.enqueueMany(tasks, Date.now()));
  await store.close();
  return result;
};

async function plainjob() {
  const db = new Database(freshDb());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const queue = defineQueue({ connection: better(db), logger: silent });
  const items = Array.from({ length: N }, (_, i) => i);
  const result = await measured(() => queue.addMany('noop', items));
  queue.close();
  return result;
}

const sides = { agentd: agentd(openSqliteStore), plainjob };
if (args.baseline) {
  const baseline = await import(pathToFileURL(resolve(args.baseline)).href);
  sides.baseline = agentd(baseline.openSqliteStore);
}
const runs = Object.fromEntries(Object.keys(sides).map((name) => [name, { rate: [], cpu: [] }]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, run] of Object.entries(sides)) {
    const [rate, cpu] = await run();
    runs[name].rate.push(rate);
    runs[name].cpu.push(cpu);
    log(
      `run ${i + 1}/${RUNS} ${name.padEnd(8)} ${Math.round(rate)} tasks/s, ${cpu.toFixed(2)} µs CPU/task`,
    );
  }
}
const summary = Object.fromEntries(
  Object.entries(runs).map(([name, r]) => [name, { rate: median(r.rate), cpu: median(r.cpu) }]),
);
for (const [name, s] of Object.entries(summary)) {
  log(`median ${name.padEnd(8)} ${Math.round(s.rate)} tasks/s, ${s.cpu.toFixed(2)} µs CPU/task`);
}
const ratio = (a, b) =>
  `${(summary[a].rate / summary[b].rate).toFixed(2)} by rate, ${(summary[b].cpu / summary[a].cpu).toFixed(2)} by CPU`;
log(`agentd ÷ plainjob: ${ratio('agentd', 'plainjob')}`);
if (summary.baseline) log(`baseline ÷ plainjob: ${ratio('baseline', 'plainjob')}`);
rmSync(dir, { recursive: true, force: true });
