#!/usr/bin/env node
// agentd's PostgreSQL store side by side with graphile-worker 0.16 and pg-boss 10, in one run,
// against one server with its durable defaults. `npm run bench:postgres` (builds first). Options:
//   --jobs N         no-op jobs per measure (default 20000)
//   --runs N         repetitions; the contenders take turns within each, medians reported (default 3)
//   --batch N        jobs per batch-enqueue call (default 1000)
//   --callers N      concurrent callers for the concurrent-enqueue measure (default 100)
//   --cap-seconds N  a measure stops after this long and reports the rate reached (default 30)
//   --samples N      add-to-start latency samples per contender (default 500, after 50 warm-up)
//   --only A,B       only these contenders (agentd, graphile-worker, pg-boss), for a quick look
//   --json FILE      also write the results to FILE
// The server: AGENTD_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test. Without a
// reachable server the bench says so and exits 0. Each contender works in a schema of its own,
// dropped afterwards.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CONTENDERS as ALL_CONTENDERS } from './postgres/contenders.mjs';
import { addToStart, drainWithHosts } from './postgres/processes.mjs';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    callers: { type: 'string', default: '100' },
    'cap-seconds': { type: 'string', default: '30' },
    samples: { type: 'string', default: '500' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const CONTENDERS = args.only
  ? ALL_CONTENDERS.filter((c) => args.only.split(',').includes(c.name))
  : ALL_CONTENDERS;
const N = Number(args.jobs);
const RUNS = Number(args.runs);
const BATCH = Number(args.batch);
const CALLERS = Number(args.callers);
const CAP_MS = Number(args['cap-seconds']) * 1000;
const SAMPLES = Number(args.samples);
const URL_ = process.env.AGENTD_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (m) => process.stderr.write(`${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (n) => (n === undefined ? '–' : Math.round(n).toLocaleString('en'));

// ---- the server -------------------------------------------------------------------------

const admin = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 2000 });
try {
  await admin.connect();
} catch (error) {
  log(
    `skipping the PostgreSQL bench: no PostgreSQL at ${URL_.replace(/\/\/[^@]*@/, '//')} (${error.message}); set AGENTD_BENCH_POSTGRES_URL to a server where this user may create schemas`,
  );
  process.exit(0);
}
const setting = async (name) => (await admin.query(`show ${name}`)).rows[0][name];
const machine = {
  nproc: availableParallelism(),
  cpu: cpus()[0]?.model,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: await setting('server_version'),
  synchronous_commit: await setting('synchronous_commit'),
  fsync: await setting('fsync'),
  wal_sync_method: await setting('wal_sync_method'),
  commit_delay: await setting('commit_delay'),
  shared_buffers: await setting('shared_buffers'),
  loadAverageAtStart: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
};

async function withSchema(tag, fn) {
  const schema = `bench_${tag}_${randomBytes(4).toString('hex')}`;
  try {
    return await fn(schema);
  } finally {
    await admin.query(`drop schema if exists "${schema}" cascade`);
  }
}

// ---- the physical reference: single-row insert transactions --------------------------------

async function rawInserts(connections) {
  return withSchema('raw', async (schema) => {
    await admin.query(`create schema "${schema}"`);
    await admin.query(`create table "${schema}".t (id bigserial primary key, payload text)`);
    const pool = new pg.Pool({ connectionString: URL_, max: connections });
    let done = 0;
    const until = performance.now() + Math.min(CAP_MS, 5000);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          await pool.query(`insert into "${schema}".t (payload) values ($1)`, [`{"n":${done}}`]);
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - t0) / 1000);
    await pool.end();
    return rate;
  });
}

// ---- the measures, one contender at a time ------------------------------------------------

/** Runs `count` jobs' worth of `step` from `callers` loops, stopping at the cap: jobs/s. */
async function timedCallers(callers, count, step) {
  let next = 0;
  let done = 0;
  const until = performance.now() + CAP_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < count && performance.now() < until) {
        const from = next;
        next += step.size;
        // Not `done += await ...`: that reads `done` before the await and loses other callers' counts.
        const added = await step.run(from);
        done += added;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

const payloads = (from, size) =>
  Array.from({ length: Math.min(size, N - from) }, (_, k) => ({ i: from + k }));

const addOne = (intake) => ({
  size: 1,
  run: async (i) => {
    await intake.add({ i });
    return 1;
  },
});

const MEASURES = {
  enqueueOne: (intake) => timedCallers(1, N, addOne(intake)),
  enqueueBatch: (intake) =>
    timedCallers(1, N, {
      size: BATCH,
      run: async (from) => {
        const batch = payloads(from, BATCH);
        await intake.addBatch(batch);
        return batch.length;
      },
    }),
  enqueueConcurrent: (intake) => timedCallers(CALLERS, N, addOne(intake)),
};

async function seed(intake) {
  for (let from = 0; from < N; from += BATCH) await intake.addBatch(payloads(from, BATCH));
}

async function burnDown(contender, batched) {
  if (batched && contender.name === 'graphile-worker') return undefined; // no batched mode in 0.16
  return withSchema(contender.name.replace(/\W/g, ''), async (schema) => {
    const intake = await contender.intake(URL_, schema);
    await seed(intake);
    await intake.close();
    const { done, ms, capped } = await contender.burnDown(URL_, schema, {
      n: N,
      // Batched, agentd claims and completes up to 500 per statement, as pg-boss fetches 500 per
      // poll in each of its 10 workers (up to 5,000 jobs in hand); agentd holds two such batches
      // (concurrency 1,000): one runs while the other's completions are written, where with one
      // the host and the database wait for each other in turn (docs/benchmarks.md, sixth pass).
      // One job per claim, everyone runs 10 at a time.
      concurrency: batched && contender.name === 'agentd' ? 1000 : 10,
      batched,
      limitMs: CAP_MS,
    });
    if (capped) log(`    (${contender.name} capped at ${CAP_MS / 1000} s: ${done} of ${N} jobs)`);
    return done / (ms / 1000);
  });
}

async function intakeMeasure(contender, measure) {
  return withSchema(contender.name.replace(/\W/g, ''), async (schema) => {
    const intake = await contender.intake(URL_, schema);
    try {
      return await MEASURES[measure](intake);
    } finally {
      await intake.close();
    }
  });
}

// ---- the run ------------------------------------------------------------------------------

log(
  `agentd PostgreSQL bench: ${fmt(N)} jobs, ${RUNS} runs (contenders alternate within each), PostgreSQL ${machine.postgres}, synchronous_commit=${machine.synchronous_commit}, ${machine.nproc} × ${machine.cpu}, load ${machine.loadAverageAtStart}`,
);
const FIGURES = [
  ['enqueueOne', 'enqueue one at a time, jobs/s', (c) => intakeMeasure(c, 'enqueueOne')],
  [
    'enqueueBatch',
    `enqueue in batches of ${BATCH}, jobs/s`,
    (c) => intakeMeasure(c, 'enqueueBatch'),
  ],
  [
    'enqueueConcurrent',
    `enqueue from ${CALLERS} concurrent callers, jobs/s`,
    (c) => intakeMeasure(c, 'enqueueConcurrent'),
  ],
  ['burnDown', 'burn-down, one job per claim, concurrency 10, jobs/s', (c) => burnDown(c, false)],
  [
    'burnDownBatched',
    'burn-down, batched claims and completions, jobs/s',
    (c) => burnDown(c, true),
  ],
];
const runs = {}; // runs[figure][contender] = [values]
const samples = {}; // add-to-start latencies by contender, over all runs
const rawRuns = { one: [], eight: [] };
const hostRuns = { one: [], three: [] };

for (let r = 0; r < RUNS; r++) {
  log(`run ${r + 1}/${RUNS}`);
  rawRuns.one.push(await rawInserts(1));
  rawRuns.eight.push(await rawInserts(8));
  log(
    `  raw insert transactions/s: ${fmt(rawRuns.one.at(-1))} on 1, ${fmt(rawRuns.eight.at(-1))} on 8 connections`,
  );
  // Who goes first rotates from run to run, so no contender always meets the warmest server.
  const order = CONTENDERS.map((_, k) => CONTENDERS[(k + r) % CONTENDERS.length]);
  for (const [key, title, measure] of FIGURES) {
    for (const contender of order) {
      const value = await measure(contender);
      runs[key] ??= {};
      runs[key][contender.name] ??= [];
      runs[key][contender.name].push(value);
      log(`  ${title}: ${contender.name} ${fmt(value)}`);
    }
  }
  for (const contender of order) {
    const got = await withSchema('lat', (schema) =>
      addToStart(contender, URL_, schema, { samples: SAMPLES, warmup: 50, capMs: CAP_MS }),
    );
    samples[contender.name] = [...(samples[contender.name] ?? []), ...got];
    log(
      `  add-to-start: ${contender.name} p50 ${percentile(got, 50).toFixed(2)} ms over ${got.length}`,
    );
  }
  for (const hosts of [1, 3]) {
    const drained = await withSchema('hosts', (schema) =>
      drainWithHosts(URL_, schema, { hosts, n: N, capMs: CAP_MS }),
    );
    hostRuns[hosts === 1 ? 'one' : 'three'].push(drained);
    log(
      `  ${hosts} host process(es) draining ${fmt(N)}: ${fmt(drained.rate)} jobs/s, shares ${drained.shares.map((s) => `${(s * 100).toFixed(1)} %`).join(' / ')}`,
    );
  }
}
machine.loadAverageAtEnd = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
await admin.end();

function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

// ---- the table ----------------------------------------------------------------------------

const results = { machine, jobs: N, runs: RUNS, batch: BATCH, callers: CALLERS, figures: {} };
const med = (key, name) => {
  const xs = runs[key]?.[name]?.filter((x) => x !== undefined) ?? [];
  return xs.length ? median(xs) : undefined;
};
for (const [key, title] of FIGURES) {
  results.figures[key] = { title, runs: runs[key], medians: {} };
  for (const c of CONTENDERS) results.figures[key].medians[c.name] = med(key, c.name);
}
results.raw = {
  oneConnection: median(rawRuns.one),
  eightConnections: median(rawRuns.eight),
  runs: rawRuns,
};
results.addToStartMs = Object.fromEntries(
  Object.entries(samples).map(([name, xs]) => [
    name,
    { p50: percentile(xs, 50), p99: percentile(xs, 99), samples: xs.length },
  ]),
);
const oneRate = median(hostRuns.one.map((h) => h.rate));
const threeRate = median(hostRuns.three.map((h) => h.rate));
const minShare = median(hostRuns.three.map((h) => Math.min(...h.shares)));
results.hosts = { one: oneRate, three: threeRate, minShareOfThree: minShare, runs: hostRuns };

const a = (key) => med(key, 'agentd');
const g = (key) => med(key, 'graphile-worker');
const ratio = (x, y) => (x === undefined || y === undefined ? undefined : x / y);
const agentdP50 = results.addToStartMs.agentd?.p50;
results.targets = [
  ['burn-down one per claim ÷ graphile-worker', ratio(a('burnDown'), g('burnDown')), 2],
  ['burn-down batched ÷ graphile-worker burn-down', ratio(a('burnDownBatched'), g('burnDown')), 10],
  ['batch enqueue ÷ graphile-worker add_jobs', ratio(a('enqueueBatch'), g('enqueueBatch')), 1.5],
  [
    `${CALLERS} concurrent callers ÷ graphile-worker addJob`,
    ratio(a('enqueueConcurrent'), g('enqueueConcurrent')),
    3,
  ],
  ['three hosts ÷ one host', ratio(threeRate, oneRate), 1],
  ['smallest share of the three hosts', minShare, 0.2],
].map(([what, value, atLeast]) => ({ what, value, atLeast, met: value >= atLeast }));
results.targets.push({
  what: 'add-to-start p50, ms (agentd, another process)',
  value: agentdP50,
  atMost: 5,
  met: agentdP50 <= 5,
});

const rows = [
  ['measure (median)', ...CONTENDERS.map((c) => c.name), 'agentd ÷ graphile', 'agentd ÷ pg-boss'],
];
for (const [key, title] of FIGURES) {
  const m = results.figures[key].medians;
  const r1 = ratio(m.agentd, m['graphile-worker']);
  const r2 = ratio(m.agentd, m['pg-boss']);
  rows.push([
    title,
    ...CONTENDERS.map((c) => fmt(m[c.name])),
    r1?.toFixed(2) ?? '–',
    r2?.toFixed(2) ?? '–',
  ]);
}
for (const p of [50, 99]) {
  rows.push([
    `add-to-start p${p}, ms (enqueued by another process)`,
    ...CONTENDERS.map((c) => results.addToStartMs[c.name]?.[`p${p}`]?.toFixed(2) ?? '–'),
    '',
    '',
  ]);
}
rows.push([
  'raw single-row insert transactions/s, 1 / 8 connections',
  `${fmt(results.raw.oneConnection)} / ${fmt(results.raw.eightConnections)}`,
  '',
  '',
  '',
  '',
]);
rows.push(['agentd, 1 host process draining, jobs/s', fmt(oneRate), '', '', '', '']);
rows.push(['agentd, 3 host processes draining, jobs/s', fmt(threeRate), '', '', '', '']);
const widths = rows[0].map((_, k) => Math.max(...rows.map((row) => String(row[k]).length)));
console.log('');
for (const row of rows) {
  console.log(
    row
      .map((cell, k) =>
        k === 0 ? String(cell).padEnd(widths[k]) : String(cell).padStart(widths[k]),
      )
      .join('  '),
  );
}
console.log('\ntargets (ratios within this run):');
for (const t of results.targets) {
  const bound = t.atMost !== undefined ? `<= ${t.atMost}` : `>= ${t.atLeast}`;
  console.log(
    `  ${t.what}: ${t.value?.toFixed(2) ?? '–'} (${bound}: ${t.met ? 'met' : 'NOT met'})`,
  );
}
console.log(
  `\nmachine: ${machine.nproc} × ${machine.cpu}, PostgreSQL ${machine.postgres}, synchronous_commit=${machine.synchronous_commit}, load ${machine.loadAverageAtStart} → ${machine.loadAverageAtEnd}. On a shared or busy machine re-take these figures on a quiet one; compare ratios, not absolute rates.`,
);
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
