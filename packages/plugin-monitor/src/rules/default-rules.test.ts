// Every default rule, firing and recovering, in a real host under a manual clock.
import { agent, HealthRegistryToken, TaskQueueToken, TaskStoreToken } from '@agentd/core';
import { BudgetGuardToken } from '@agentd/core/failover';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { defaultRules } from './default-rules.js';
import { flakyChannel, settle, startRulesHost } from './rules-test-support.js';

const { hosts, store } = useTestHosts('agentd-rules-');

describe('default alert rules', () => {
  it('are the documented twelve, each with a name to override it by', () => {
    const names = defaultRules({
      thresholds: { cpu: 85, memory: 85, disk: 90 },
      cpuSamples: 3,
      intervalSeconds: 60,
      repeatMinutes: 30,
    }).map((r) => r.name);
    expect(names).toEqual([
      'runner-stalled',
      'error-rate',
      'queue-depth',
      'queue-oldest',
      'budget-80',
      'budget-100',
      'circuit-open',
      'channel-failing',
      'cpu',
      'memory',
      'disk',
      'restart-loop',
    ]);
  });

  it('cpu fires after three samples in a row over 85 %, and resolves 5 points below', async () => {
    const h = await startRulesHost(hosts, store());
    h.machine.cpu = 95;
    await h.minutes(2);
    expect(h.fresh()).toEqual([]); // two samples so far
    await h.minutes(1);
    expect(h.fresh()).toEqual(['CPU at 95% (threshold 85%)']);
    expect(h.alerts.at(-1)?.severity).toBe('warning');
    h.machine.cpu = 82; // below the threshold, within the margin: still firing
    await h.minutes(2);
    expect(h.fresh()).toEqual([]);
    expect((await h.host.resolve(HealthRegistryToken).run()).checks['alert-rules']?.output).toBe(
      'firing: cpu',
    );
    h.machine.cpu = 70;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['CPU back to 70%']);
    expect(h.alerts.at(-1)?.severity).toBe('info');
  });

  it('memory fires at once, turns critical at 95 %, and resolves', async () => {
    const h = await startRulesHost(hosts, store());
    h.machine.memory = 90;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Memory at 90% (threshold 85%)']);
    expect(h.alerts.at(-1)?.message).toBe('1.6 GB available of 16.0 GB');
    h.machine.memory = 97;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Memory at 97% (threshold 85%)']);
    expect(h.alerts.at(-1)?.severity).toBe('critical');
    h.machine.memory = 50;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Memory back to 50%']);
  });

  it('disk fires per watched path, repeats every 30 minutes, and resolves', async () => {
    const h = await startRulesHost(hosts, store());
    h.machine.disk = 92;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Disk /data at 92% (threshold 90%)']);
    await h.minutes(29);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Disk /data at 92% (threshold 90%)']);
    expect(h.alerts[1]?.dedupeKey).toBe(h.alerts[0]?.dedupeKey);
    h.machine.disk = 40;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Disk /data back to 40%']);
    expect(h.alerts.at(-1)?.message).toBe('300.0 GB free of 500.0 GB');
  });

  it('runner-stalled, queue-depth and queue-oldest fire on a stuck queue and resolve once it drains', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h = await startRulesHost(
      hosts,
      store(),
      {},
      {
        agents: [agent('stuck', () => gate.then(() => 'done'))],
        runner: { concurrency: 1, taskTimeoutMs: 4 * 3_600_000 },
      },
    );
    const queue = h.host.resolve(TaskQueueToken);
    for (let i = 0; i < 1005; i++) await queue.enqueue({ input: `job ${i}`, type: 'bulk' });
    await h.minutes(9);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Runner stalled: tasks are waiting and none finished for 10m']);
    expect(h.alerts.at(-1)?.severity).toBe('error');
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Queue depth at 1004 tasks (threshold 1000)']);
    await h.minutes(19);
    expect(h.fresh()).toEqual(['Oldest runnable task waiting for 30m (threshold 30m)']);

    release();
    for (let i = 0; i < 50 && (await h.host.resolve(TaskStoreToken).counts()).pending !== 0; i++) {
      await h.clock.advance(1000);
      await settle();
    }
    await h.minutes(1);
    expect(h.fresh().sort()).toEqual([
      'Oldest runnable task waiting 0s',
      'Queue depth back to 0 tasks',
      'Runner finishing tasks again',
    ]);
  });

  it('error-rate fires when half the attempts of 15 minutes fail for 5 minutes, and resolves', async () => {
    const h = await startRulesHost(
      hosts,
      store(),
      {},
      {
        agents: [
          agent('flaky', () => {
            throw new Error('upstream said no');
          }),
          agent('steady', () => 'ok'),
        ],
        runner: { concurrency: 5 },
      },
    );
    const queue = h.host.resolve(TaskQueueToken);
    for (let i = 0; i < 12; i++)
      await queue.enqueue({ input: 'x', agent: 'flaky', maxAttempts: 1 });
    await h.minutes(1);
    expect(h.fresh()).toEqual([]); // pending: 5 minutes first
    await h.minutes(5);
    expect(h.fresh()).toEqual(['Task error rate at 100% (threshold 50%)']);
    expect(h.alerts.at(-1)?.message).toBe('12 of 12 attempts failed in the last 15 minutes');
    for (let i = 0; i < 20; i++) await queue.enqueue({ input: 'y', agent: 'steady' });
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Task error rate back to 38%']);
  });

  it('budget-80 and budget-100 fire against the daily cap and resolve the next day', async () => {
    const h = await startRulesHost(hosts, store(), {}, { budgets: { cost: { dailyUsd: 10 } } });
    const budgets = h.host.resolve(BudgetGuardToken);
    await budgets.record({ costUsd: 8.5 });
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Cost budget (day) at 85% of its cap']);
    expect(h.alerts.at(-1)?.message).toBe('$8.50 of $10.00 spent today (UTC)');
    await budgets.record({ costUsd: 2 });
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Cost cap (day) reached: 105%; new work is refused']);
    expect(h.alerts.at(-1)?.severity).toBe('critical');
    await h.minutes(60);
    expect(h.fresh()).toEqual([]); // budget rules do not repeat: the cap holds until midnight
    await h.clock.advanceTo(Date.parse('2026-11-27T00:00:30Z'));
    await h.minutes(1);
    expect(h.fresh().sort()).toEqual([
      'Cost budget (day) back to 0% of its cap',
      'Cost budget (day) below its cap again: 0%',
    ]);
  });

  it('circuit-open fires for a circuit open 15 minutes, and resolves when it closes', async () => {
    let healthy = false;
    const h = await startRulesHost(
      hosts,
      store(),
      {},
      {
        agents: [
          agent('writer', () => {
            if (!healthy) throw new Error('provider down');
            return 'written';
          }),
        ],
        // Two failures open the circuit; a trial call is let through 50 ms (real time) later.
        failover: { retries: 0, circuit: { threshold: 2, halfOpenAfterMs: 50 } },
      },
    );
    const queue = h.host.resolve(TaskQueueToken);
    const opened = new Promise<void>((resolve) => {
      h.host.events.on('circuit.changed', ({ state }) => {
        if (state === 'open') resolve();
      });
    });
    for (let i = 0; i < 2; i++) await queue.enqueue({ input: i, maxAttempts: 1 });
    await opened; // at once: the runner takes both tasks as they are enqueued
    await h.minutes(14);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual([expect.stringMatching(/^Circuit of agent writer open for 15m/)]);

    healthy = true;
    const closed = new Promise<void>((resolve) => {
      h.host.events.on('circuit.changed', ({ state }) => {
        if (state === 'closed') resolve();
      });
    });
    await queue.enqueue({ input: 'trial', maxAttempts: 1 });
    for (let i = 0; i < 20; i++) await h.minutes(1).then(() => settle());
    await closed;
    expect(h.fresh()).toEqual(['Circuit of agent writer closed again']);
  });

  it('channel-failing fires for a channel whose check fails 5 minutes, and resolves', async () => {
    const pager = flakyChannel('pager');
    const h = await startRulesHost(hosts, store(), {}, { plugins: [pager] });
    pager.failing = true;
    await h.minutes(5);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Channel pager failing for 5m']);
    expect(h.alerts.at(-1)?.message).toBe('5 failed poll(s) in a row: ECONNRESET');
    pager.failing = false;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Channel pager healthy again']);
  });

  it('restart-loop fires on the fourth boot within 30 minutes (boots kept in the store), and resolves', async () => {
    const shared = store();
    let h = await startRulesHost(hosts, shared);
    for (let boot = 2; boot <= 4; boot++) {
      await h.host.stop('crash');
      await h.clock.advance(60_000);
      h = await startRulesHost(hosts, shared, {}, {}, h.clock);
      if (boot < 4) expect(h.fresh(), `boot ${boot}`).toEqual([]);
    }
    expect(h.fresh()).toEqual(['Host restarting in a loop: 3 restarts in 30 minutes']);
    expect(h.alerts.at(-1)?.severity).toBe('critical');
    // The first boot leaves the 30-minute window 30 minutes after it: two restarts remain.
    await h.minutes(26);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Host restarts back to 2 in 30 minutes']);
  });
});
