#!/usr/bin/env node
// Batch enqueue alone, as bench/postgres.mjs's "enqueue in batches of 1000" takes it: agentd's
// PostgreSQL store against graphile-worker 0.16's add_jobs, in shuffled order within each round,
// so drift on a shared machine falls on both. Run after `npm run build`:
//   node bench/postgres-enqueue.mjs [--rounds 6] [--jobs 20000] [--batch 1000] [--baseline path/to/store-postgres/dist/index.js]
// Each measure enqueues --jobs jobs ({ i }) in batches of --batch, one call at a time, into a
// fresh schema (dropped afterwards). Reported per side: median jobs/s, and the median CPU per
// 1,000 jobs of this process (process.cpuUsage) and of the side's own PostgreSQL backends
// (/proc/<pid>/stat, found by application_name; 10 ms ticks, so read over the whole measure),
// the steadier figures when the machine is loaded. With --baseline, that build of
// @agentd/store-postgres (e.g. main's, copied out) runs in the same rotation.
// The server: AGENTD_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as store from '@agentd/store-postgres';
import pg from 'pg';
import { graphile } from './postgres/contenders.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    jobs: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '1000' },
    baseline: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const N = Number(args.jobs);
const BATCH = Number(args.batch);
const URL_ = process.env.AGENTD_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (m) => process.stderr.write(`${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const admin = new pg.Client({ connectionString: URL_ });
await admin.connect();

/** CPU ms so far of the backends named `app` (user + system; 100 ticks a second). */
async function backendCpuMs(app) {
  const { rows } = await admin.query(
    'select pid from pg_stat_activity where application_name = $1',
    [app],
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // a backend that ended in between, or a server on another machine: counts nothing
    }
  }
  return ticks * 10;
}

const agentd = (module) => async (url, schema) => {
  const opened = await module.openPostgresStore({ url, schema, pool: { max: 10 } });
  const now = Date.now();
  return {
    addBatch: (payloads) =>
      opened.tasks.enqueueMany(
        payloads.map((input) => ({ input, agent: 'noop' })),
        now,
      ),
    close: () => opened.close(),
  };
};

const sides = { agentd: agentd(store), 'graphile-worker': graphile.intake };
if (args.baseline) {
  sides.baseline = agentd(await import(pathToFileURL(resolve(args.baseline)).href));
}
const results = Object.fromEntries(
  Object.keys(sides).map((name) => [name, { rate: [], host: [], server: [] }]),
);

for (let round = 0; round < ROUNDS; round++) {
  const order = Object.keys(sides).sort(() => Math.random() - 0.5);
  for (const name of order) {
    const app = `agentd_bench_${name.replace(/\W/g, '_')}`;
    const schema = `bench_enqueue_${name.replace(/\W/g, '_')}_${process.pid}`;
    await admin.query(`drop schema if exists "${schema}" cascade`);
    const intake = await sides[name](
      `${URL_}${URL_.includes('?') ? '&' : '?'}application_name=${app}`,
      schema,
    );
    try {
      await intake.addBatch([{ warm: true }]); // connections open, statements cached
      const server0 = await backendCpuMs(app);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let from = 0; from < N; from += BATCH) {
        await intake.addBatch(
          Array.from({ length: Math.min(BATCH, N - from) }, (_, k) => ({ i: from + k })),
        );
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const server = await backendCpuMs(app);
      const r = results[name];
      const thousands = N / 1000;
      r.rate.push(N / (ms / 1000));
      r.host.push((cpu.user + cpu.system) / 1000 / thousands);
      r.server.push((server - server0) / thousands);
      log(
        `round ${round + 1}/${ROUNDS} ${name.padEnd(15)} ${Math.round(N / (ms / 1000)).toLocaleString('en')} jobs/s, CPU per 1,000: host ${r.host.at(-1).toFixed(2)} ms, PostgreSQL ${r.server.at(-1).toFixed(1)} ms, load ${loadavg()[0].toFixed(2)}`,
      );
    } finally {
      await intake.close();
      await admin.query(`drop schema if exists "${schema}" cascade`);
    }
  }
}
await admin.end();

const g = median(results['graphile-worker'].rate);
for (const [name, r] of Object.entries(results)) {
  const rate = median(r.rate);
  console.log(
    `${name.padEnd(15)} ${Math.round(rate).toLocaleString('en').padStart(9)} jobs/s (${(rate / g).toFixed(2)}x graphile-worker), CPU per 1,000: host ${median(r.host).toFixed(2)} ms, PostgreSQL ${median(r.server).toFixed(1)} ms`,
  );
}
