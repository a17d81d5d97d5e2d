// The metrics history on a real SQLite file: minute points recorded by one host are read back
// by the next host started on the same file, hours roll up into hour points (also an hour a
// stop left unfinished), and the API route serves a series over HTTP with bad queries refused.
import {
  agent,
  createHost,
  type Host,
  HttpServerToken,
  StateStoreToken,
  TaskQueueToken,
} from '@agentd/core';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { HISTORY_NAMESPACE, HOUR_MS, MetricsHistoryToken, MINUTE_MS } from './history.js';
import { HISTORY_SERIES } from './history-series.js';
import { metrics } from './metrics.js';

const { hosts, dbPath } = useTestHosts('agentd-metrics-history-');
const NINE = Date.parse('2026-03-10T09:00:00Z');

async function startHost(path: string, clock: ManualClock): Promise<Host> {
  const host = createHost({
    name: 'history-box',
    clock,
    logger: memoryLogger().logger,
    runner: { pollMs: 3_600_000, recoverEveryMs: 3_600_000 },
    agents: [agent('echo', (input) => input)],
    plugins: [sqlite({ path }), webhook({ port: 0 }), metrics()],
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function run(host: Host, n: number): Promise<void> {
  let left = n;
  const done = new Promise<void>((resolve) => {
    host.events.on('task.completed', () => {
      if (--left === 0) resolve();
    });
  });
  await host
    .resolve(TaskQueueToken)
    .enqueueMany(Array.from({ length: n }, (_, i) => ({ input: `t${i}`, agent: 'echo' })));
  await done;
}

describe('metrics history', () => {
  it('survives a restart on a real SQLite file, rolls minutes into hours, and serves them over HTTP', async () => {
    const path = dbPath();
    const clock = new ManualClock(NINE + 5_000);
    const first = await startHost(path, clock);
    const history = first.resolve(MetricsHistoryToken);
    expect(history.list().map((s) => s.name)).toEqual(HISTORY_SERIES.map((s) => s.name));

    await run(first, 3);
    await history.record(); // 09:00: 3 completed
    await clock.advance(MINUTE_MS);
    await run(first, 2);
    await history.record(); // 09:01: 2 completed
    await run(first, 1);
    await first.stop('restart'); // records 09:01 once more: it adds the 1 finished since

    const second = await startHost(path, clock);
    const again = second.resolve(MetricsHistoryToken);
    const minutes = await again.series('tasks_completed', { from: NINE, to: NINE + 2 * MINUTE_MS });
    expect(minutes.points).toEqual([
      { t: NINE, v: 3 },
      { t: NINE + MINUTE_MS, v: 3 },
    ]);
    expect(minutes).toMatchObject({ step: MINUTE_MS, aggregation: 'sum' });
    const pending = await again.series('tasks_pending', { from: NINE, to: NINE + 2 * MINUTE_MS });
    expect(pending.points.map((p) => p.v)).toEqual([0, 0]);
    // Percentiles of the minute's observations exist for the minutes that ran tasks.
    const p99 = await again.series('task_run_seconds_p99', { from: NINE, to: NINE + MINUTE_MS });
    expect(p99.points).toHaveLength(2);
    expect(p99.points.every((p) => p.v >= 0 && p.v <= 0.01)).toBe(true);

    // The next hour: 09:00's minutes become one hour point (a sum for a count).
    await clock.advance(HOUR_MS);
    await run(second, 4);
    await again.record();
    const hours = await again.series('tasks_completed', {
      from: NINE,
      to: NINE + 2 * HOUR_MS,
      step: HOUR_MS,
    });
    expect(hours.points).toEqual([
      { t: NINE, v: 6 },
      { t: NINE + HOUR_MS, v: 4 },
    ]);
    // Coarser minute steps combine the minutes in the series' own way.
    const fiveMinutes = await again.series('tasks_completed', {
      from: NINE,
      to: NINE + 5 * MINUTE_MS,
      step: 5 * MINUTE_MS,
    });
    expect(fiveMinutes.points).toEqual([{ t: NINE, v: 6 }]);

    // Stored as documented: one key per hour of minute points, one per day of hour points.
    const keys = (await second.resolve(StateStoreToken).list(HISTORY_NAMESPACE)).map((e) => e.key);
    expect(keys.sort()).toEqual([
      `history-box:h:${String(Date.parse('2026-03-10T00:00:00Z')).padStart(13, '0')}`,
      `history-box:m:${String(NINE).padStart(13, '0')}`,
      `history-box:m:${String(NINE + HOUR_MS).padStart(13, '0')}`,
      'history-box:open',
    ]);

    // Over HTTP, with the same answers; bad queries are 400 with the reason.
    const { url } = second.resolve(HttpServerToken).address!;
    const res = await fetch(
      `${url}/api/metrics/series?name=tasks_completed&from=${NINE}&to=2026-03-10T09:01:00Z`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'tasks_completed',
      step: MINUTE_MS,
      points: [
        { t: NINE, v: 3 },
        { t: NINE + MINUTE_MS, v: 3 },
      ],
    });
    const listed = (await (await fetch(`${url}/api/metrics/series`)).json()) as {
      series: { name: string }[];
    };
    expect(listed.series.map((s) => s.name)).toContain('queue_oldest_runnable_age_seconds');
    for (const query of [
      'name=nope',
      `name=tasks_pending&from=${NINE + HOUR_MS}&to=${NINE}`,
      'name=tasks_pending&step=30s',
      'name=tasks_pending&step=90000',
      `name=tasks_pending&from=${NINE - 100 * 24 * HOUR_MS}&to=${NINE}&step=1h`,
      'name=tasks_pending&from=yesterday',
    ]) {
      const bad = await fetch(`${url}/api/metrics/series?${query}`);
      expect(bad.status, query).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'invalid_query' } });
    }
  });

  it('rolls up an hour a stopped host left unfinished when it starts again', async () => {
    const path = dbPath();
    const clock = new ManualClock(NINE + 30 * MINUTE_MS);
    const first = await startHost(path, clock);
    await run(first, 2);
    await first.stop('night'); // records 09:30 and stops

    await clock.advance(3 * HOUR_MS);
    const second = await startHost(path, clock);
    const hours = await second
      .resolve(MetricsHistoryToken)
      .series('tasks_completed', { from: NINE, to: NINE + 4 * HOUR_MS, step: HOUR_MS });
    expect(hours.points).toEqual([{ t: NINE, v: 2 }]);
  });

  it('is left out on a host without a store, which still starts and serves metrics', async () => {
    const host = createHost({
      name: 'storeless',
      logger: memoryLogger().logger,
      plugins: [webhook({ port: 0 }), metrics()],
    });
    hosts.push(host);
    await host.start();
    expect(host.tryResolve(MetricsHistoryToken)).toBeUndefined();
    const { url } = host.resolve(HttpServerToken).address!;
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await fetch(`${url}/api/metrics/series`)).status).toBe(404);
    expect((await fetch(`${url}/api/metrics/summary`)).status).toBe(200);
  });
});
