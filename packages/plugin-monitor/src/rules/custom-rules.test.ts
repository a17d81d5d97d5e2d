// Rules from the config: validation, overrides of the defaults, metric rules over the host's
// prom-client registry, repeats, recovery, and de-duplication through the notifier.
import { AgentdError, agent, TaskQueueToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { metrics } from '../metrics.js';
import { monitorOptionsSchema } from '../options.js';
import { startRulesHost } from './rules-test-support.js';

const { hosts, store } = useTestHosts('agentd-custom-rules-');

function issues(options: unknown): string[] {
  const result = monitorOptionsSchema.safeParse(options);
  return result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort();
}

describe('alert rules in the config', () => {
  it('refuses bad rules with their paths and a clear message', () => {
    // Each entry's own fields first: zod checks the rules as a whole once those are right.
    expect(
      issues({
        rules: [
          { name: 'bad-signal', signal: 'queue_length', comparison: '>', threshold: 1 },
          {
            name: 'bad-for',
            signal: 'queue_depth',
            comparison: '>',
            threshold: 1,
            for: '5 minutes',
          },
          {
            name: 'bad-metric',
            metric: 'agentd_tasks{status=pending}',
            comparison: '>',
            threshold: 1,
          },
          { name: 'Bad Name', signal: 'queue_depth', comparison: '>', threshold: 1 },
          { name: 'bad-comparison', signal: 'queue_depth', comparison: '=>', threshold: 1 },
          { name: 'disk', thresold: 95 },
        ],
      }),
    ).toEqual([
      expect.stringMatching(
        /^rules\.0\.signal: Invalid option: expected one of "runner_stalled_seconds"/,
      ),
      'rules.1.for: "5 minutes" is not a duration: write it like "30s", "5m", "1h30m" or "2d", or as seconds',
      'rules.2.metric: cannot read the matcher "status=pending" (write label="value", label!="value", label=~"regex")',
      'rules.3.name: a rule name is 1 to 63 characters: a-z, 0-9, "_", "." and "-"',
      expect.stringMatching(/^rules\.4\.comparison: Invalid option: expected one of ">"\|">="/),
      'rules.5: Unrecognized key: "thresold"',
    ]);
    expect(
      issues({
        rules: [
          { name: 'no-target', comparison: '>', threshold: 1 },
          { name: 'no-threshold', signal: 'queue_depth', comparison: '>' },
          { name: 'both', metric: 'up', signal: 'queue_depth', comparison: '>', threshold: 1 },
          { name: 'q', signal: 'queue_depth', comparison: '>', threshold: 1 },
          { name: 'q', signal: 'queue_depth', comparison: '>', threshold: 2 },
          { name: 'disk', threshold: 95 },
        ],
      }),
    ).toEqual([
      'rules.0: rule "no-target" needs a metric (a Prometheus family) or a signal (runner_stalled_seconds, task_error_ratio, queue_depth, queue_oldest_runnable_seconds, budget_used_ratio, circuit_open_seconds, channel_failing_seconds, system_cpu_percent, system_memory_percent, system_disk_percent, host_restarts)',
      'rules.1: rule "no-threshold" needs a threshold',
      'rules.2: a rule watches a metric or a signal, not both',
      'rules.4: rule "q" is given twice',
    ]);
  });

  it('overrides a default rule by name, disables one, and keeps the thresholds options as sugar', async () => {
    const h = await startRulesHost(hosts, store(), {
      thresholds: { memory: 60 },
      rules: [
        { name: 'disk', threshold: 95, message: 'Volume {path} is {value} full' },
        { name: 'cpu', enabled: false },
      ],
    });
    h.machine.cpu = 100;
    h.machine.memory = 70;
    h.machine.disk = 92;
    await h.minutes(5);
    expect(h.fresh()).toEqual(['Memory at 70% (threshold 60%)']);
    h.machine.disk = 97;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Volume /data is 97% full']);
    expect(h.alerts.at(-1)?.severity).toBe('critical');
    // The override moved the hysteresis with the threshold: 5 points below 95.
    h.machine.disk = 92;
    await h.minutes(1);
    expect(h.fresh()).toEqual([]);
    h.machine.disk = 89;
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Disk /data back to 89%']);
  });

  it('evaluates a metric rule (a family and matchers) over the metrics() registry: pending, firing, repeats, recovery', async () => {
    const h = await startRulesHost(
      hosts,
      store(),
      {
        defaultRules: false,
        rules: [
          {
            name: 'backlog',
            metric: 'agentd_tasks{status="pending"}',
            comparison: '>',
            threshold: 5,
            for: '2m',
            severity: 'error',
            message: 'Backlog of {value} {status} tasks (over {threshold} for {for})',
            recoveryMessage: 'Backlog down to {value}',
            repeatEvery: '10m',
          },
        ],
      },
      {
        runner: false,
        agents: [agent('echo', (input) => input)],
        plugins: [metrics({ storeCacheMs: 0 })],
      },
    );
    const queue = h.host.resolve(TaskQueueToken);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await queue.enqueue({ input: i })).task.id);
    await h.minutes(2);
    expect(h.fresh()).toEqual([]); // pending since the first minute
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Backlog of 8 pending tasks (over 5 for 2m)']);
    const first = h.alerts.at(-1);
    expect(first?.severity).toBe('error');
    expect(first?.message).toBe('agentd_tasks{status="pending"} > 5 for 2m (rule backlog)');
    await h.minutes(9);
    expect(h.fresh()).toEqual([]);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Backlog of 8 pending tasks (over 5 for 2m)']);
    expect(h.alerts.at(-1)?.dedupeKey).toBe(first?.dedupeKey);

    for (const id of ids.slice(0, 4)) await queue.cancel(id);
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Backlog down to 4']);
    expect(h.alerts.at(-1)?.severity).toBe('info');

    // A new episode: new dedupe keys, so no cooldown swallows its first alert.
    for (let i = 0; i < 4; i++) await queue.enqueue({ input: `again ${i}` });
    await h.minutes(3);
    expect(h.fresh()).toEqual(['Backlog of 8 pending tasks (over 5 for 2m)']);
    expect(h.alerts.at(-1)?.dedupeKey).not.toBe(first?.dedupeKey);
  });

  it('sums series with aggregate, and repeats go through the notifier: its cooldown de-duplicates', async () => {
    const h = await startRulesHost(
      hosts,
      store(),
      {
        defaultRules: false,
        rules: [
          {
            name: 'queued',
            metric: 'agentd_tasks_enqueued_total',
            aggregate: 'sum',
            comparison: '>=',
            threshold: 3,
            // Every minute: the notifier (5-minute cooldown per key) lets one in five through.
            repeatEvery: '1m',
            message: '{value} tasks enqueued',
          },
        ],
      },
      {
        runner: false,
        agents: [agent('echo', (input) => input)],
        plugins: [metrics({ storeCacheMs: 0 })],
      },
    );
    const queue = h.host.resolve(TaskQueueToken);
    await queue.enqueue({ input: 1, type: 'a' });
    await queue.enqueue({ input: 2, type: 'b' });
    await h.minutes(1);
    expect(h.fresh()).toEqual([]); // two series of 1: their sum is 2
    await queue.enqueue({ input: 3, type: 'b' });
    await h.minutes(11);
    expect(h.fresh()).toEqual(['3 tasks enqueued', '3 tasks enqueued', '3 tasks enqueued']);
  });

  it('keeps firing rules across a restart: no second alert for the same episode, a recovery notice after', async () => {
    const shared = store();
    const first = await startRulesHost(hosts, shared);
    first.machine.disk = 93;
    await first.minutes(1);
    expect(first.fresh()).toEqual(['Disk /data at 93% (threshold 90%)']);
    const key = first.alerts.at(-1)?.dedupeKey;
    await first.host.stop('restart');

    await first.clock.advance(60_000);
    const second = await startRulesHost(hosts, shared, {}, {}, first.clock, { disk: 93 });
    await second.minutes(5);
    expect(second.fresh()).toEqual([]); // the same episode, told 7 minutes ago
    await second.minutes(24);
    expect(second.fresh()).toEqual(['Disk /data at 93% (threshold 90%)']); // 30 minutes on: repeated
    expect(second.alerts.at(-1)?.dedupeKey).toBe(key);
    second.machine.disk = 50;
    await second.minutes(1);
    expect(second.fresh()).toEqual(['Disk /data back to 50%']);
  });

  it('refuses to start a metric rule without metrics(), saying what to add', async () => {
    const failure = await startRulesHost(hosts, store(), {
      rules: [{ name: 'x', metric: 'agentd_tasks', comparison: '>', threshold: 1 }],
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AgentdError);
    const cause = (failure as AgentdError).cause as AgentdError;
    expect(cause.code).toBe('E_MONITOR_NO_METRICS');
    expect(cause.message).toMatch(/add metrics\(\) from @agentd\/plugin-monitor/);
  });
});
