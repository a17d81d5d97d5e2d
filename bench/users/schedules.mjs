#!/usr/bin/env node
// Schedules bench (`npm run bench:schedules`, run with --expose-gc): SCHEDULES schedules (cron with
// a seconds field, spread evenly over the minute, each firing once a minute) on a host with the
// SQLite store and a no-op agent; over WINDOW seconds: how late fires are (p50/p99, the
// 'schedule.fired' event against the slot), the process CPU per fire (each fire enqueues a
// durable task, which the runner then runs), and the heap each schedule holds. Same-run
// reference: a hand-written croner loop with the same patterns, each fire one SQLite INSERT.
// Options:
//   --runs N        alternating runs per contender, median reported (default 3)
//   --schedules N   schedules (default 10000)
//   --window S      seconds measured per run (default 15)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { sqlite } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { Cron } from 'croner';
import { alternate, line, med, percentile, printMachine, sleep, tempDir } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    schedules: { type: 'string', default: '10000' },
    window: { type: 'string', default: '15' },
  },
});
const RUNS = Number(args.runs);
const SCHEDULES = Number(args.schedules);
const WINDOW = Number(args.window);
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
const dir = tempDir('agentd-bench-schedules-');
let fileNo = 0;
const pattern = (i) => `${i % 60} * * * * *`;
const heap = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
};

/** Counts fires and CPU over the window, starting at the next whole second. */
async function measure(onFire) {
  const lateness = [];
  let counting = false;
  onFire((slot) => {
    if (counting) lateness.push(Date.now() - slot);
  });
  await sleep(2000 + (1000 - (Date.now() % 1000))); // warm up, then align to a second
  counting = true;
  const cpu0 = process.cpuUsage();
  await sleep(WINDOW * 1000);
  counting = false;
  const cpu = process.cpuUsage(cpu0);
  return {
    fires: lateness.length,
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
    cpuMicrosPerFire: Math.round((cpu.user + cpu.system) / lateness.length),
  };
}

async function agentdRun() {
  const before = await heap();
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', () => null)],
    plugins: [sqlite({ path: join(dir, `a${fileNo++}.db`) })],
    schedules: Array.from({ length: SCHEDULES }, (_, i) => ({
      name: `s${i}`,
      cron: pattern(i),
      timezone: 'UTC',
      task: { agent: 'noop', input: i },
    })),
  });
  await host.start();
  const bytesPerSchedule = Math.round(((await heap()) - before) / SCHEDULES);
  try {
    const r = await measure((fn) => host.events.on('schedule.fired', (e) => fn(e.slot)));
    return { ...r, bytesPerSchedule };
  } finally {
    await host.stop('bench');
  }
}

async function cronerRun() {
  const before = await heap();
  const db = new Database(join(dir, `c${fileNo++}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE fires (schedule TEXT NOT NULL, slot INTEGER NOT NULL, PRIMARY KEY (schedule, slot))',
  );
  const insert = db.prepare('INSERT OR IGNORE INTO fires (schedule, slot) VALUES (?, ?)');
  let listener = () => {};
  const jobs = Array.from({ length: SCHEDULES }, (_, i) => {
    const job = new Cron(pattern(i), { timezone: 'UTC' }, () => {
      const slot = Math.floor(Date.now() / 1000) * 1000;
      insert.run(`s${i}`, slot);
      listener(slot);
    });
    return job;
  });
  const bytesPerSchedule = Math.round(((await heap()) - before) / SCHEDULES);
  try {
    const r = await measure((fn) => (listener = fn));
    return { ...r, bytesPerSchedule };
  } finally {
    for (const job of jobs) job.stop();
    db.close();
  }
}

printMachine(
  `agentd schedules bench: ${SCHEDULES.toLocaleString('en')} schedules (each once a minute, spread over the seconds), ${WINDOW} s measured per run, ${RUNS} alternating runs, medians`,
);
const r = await alternate(RUNS, { agentd: agentdRun, croner: cronerRun });
const ref = 'croner+SQLite';
line('fire lateness p50', med(r.agentd, 'p50'), 'ms', med(r.croner, 'p50'), ref, {
  lowerIsBetter: true,
});
line('fire lateness p99', med(r.agentd, 'p99'), 'ms', med(r.croner, 'p99'), ref, {
  lowerIsBetter: true,
});
line(
  'CPU per fire (task enqueued and run)',
  med(r.agentd, 'cpuMicrosPerFire'),
  'µs',
  med(r.croner, 'cpuMicrosPerFire'),
  ref,
  { lowerIsBetter: true },
);
line(
  'heap per schedule',
  med(r.agentd, 'bytesPerSchedule'),
  'bytes',
  med(r.croner, 'bytesPerSchedule'),
  ref,
  { lowerIsBetter: true },
);
console.log(
  `fires per run: agentd ${med(r.agentd, 'fires')}, reference ${med(r.croner, 'fires')} (expected ≈ ${Math.round((SCHEDULES * WINDOW) / 60)})`,
);
rmSync(dir, { recursive: true, force: true });
