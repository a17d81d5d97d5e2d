// The three queues the PostgreSQL bench compares, behind one small interface, so every figure
// is taken the same way for each: `intake(url, schema)` opens a client that enqueues (one job, or a
// batch in one call) and `burnDown(schema, options)` starts a worker in this process and
// resolves when it has run `n` jobs. Each contender gets a schema of its own in the same
// database; the bench drops it afterwards. Pool sizes are the same for all (10 connections).
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { openPostgresStore, postgres } from '@agentd/store-postgres';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import PgBoss from 'pg-boss';

export const POOL_MAX = 10;

/** Resolves after `n` calls of the returned `tick`, or when `limitMs` passed (a capped run). */
function countdown(n, limitMs) {
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const t0 = performance.now();
  const timer = setTimeout(
    () => finish({ done, ms: performance.now() - t0, capped: true }),
    limitMs,
  );
  const tick = (k = 1) => {
    done += k;
    if (done >= n) {
      clearTimeout(timer);
      finish({ done, ms: performance.now() - t0, capped: false });
    }
  };
  return { tick, finished };
}

export const agentd = {
  name: 'agentd',
  async intake(url, schema) {
    const store = await openPostgresStore({ url, schema, pool: { max: POOL_MAX } });
    const now = Date.now();
    return {
      add: (payload) => store.tasks.enqueue({ input: payload, agent: 'noop' }, now),
      addBatch: (payloads) =>
        store.tasks.enqueueMany(
          payloads.map((input) => ({ input, agent: 'noop' })),
          now,
        ),
      close: () => store.close(),
    };
  },
  /** A real host: the postgres() plugin, the built-in runner, a no-op agent. */
  async burnDown(url, schema, { n, concurrency, batched, limitMs }) {
    const host = createHost({
      logger: silentLogger(),
      agents: [agent('noop', () => null)],
      runner: { pollMs: 1000, concurrency, batchSize: batched ? 500 : 1 },
      plugins: [postgres({ url, schema, pool: { max: POOL_MAX } })],
    });
    const { tick, finished } = countdown(n, limitMs);
    host.events.on('task.completed', () => tick());
    await host.start();
    const result = await finished;
    await host.stop('bench');
    return result;
  },
};

export const graphile = {
  name: 'graphile-worker',
  async intake(url, schema) {
    const utils = await makeWorkerUtils({
      connectionString: url,
      schema,
      logger: quietGraphileLogger,
    });
    await utils.migrate();
    const q = `"${schema}"`;
    return {
      add: (payload) => utils.addJob('noop', payload),
      // add_jobs, the SQL function graphile-worker 0.16 offers for many jobs in one call.
      addBatch: (payloads) =>
        utils.withPgClient((client) =>
          client.query(
            `select count(*) from ${q}.add_jobs(array(
               select json_populate_recordset(null::${q}.job_spec, $1::json)))`,
            [JSON.stringify(payloads.map((payload) => ({ identifier: 'noop', payload })))],
          ),
        ),
      close: () => utils.release(),
    };
  },
  /** graphile-worker 0.16 claims one job per query; it has no batched mode. */
  async burnDown(url, schema, { n, concurrency, limitMs }) {
    const { tick, finished } = countdown(n, limitMs);
    const runner = await runGraphile({
      connectionString: url,
      schema,
      concurrency,
      maxPoolSize: POOL_MAX,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: quietGraphileLogger,
      taskList: { noop: async () => {} },
    });
    runner.events.on('job:complete', () => tick());
    const result = await finished;
    await runner.stop();
    return result;
  },
};

export const pgBoss = {
  name: 'pg-boss',
  async intake(url, schema) {
    const boss = await startBoss(url, schema);
    return {
      add: (payload) => boss.send('noop', payload),
      addBatch: (payloads) => boss.insert(payloads.map((data) => ({ name: 'noop', data }))),
      close: () => boss.stop({ graceful: false, wait: true }),
    };
  },
  /**
   * `concurrency` workers, each fetching `batchSize` jobs per poll (1, or 500 batched, as the
   * issue's reference run). pg-boss completes a batch after its handler returns, without
   * awaiting it, so jobs are counted once the database shows them completed.
   */
  async burnDown(url, schema, { n, concurrency, batched, limitMs }) {
    const boss = await startBoss(url, schema);
    const { tick, finished } = countdown(n, limitMs);
    const batchSize = batched ? 500 : 1;
    for (let w = 0; w < concurrency; w++) {
      await boss.work('noop', { batchSize, pollingIntervalSeconds: 0.5 }, async () => {});
    }
    let seen = 0;
    const poll = setInterval(async () => {
      const db = boss.getDb();
      const { rows } = await db.executeSql(
        `select count(*)::int as n from "${schema}".job where state = 'completed'`,
      );
      const now = rows[0].n;
      if (now > seen) tick(now - seen);
      seen = now;
    }, 50);
    const result = await finished;
    clearInterval(poll);
    await boss.stop({ graceful: false, wait: true });
    return result;
  },
};

async function startBoss(url, schema) {
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: POOL_MAX,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => {});
  await boss.start();
  if (!(await boss.getQueue('noop'))) await boss.createQueue('noop');
  return boss;
}

/** graphile-worker's logger with every message dropped, as agentd's silent logger. */
export const quietGraphileLogger = new Logger(() => () => {});

export const CONTENDERS = [agentd, graphile, pgBoss];
