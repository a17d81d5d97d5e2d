import { TaskQueueToken, TaskStoreToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_TOKEN, failoverPlugin, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-agents-');

interface AgentsBody {
  failover: boolean;
  agents: {
    name: string;
    default: boolean;
    chain: string[];
    circuit: string;
    reopensAt: number | null;
    failures: { taskId: string; class: string; action: string; message: string }[];
    failureClasses: Record<string, number>;
  }[];
  budgets: { dayUsd: number; dailyCapUsd?: number; monthlyCapUsd?: number } | null;
  failures: { taskId: string; agent: string; class: string; message: string }[];
  error?: { code: string };
}

async function agents(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/dashboard/api/agents`, { headers });
  return { status: response.status, body: (await response.json()) as AgentsBody };
}

describe('the agents page API (GET /dashboard/api/agents)', () => {
  it('lists chains, circuit states, failed attempts by class and the spend', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, { plugins: [failoverPlugin()] });
    const { status, body } = await agents(seeded.url);
    expect(status).toBe(200);
    expect(body.failover).toBe(true);
    const byName = Object.fromEntries(body.agents.map((a) => [a.name, a]));
    expect(byName.echo).toMatchObject({
      chain: ['echo', 'broken'],
      circuit: 'closed',
      failures: [],
    });
    // The seeded "broken" task failed once: its circuit (threshold 1) is open.
    expect(byName.broken).toMatchObject({ chain: ['broken'], circuit: 'open' });
    expect(byName.broken?.reopensAt).toBeGreaterThan(Date.now());
    expect(byName.broken?.failures).toEqual([
      expect.objectContaining({
        taskId: seeded.failed.id,
        message: expect.stringContaining('the upstream API answered 502'),
      }),
    ]);
    const failedClass = byName.broken?.failures[0]?.class ?? '';
    expect(byName.broken?.failureClasses).toEqual({ [failedClass]: 1 });
    expect(body.failures.map((f) => f.taskId)).toEqual([seeded.failed.id]);
    expect(body.budgets).toMatchObject({ dayUsd: 0, dailyCapUsd: 5, monthlyCapUsd: 50 });
  });

  it('masks secrets in failure messages and keeps only the newest 100', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, { plugins: [failoverPlugin()] });
    const queue = seeded.host.resolve(TaskQueueToken);
    const store = seeded.host.resolve(TaskStoreToken);
    const ids = (
      await queue.enqueueMany(
        Array.from({ length: 105 }, (_, i) => ({
          agent: 'leaky',
          input: `${i}`,
          maxAttempts: 1,
        })),
      )
    ).map((r) => r.task.id);
    await expect
      .poll(
        async () =>
          (await Promise.all(ids.map((id) => store.get(id)))).every((t) => t?.status === 'failed'),
        {
          timeout: 20_000,
        },
      )
      .toBe(true);
    const { body } = await agents(seeded.url);
    expect(JSON.stringify(body)).not.toContain(SEEDED_SECRET);
    const leaky = body.failures.filter((f) => f.agent === 'leaky');
    expect(leaky.length).toBe(50);
    expect(body.agents.find((a) => a.name === 'leaky')?.failures.length).toBe(20);
    const classes = body.agents.find((a) => a.name === 'leaky')?.failureClasses ?? {};
    // 100 kept: the seeded one fell out, along with the 5 oldest leaky ones.
    expect(Object.values(classes).reduce((a, b) => a + b, 0)).toBe(100);
  }, 30_000);

  it('needs a login when the dashboard asks for one', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      plugins: [failoverPlugin()],
      dashboard: { auth: 'login', token: DASHBOARD_TOKEN },
    });
    const anonymous = await agents(seeded.url, { cookie: 'agentd_dashboard=forged' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.agents).toBeUndefined();
  });
});
