// The daily report against a real SQLite file seeded with tasks of several agents and statuses,
// failures, a schedule and alerts, under a manual clock: its figures, its text, the schedule
// sending it once at 08:00 Europe/Berlin, and the API route over real HTTP.
import {
  type Alert,
  agent,
  createHost,
  type Host,
  HttpServerToken,
  NotifierToken,
  type TaskStore,
} from '@agentd/core';
import { SchedulerToken } from '@agentd/core/scheduler';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { metrics } from '../metrics.js';
import type { DailyReport } from './report-data.js';
import { REPORT_PATH, report } from './report-plugin.js';
import { reportText } from './report-text.js';

const { hosts, dbPath } = useTestHosts('agentd-report-');
/** 07:30 in Berlin (UTC+1 in March): the report is due at 07:00Z. */
const START = Date.parse('2026-03-10T06:30:00Z');
const S = 1000;

/** One task through the store's own calls: enqueued at `at`, started `waitS` later, ended `runS` after. */
async function seed(
  tasks: TaskStore,
  at: number,
  task: { agent: string; waitS: number; runS: number; error?: { name: string; message: string } },
) {
  const { task: t } = await tasks.enqueue(
    { input: 'seeded', agent: task.agent, maxAttempts: 1 },
    at,
  );
  const [claimed] = await tasks.claim({
    owner: 'seed',
    leaseMs: 3_600_000,
    limit: 1,
    now: at + task.waitS * S,
  });
  expect(claimed?.id).toBe(t.id);
  const end = at + (task.waitS + task.runS) * S;
  if (task.error) await tasks.fail(t.id, 'seed', task.error, { now: end });
  else await tasks.complete(t.id, 'seed', 'ok', end);
  return t.id;
}

async function seedStore(path: string): Promise<void> {
  const store = openSqliteStore({ path });
  try {
    const tasks = store.tasks;
    const h = 3_600_000;
    await seed(tasks, START - 49 * h, { agent: 'writer', waitS: 1, runS: 1 }); // before the window
    for (let i = 0; i < 6; i++) {
      await seed(tasks, START - (20 - i) * h, {
        agent: 'writer',
        waitS: 1 + i,
        runS: 10 * (i + 1),
      });
    }
    await seed(tasks, START - 10 * h, { agent: 'checker', waitS: 2, runS: 4 });
    await seed(tasks, START - 9 * h, { agent: 'checker', waitS: 30, runS: 2 });
    const timeout = { name: 'TimeoutError', message: 'the agent took longer than 60s\nstack...' };
    await seed(tasks, START - 8 * h, { agent: 'checker', waitS: 3, runS: 60, error: timeout });
    await seed(tasks, START - 7 * h, { agent: 'writer', waitS: 3, runS: 60, error: timeout });
    await seed(tasks, START - 6 * h, {
      agent: 'checker',
      waitS: 1,
      runS: 1,
      error: { name: 'rate_limit', message: 'HTTP 429 from the provider' },
    });
    const { task: cancelled } = await tasks.enqueue(
      { input: 'x', agent: 'checker' },
      START - 5 * h,
    );
    await tasks.cancel(cancelled.id, START - 5 * h + S);
  } finally {
    await store.close();
  }
}

