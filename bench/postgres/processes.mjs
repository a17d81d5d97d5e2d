// The PostgreSQL bench's measures across processes: add-to-start latency (one process enqueues,
// a host process runs) and several host processes draining one queue. Hosts are children
// running ./host.mjs; they talk back over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openPostgresStore } from '@agentd/store-postgres';
import pg from 'pg';

const HOST_SCRIPT = fileURLToPath(new URL('./host.mjs', import.meta.url));

/** Starts a host process; resolves once it is ready to run jobs. */
function startHost(contender, url, schema, concurrency, onMessage) {
  const child = fork(HOST_SCRIPT, [contender, url, schema, String(concurrency)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.type === 'ready') resolve();
      else onMessage(message);
    });
    child.once('exit', (code) =>
      reject(new Error(`${contender} host exited (${code}) before it was ready`)),
    );
  });
  return {
    ready,
    async stop() {
      if (child.connected) child.send('stop');
      await exited;
    },
  };
}

/**
 * Add-to-start latency: this process enqueues one job at a time (through the contender's own
 * client, as a host taking intake would); a host process runs it, woken by the contender's own
 * mechanism (LISTEN/NOTIFY for agentd and graphile-worker, polling for pg-boss). Each sample is
 * the time from just before the enqueue call to the start of the job's body, on the machine's
 * monotonic clock. The next job is enqueued 10 ms after the previous one started.
 */
export async function addToStart(contender, url, schema, { samples, warmup, capMs }) {
  const intake = await contender.intake(url, schema);
  let started;
  const host = startHost(contender.name, url, schema, 10, (message) => {
    if (message.type === 'started') started?.(message.ms);
  });
  const out = [];
  try {
    await host.ready;
    const until = performance.now() + capMs;
    for (let i = 0; i < warmup + samples && performance.now() < until; i++) {
      const ran = new Promise((resolve) => (started = resolve));
      await intake.add({ i, t0: String(process.hrtime.bigint()) });
      const ms = await ran;
      if (i >= warmup) out.push(ms);
      // A short pause: the host finishes the job and goes idle, so each sample is the wake-up
      // of an idle host, not a queue behind the previous job's completion.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await host.stop();
    await intake.close();
  }
  return out;
}

/**
 * `hosts` agentd host processes (concurrency 10, one task per claim each) drain `n` tasks from
 * one schema. The tasks are stored first, due an hour later; once every host is up and idle
 * they are made due in one statement that also notifies the hosts, and the clock starts at its
 * commit. Resolves with the rate (tasks / time to the last completion on any host) and each
 * host's share.
 */
export async function drainWithHosts(url, schema, { hosts, n, capMs }) {
  const store = await openPostgresStore({ url, schema, pool: { max: 2 } });
  const later = Date.now() + 3_600_000;
  for (let from = 0; from < n; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - from) }, (_, k) => ({
      input: from + k,
      agent: 'noop',
      runAt: later,
    }));
    await store.tasks.enqueueMany(batch, Date.now());
  }
  await store.close();
  const counts = new Array(hosts).fill(0);
  const lasts = new Array(hosts).fill(0n);
  const children = Array.from({ length: hosts }, (_, k) =>
    startHost('agentd', url, schema, 10, (message) => {
      if (message.type !== 'count') return;
      counts[k] = message.done;
      lasts[k] = BigInt(message.lastNs);
    }),
  );
  await Promise.all(children.map((c) => c.ready));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query(`update "${schema}".tasks set run_at = $1`, [Date.now()]);
  await client.query(`select pg_notify($1, '')`, [`agentd_work:${schema}`]);
  await client.query('commit');
  const startNs = process.hrtime.bigint();
  await client.end();
  const until = performance.now() + capMs;
  while (counts.reduce((s, c) => s + c, 0) < n && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(children.map((c) => c.stop()));
  const total = counts.reduce((s, c) => s + c, 0);
  let endNs = 0n;
  for (const last of lasts) if (last > endNs) endNs = last;
  return {
    rate: total / (Number(endNs - startNs) / 1e9),
    done: total,
    shares: counts.map((c) => c / total),
  };
}
