// A host process of the PostgreSQL bench: `node host.mjs <contender> <url> <schema> <concurrency>`
// with an IPC channel. It runs no-op jobs from the shared queue until the parent sends 'stop'.
// - Each job's input may carry `t0`, the enqueuing process's process.hrtime.bigint() (the
//   system-wide monotonic clock, the same in every process of one machine): the host reports
//   the add-to-start latency of that job at once.
// - Every 100 ms (and once at the end) it reports how many jobs it ran and when the last ended.
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { postgres } from '@agentd/store-postgres';
import { run as runGraphile } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { POOL_MAX, quietGraphileLogger } from './contenders.mjs';

const [contender, url, schema, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
let done = 0;
let lastNs = 0n;

/** The job body of every contender: report the latency if asked, count the run. */
function ran(input) {
  const now = process.hrtime.bigint();
  if (input && typeof input.t0 === 'string') {
    process.send({ type: 'started', ms: Number(now - BigInt(input.t0)) / 1e6 });
  }
  done++;
  lastNs = now;
}

let stop;
if (contender === 'agentd') {
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', (input) => void ran(input))],
    // A long poll: work another process enqueues must wake this host by LISTEN/NOTIFY.
    runner: { pollMs: 60_000, concurrency },
    plugins: [postgres({ url, schema, pool: { max: POOL_MAX } })],
  });
  await host.start();
  stop = () => host.stop('bench');
} else if (contender === 'graphile-worker') {
  const runner = await runGraphile({
    connectionString: url,
    schema,
    concurrency,
    maxPoolSize: POOL_MAX,
    noHandleSignals: true,
    pollInterval: 60_000,
    logger: quietGraphileLogger,
    taskList: { noop: async (payload) => ran(payload) },
  });
  stop = () => runner.stop();
} else if (contender === 'pg-boss') {
  // pg-boss has no LISTEN/NOTIFY: its workers poll, at most every 0.5 s.
  const boss = new PgBoss({ connectionString: url, schema, max: POOL_MAX, supervise: false });
  boss.on('error', () => {});
  await boss.start();
  for (let w = 0; w < concurrency; w++) {
    await boss.work('noop', { pollingIntervalSeconds: 0.5 }, async ([job]) => ran(job.data));
  }
  stop = () => boss.stop({ graceful: false, wait: true });
} else {
  throw new Error(`unknown contender ${contender}`);
}

const report = () => process.send({ type: 'count', done, lastNs: String(lastNs) });
const reporter = setInterval(report, 100);
process.on('message', async (message) => {
  if (message !== 'stop') return;
  clearInterval(reporter);
  await stop();
  report();
  process.disconnect();
});
process.send({ type: 'ready' });
