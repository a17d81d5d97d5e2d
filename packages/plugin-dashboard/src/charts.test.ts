import { TaskStoreToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { MetricsHistoryToken, metrics, monitor } from '@agentd/plugin-monitor';
import { describe, expect, it } from 'vitest';
import { CHART_SERIES } from './api-charts.js';
import { DASHBOARD_TOKEN, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-charts-');

interface ChartsBody {
  enabled: boolean;
  range?: string;
  step?: number;
  t?: number[];
  series?: Record<string, (number | null)[]>;
  error?: { code: string; message: string };
}

async function charts(url: string, query = '', headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/dashboard/api/charts${query}`, { headers });
  return { status: response.status, body: (await response.json()) as ChartsBody };
}

const sum = (values: (number | null)[] | undefined) =>
  (values ?? []).reduce<number>((total, v) => total + (v ?? 0), 0);

describe('the overview charts (GET /dashboard/api/charts)', () => {
  it('say the history is off when the host keeps none (no plugin-monitor)', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    expect(await charts(seeded.url)).toEqual({ status: 200, body: { enabled: false } });
  });

  it('chart what the metrics history recorded, on one time axis, for every range', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      plugins: [monitor({ intervalSeconds: 60 }), metrics()],
    });
    const history = seeded.host.resolve(MetricsHistoryToken);
    await history.record();
    const stored = await seeded.host.resolve(TaskStoreToken).counts();

    const { status, body } = await charts(seeded.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({ enabled: true, range: '1h', step: 60_000 });
    expect(Object.keys(body.series ?? {}).sort()).toEqual([...CHART_SERIES].sort());
    for (const values of Object.values(body.series ?? {})) {
      expect(values).toHaveLength(body.t?.length ?? -1);
    }
    // The seeded host ran 3 tasks to completion and failed 1, all within this minute.
    expect(sum(body.series?.tasks_completed)).toBe(stored.completed);
    expect(sum(body.series?.tasks_failed)).toBe(stored.failed);
    expect(stored.completed).toBe(3);
    // The same minute as the history's own answer for one series.
    const direct = await history.series('tasks_completed', { step: 60_000 });
    const at = direct.points.at(-1)!;
    const slot = body.t!.indexOf(at.t);
    expect(body.series?.tasks_completed?.[slot]).toBe(at.v);
    const memory = body.series?.process_resident_memory_bytes?.[slot] ?? 0;
    expect(memory).toBeGreaterThan(1024 * 1024);
    const cpu = body.series?.system_cpu_usage_ratio?.[slot];
    expect(cpu === null || (typeof cpu === 'number' && cpu >= 0 && cpu <= 1)).toBe(true);

    for (const [range, step, points] of [
      ['6h', 300_000, 73],
      ['24h', 900_000, 97],
      ['7d', 3_600_000, 169],
    ] as const) {
      const wide = await charts(seeded.url, `?range=${range}`);
      expect(wide.body).toMatchObject({ enabled: true, range, step });
      expect(wide.body.t?.length).toBeGreaterThanOrEqual(points - 1);
      expect(wide.body.t?.length).toBeLessThanOrEqual(points);
      // Hour steps include the hour being filled.
      expect(sum(wide.body.series?.tasks_completed)).toBe(3);
    }
  });

  it('refuse a range they do not offer with a 400, and keep serving', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, { plugins: [metrics()] });
    for (const range of [
      '1y',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      '1h ',
      'x'.repeat(5000),
    ]) {
      const { status, body } = await charts(seeded.url, `?range=${encodeURIComponent(range)}`);
      expect(status).toBe(400);
      expect(body.error?.code).toBe('bad_request');
      expect(body.error?.message.length).toBeLessThan(200);
    }
    expect((await charts(seeded.url, '?range=24h')).status).toBe(200);
  });

  it('need a login when the dashboard asks for one', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      plugins: [metrics()],
      dashboard: { auth: 'login', token: DASHBOARD_TOKEN },
    });
    const anonymous = await charts(seeded.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.series).toBeUndefined();
    const bearer = await charts(seeded.url, '', { authorization: `Bearer ${DASHBOARD_TOKEN}` });
    expect(bearer.status).toBe(401);
  });
});