async function startHost(path: string, clock: ManualClock): Promise<Host> {
  const host = createHost({
    name: 'report-box',
    clock,
    timezone: 'Europe/Berlin',
    logger: memoryLogger().logger,
    runner: { pollMs: 3_600_000, recoverEveryMs: 3_600_000 },
    agents: [agent('writer', (input) => input), agent('checker', (input) => input)],
    schedules: [{ name: 'backup', cron: '0 3 * * *', task: { agent: 'writer', input: 'backup' } }],
    plugins: [sqlite({ path }), webhook({ port: 0 }), metrics(), report()],
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function raiseAlerts(host: Host): Promise<void> {
  const notifier = host.resolve(NotifierToken);
  await notifier.notify({ severity: 'warning', source: 'monitor', title: 'Queue depth over 100' });
  await notifier.notify({ severity: 'critical', source: 'monitor', title: 'Disk 96% full' });
  await notifier.notify({
    severity: 'info',
    source: 'monitor',
    title: 'Resolved: Disk 96% full',
    dedupeKey: 'monitor:disk:1:critical:resolved',
  });
}

async function getReport(host: Host, query = ''): Promise<Response> {
  const url = host.resolve(HttpServerToken).address?.url;
  return fetch(`${url}${REPORT_PATH}${query}`);
}

describe('daily report', () => {
  it('reports the seeded store: tasks by status and agent, failures, latencies, schedules, alerts', async () => {
    const path = dbPath();
    await seedStore(path);
    const clock = new ManualClock(START);
    const host = await startHost(path, clock);
    await raiseAlerts(host);
    const backupDone = new Promise((resolve) => host.events.on('task.completed', resolve));
    await host.resolve(SchedulerToken).trigger('backup');
    await backupDone; // the runner ran the backup schedule's task
    await clock.advance(60 * S);

    const response = await getReport(host, '?since=24h');
    expect(response.status).toBe(200);
    const r = (await response.json()) as DailyReport & { text: string };
    expect(r.host).toBe('report-box');
    expect(r.to - r.from).toBe(24 * 3_600_000);
    expect(r.tasks.total).toBe(13); // 12 seeded in the window + the backup task just enqueued
    expect(r.tasks.byStatus).toEqual({ completed: 9, failed: 3, cancelled: 1 });
    expect(r.tasks.byAgent.find((a) => a.agent === 'checker')?.byStatus).toEqual({
      completed: 2,
      failed: 2,
      cancelled: 1,
    });
    expect(r.failures).toEqual([
      {
        cause: 'TimeoutError: the agent took longer than 60s',
        count: 2,
        agents: ['checker', 'writer'],
        example: expect.any(String),
      },
      {
        cause: 'rate_limit: HTTP 429 from the provider',
        count: 1,
        agents: ['checker'],
        example: expect.any(String),
      },
    ]);
    // Waits 1..6, 2, 30, 3, 3, 1 s (and the backup task's): p50 3 s, p99 the 30 s outlier.
    expect(r.waitSeconds.p99).toBe(30);
    expect(r.runSeconds.p99).toBe(60);
    expect(r.schedules).toContainEqual({ name: 'backup', fired: 1, missed: 0 });
    expect(r.schedules.map((s) => s.name)).toContain('daily-report');
    expect(r.alerts).toMatchObject({
      raised: 2,
      resolved: 1,
      bySeverity: { warning: 1, critical: 1 },
    });
    expect(r.boots).toBe(1);
    expect(r.uptimeSeconds).toBe(60);
    expect(r.text).toContain('Top failures:\n  2x TimeoutError: the agent took longer than 60s');

    expect((await getReport(host, '?since=soon')).status).toBe(400);
    expect((await getReport(host, '?since=365d')).status).toBe(400);
  });

  it('is sent once, at 08:00 Europe/Berlin, as an info notification with source report', async () => {
    const path = dbPath();
    await seedStore(path);
    const clock = new ManualClock(START);
    const host = await startHost(path, clock);
    const sent: Alert[] = [];
    host.events.on('alert', (a) => {
      if (a.source === 'report') sent.push(a);
    });
    await raiseAlerts(host);
    await clock.advance(29 * 60 * S); // 07:59 Berlin
    expect(sent).toHaveLength(0);
    await clock.advance(60 * S); // 08:00 Berlin = 07:00Z
    await waitFor(() => sent.length === 1);
    await clock.advance(3 * 3_600_000);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ severity: 'info', title: 'Daily report: report-box' });
    expect(sent[0]?.message).toMatch(/^Host report-box, 2026-03-09 07:00 to 2026-03-10 07:00 UTC/);
    expect(sent[0]?.message).toContain('Tasks: 12 (completed 8, failed 3, cancelled 1)');
    expect(sent[0]?.message).toContain('Alerts: 2 raised (warning 1, critical 1), 1 resolved');
    const [status] = (await host.resolve(SchedulerToken).list()).filter(
      (s) => s.name === 'daily-report',
    );
    expect(status?.lastSlot).toBe(Date.parse('2026-03-10T07:00:00Z'));
    // The sample in docs/monitor.md is this text.
    if (process.env.PRINT_REPORT) console.log(sent[0]?.message);
  });
});

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}

export { reportText };
