import { describe, expect, it } from 'vitest';
import {
  ChannelRegistryToken,
  InboundRouterToken,
  type OutboundMessage,
} from '../contracts/channel.js';
import type { AttemptRecord } from '../contracts/failover.js';
import type { Alert } from '../contracts/notifier.js';
import { StateStoreToken } from '../contracts/state.js';
import { type Task, TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import type { Host } from '../kernel/host.js';
import { notifier } from '../notifier/notifier.js';
import { createHost, type HostConfig } from '../preset/host.js';
import { failureSummary } from '../runtime/failure-summary.js';
import { agent } from '../runtime/function-agent.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { ErrorClassifier, parseRetryAfter } from './classifier.js';
import { AgentError, EmptyResultError } from './errors.js';
import { type FailoverPluginOptions, failover, savedCircuits } from './plugin.js';
import { normalizeChains } from './schema.js';

const { hosts, store } = useTestHosts();

async function startHost(config: HostConfig, options: FailoverPluginOptions): Promise<Host> {
  const host = createHost({
    logger: memoryLogger().logger,
    ...config,
    plugins: [
      memoryStore({ store: store() }),
      failover(options),
      notifier(),
      ...(config.plugins ?? []),
    ],
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function runTask(
  host: Host,
  input: string,
  agentName?: string,
  maxAttempts = 1,
): Promise<Task> {
  const { task } = await host
    .resolve(TaskQueueToken)
    .enqueue({ input, agent: agentName, maxAttempts });
  return new Promise<Task>((resolve) => {
    const offs = [
      host.events.on('task.completed', (e) => {
        if (e.task.id !== task.id) return;
        for (const o of offs) o();
        resolve(e.task);
      }),
      host.events.on('task.failed', (e) => {
        if (e.task.id !== task.id || e.willRetry) return;
        for (const o of offs) o();
        resolve(e.task);
      }),
    ];
  });
}

describe('error classifier', () => {
  const c = new ErrorClassifier();
  it.each([
    [new AgentError('slow down', { status: 429, retryAfterMs: 5000 }), 'rate_limit', 'failover'],
    [Object.assign(new Error('Request failed'), { status: 401 }), 'auth', 'give_up'],
    [new Error('Invalid API key provided'), 'auth', 'give_up'],
    [new Error('Your request was rejected by the content filter'), 'content_filter', 'give_up'],
    [Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'timeout', 'retry'],
    [new Error('tool "browser" crashed'), 'tool_failure', 'retry'],
    [new Error('The model `gpt-9` does not exist'), 'model_error', 'failover'],
    [Object.assign(new Error('upstream'), { status: 502 }), 'api_error', 'retry'],
    [new Error('connect ECONNREFUSED 127.0.0.1:9'), 'api_error', 'retry'],
    [new Error('something odd'), 'unknown', 'retry'],
  ])('%s -> %s', (error, cls, action) => {
    expect(c.classify(error)).toMatchObject({ class: cls, action });
  });

  it('keeps Retry-After and lets user rules win', () => {
    expect(
      c.classify(new AgentError('429', { status: 429, retryAfterMs: 7000 })).retryAfterMs,
    ).toBe(7000);
    const custom = new ErrorClassifier([
      { match: /billing/i, class: 'auth' },
      { match: (e) => e === 'x', class: 'tool_failure', action: 'give_up' },
    ]);
    expect(custom.classify(new Error('Billing hard limit reached'))).toMatchObject({
      class: 'auth',
    });
    expect(custom.classify('x')).toMatchObject({ class: 'tool_failure', action: 'give_up' });
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(normalizeChains(['research -> reasoning -> executor'])).toEqual({
      research: ['reasoning', 'executor'],
    });
  });
});

describe('failover executor', () => {
  it('fails over twice (model error, empty result) and then succeeds, recording every attempt', async () => {
    const calls: string[] = [];
    const host = await startHost(
      {
        agents: [
          agent('research', () => {
            calls.push('research');
            throw new Error('The model `r1` is not available');
          }),
          agent('reasoning', () => {
            calls.push('reasoning');
            return '   ';
          }),
          agent('executor', (input) => {
            calls.push('executor');
            return `done: ${String(input)}`;
          }),
        ],
      },
      { failover: { chains: ['research -> reasoning -> executor'] } },
    );
    const attempts: AttemptRecord[] = [];
    host.events.on('agent.attempt', (e) => void attempts.push(e.attempt));
    const task = await runTask(host, 'q', 'research');
    expect(task).toMatchObject({ status: 'completed', result: 'done: q' });
    expect(calls).toEqual(['research', 'reasoning', 'executor']);
    expect(
      attempts.map((a) => [a.agent, a.outcome === 'success' ? 'success' : a.outcome.class]),
    ).toEqual([
      ['research', 'model_error'],
      ['reasoning', 'empty_result'],
      ['executor', 'success'],
    ]);
  });

  it('retries a retryable error on the same agent, never sooner than Retry-After', async () => {
    const times: number[] = [];
    const host = await startHost(
      {
        agents: [
          agent('api', () => {
            times.push(Date.now());
            if (times.length < 3)
              throw new AgentError('503 busy', { status: 503, retryAfterMs: 60 });
            return 'ok';
          }),
        ],
      },
      { failover: { retries: 2, backoff: { initialDelayMs: 1, maxDelayMs: 5 } } },
    );
    expect(await runTask(host, 'x')).toMatchObject({ status: 'completed', result: 'ok' });
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(55);
  });

  it('moves on after a 429 and skips the rate-limited agent until Retry-After passes', async () => {
    let primaryCalls = 0;
    const host = await startHost(
      {
        agents: [
          agent('primary', () => {
            primaryCalls++;
            throw new AgentError('Too Many Requests', { status: 429, retryAfterMs: 60_000 });
          }),
          agent('backup', () => 'from backup'),
        ],
      },
      { failover: { chains: { primary: ['backup'] } } },
    );
    expect(await runTask(host, 'a', 'primary')).toMatchObject({ result: 'from backup' });
    expect(await runTask(host, 'b', 'primary')).toMatchObject({ result: 'from backup' });
    expect(primaryCalls).toBe(1);
  });

  it('a lone rate-limited agent puts the task back until Retry-After instead of failing it', async () => {
    const clock = new ManualClock(Date.now());
    let calls = 0;
    const host = await startHost(
      {
        clock,
        agents: [
          agent('only', () => {
            calls++;
            if (calls === 1) throw new AgentError('429', { status: 429, retryAfterMs: 30_000 });
            return 'later';
          }),
        ],
      },
      {},
    );
    const retried = host.events.next('task.failed');
    const done = host.events.next('task.completed');
    await host.resolve(TaskQueueToken).enqueue({ input: 'x', maxAttempts: 3 });
    const failed = await retried;
    expect(failed.willRetry).toBe(true);
    expect(failed.task.runAt).toBe(clock.now() + 30_000);
    await clock.advance(31_000);
    expect((await done).task.result).toBe('later');
  });

  it('gives up at once on an auth error, with an alert', async () => {
    let backupCalls = 0;
    const host = await startHost(
      {
        agents: [
          agent('primary', () => {
            throw Object.assign(new Error('Incorrect API key provided'), { status: 401 });
          }),
          agent('backup', () => {
            backupCalls++;
            return 'x';
          }),
        ],
      },
      { failover: { chains: ['primary -> backup'] } },
    );
    const alerts: Alert[] = [];
    host.events.on('alert', (a) => void alerts.push(a));
    const task = await runTask(host, 'x', 'primary', 3);
    expect(task).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { name: 'FailoverExhausted' },
    });
    expect(task.error?.message).toContain('gave up (auth)');
    expect(backupCalls).toBe(0);
    expect(alerts).toEqual([expect.objectContaining({ severity: 'critical', source: 'failover' })]);
  });

  it('fails the task with the full attempt history and alerts when every agent fails', async () => {
    const host = await startHost(
      {
        agents: [
          agent('a', () => {
            throw new Error('tool "search" crashed');
          }),
          agent('b', () => null),
        ],
      },
      {
        failover: { chains: ['a -> b'], retries: 1, backoff: { initialDelayMs: 1, maxDelayMs: 1 } },
      },
    );
    const alert = host.events.next('alert');
    const task = await runTask(host, 'x', 'a', 1);
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(/every agent failed \(3 attempt\(s\)\)/);
    expect(task.error?.message).toContain('1. a: tool_failure');
    expect(task.error?.message).toContain('2. a: tool_failure');
    expect(task.error?.message).toContain('3. b: empty_result');
    expect((await alert).title).toContain('All agents failed');
    const saved = await host.resolve(StateStoreToken).get('failover', `attempts:${task.id}`);
    expect(saved).toHaveLength(3);
  });

  it('opens a circuit, half-opens it, closes it again, and keeps its state across a restart', async () => {
    let healthy = false;
    let flakyCalls = 0;
    const config: HostConfig = {
      agents: [
        agent('flaky', () => {
          flakyCalls++;
          if (!healthy) throw Object.assign(new Error('bad gateway'), { status: 502 });
          return 'flaky ok';
        }),
        agent('backup', () => 'backup ok'),
      ],
    };
    const options: FailoverPluginOptions = {
      failover: {
        chains: ['flaky -> backup'],
        retries: 0,
        // Long enough for a restart on a loaded machine (stopping SQLite alone can take 200 ms).
        circuit: { threshold: 2, halfOpenAfterMs: 1_500 },
      },
    };
    let host = await startHost(config, options);
    const states: string[] = [];
    host.events.on('circuit.changed', (e) => void states.push(`${e.agent}:${e.state}`));
    expect(await runTask(host, '1', 'flaky')).toMatchObject({ result: 'backup ok' });
    expect(await runTask(host, '2', 'flaky')).toMatchObject({ result: 'backup ok' });
    expect(states).toEqual(['flaky:open']);
    expect(await runTask(host, '3', 'flaky')).toMatchObject({ result: 'backup ok' });
    expect(flakyCalls).toBe(2); // skipped while open
    const health = await host
      .resolve((await import('../contracts/health.js')).HealthRegistryToken)
      .run();
    expect(health.checks['failover:circuits']).toMatchObject({
      status: 'warn',
      output: 'circuit open for flaky',
    });

    // A restart keeps the circuit open.
    await host.stop('restart');
    hosts.length = 0;
    host = await startHost(config, options);
    host.events.on('circuit.changed', (e) => void states.push(`${e.agent}:${e.state}`));
    expect(await runTask(host, '4', 'flaky')).toMatchObject({ result: 'backup ok' });
    expect(flakyCalls).toBe(2);
    expect(await savedCircuits(host.resolve(StateStoreToken), { halfOpenAfterMs: 1_500 })).toEqual({
      flaky: 'open',
    });

    await new Promise((r) => setTimeout(r, 1_550));
    healthy = true;
    expect(await runTask(host, '5', 'flaky')).toMatchObject({ result: 'flaky ok' });
    expect(states).toEqual(['flaky:open', 'flaky:half-open', 'flaky:closed']);
  });
});

describe('failover errors name their root cause', () => {
  it('keeps the HTTP 500 text when the circuit is open, and a task out of attempts never says "retrying at"', async () => {
    const host = await startHost(
      {
        agents: [
          agent('gpt', () => {
            throw new AgentError('gpt: HTTP 500: upstream exploded', { status: 500 });
          }),
        ],
      },
      { failover: { retries: 0, circuit: { threshold: 1, halfOpenAfterMs: 60_000 } } },
    );
    const first = await runTask(host, '1', 'gpt', 1);
    expect(first.error).toEqual({
      name: 'AgentError',
      message: 'gpt: HTTP 500: upstream exploded',
    });
    // The circuit is open now: the next task is skipped, and its error says why it opened.
    const second = await runTask(host, '2', 'gpt', 1);
    expect(second.status).toBe('failed');
    expect(second.error?.message).toContain('skipped: circuit open until');
    expect(second.error?.message).toContain(
      'last error: api_error: gpt: HTTP 500: upstream exploded',
    );
    expect(second.error?.message).toContain('no retries left');
    expect(second.error?.message).not.toContain('retrying at');
    expect(failureSummary(second.error)).toBe('The model provider had an error (500).');
  });

  it('labels an empty answer empty_result', async () => {
    const host = await startHost(
      {
        agents: [
          agent('quiet', () => {
            throw new EmptyResultError('quiet');
          }),
        ],
      },
      { failover: { retries: 0 } },
    );
    const task = await runTask(host, 'x', 'quiet', 1);
    expect(task.error).toEqual({
      name: 'empty_result',
      message: 'agent "quiet" returned an empty result',
    });
    expect(failureSummary(task.error)).toBe('The agent returned an empty answer.');
  });
});

describe('budgets', () => {
  it('refuses new work once the daily cost cap is hit mid-day, with an alert, and accepts again the next day', async () => {
    const clock = new ManualClock(Date.parse('2026-03-10T09:00:00Z'));
    const sent: OutboundMessage[] = [];
    const host = await startHost(
      {
        clock,
        runner: { pollMs: 3_600_000, recoverEveryMs: 3_600_000 },
        agents: [
          agent('paid', (input) => ({
            output: `answer ${String(input)}`,
            usage: { costUsd: 0.4 },
          })),
        ],
        plugins: [
          {
            name: 'chat',
            register: (ctx) =>
              ctx.resolve(ChannelRegistryToken).add({
                name: 'chat',
                send: async (_to, m) => {
                  sent.push(m);
                  return { ids: [] };
                },
              }),
          },
        ],
      },
      { budgets: { cost: { dailyUsd: 1, monthlyUsd: 50 }, rateLimits: { perMinute: 100 } } },
    );
    const router = host.resolve(InboundRouterToken);
    const alerts: Alert[] = [];
    host.events.on('alert', (a) => void alerts.push(a));
    const say = (id: string) =>
      router.dispatch({
        id,
        from: { channel: 'chat', id: 'u1' },
        sender: { id: 'u1' },
        text: id,
        receivedAt: clock.now(),
      });
    for (const id of ['m1', 'm2', 'm3']) {
      const done = host.events.next('task.completed');
      expect((await say(id)).outcome).toBe('accepted');
      await done;
      await clock.advance(60_000);
    }
    const refused = await say('m4');
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect(refused.reply).toContain('daily cost cap of $1.00 is reached ($1.20 spent today)');
    expect(alerts.map((a) => a.title)).toEqual(
      expect.arrayContaining([
        'Budget: daily cost at 80% of its $1.00 cap',
        'Budget: daily cost cap of $1.00 reached',
        'Cost cap reached: work refused',
      ]),
    );
    expect(await host.resolve(StateStoreToken).get('failover', 'cost:day:2026-03-10')).toBeCloseTo(
      1.2,
    );
    await clock.advanceTo(Date.parse('2026-03-11T00:00:01Z'));
    expect((await say('m5')).outcome).toBe('accepted');
  });

  it('limits each user to N messages per minute and says when to try again', async () => {
    const clock = new ManualClock(Date.parse('2026-03-10T09:00:00Z'));
    const host = await startHost(
      { clock, agents: [agent('a', () => 'ok')] },
      { budgets: { rateLimits: { perMinute: 2, perHour: 10 } } },
    );
    const router = host.resolve(InboundRouterToken);
    const say = (id: string, user = 'u1') =>
      router.dispatch({
        id,
        from: { channel: 'chat', id: user },
        sender: { id: user },
        text: id,
        receivedAt: clock.now(),
      });
    expect((await say('1')).outcome).toBe('accepted');
    expect((await say('2')).outcome).toBe('accepted');
    const third = await say('3');
    expect(third).toMatchObject({
      outcome: 'refused',
      reply: expect.stringContaining('at most 2 messages per minute'),
    });
    // Commands come before admission in the inbound chain: a user over the limit can still
    // list and switch sessions.
    expect(await say('/sessions')).toMatchObject({
      outcome: 'handled',
      reply: expect.stringContaining('main'),
    });
    expect((await say('4', 'u2')).outcome).toBe('accepted');
    await clock.advance(61_000);
    expect((await say('5')).outcome).toBe('accepted');
  });
});

describe('runs the host itself ends', () => {
  it('a run cancelled while it waits on its provider does not count against the circuit', async () => {
    let calls = 0;
    let aborted = 0;
    const config: HostConfig = {
      // Renewed every 100 ms: a cancelled task's run is told at the next renewal.
      runner: { leaseMs: 300 },
      agents: [
        agent('slow', (input, ctx) => {
          calls++;
          if (input === 'quick') return 'done';
          // As fetch does: an aborted request rejects with an AbortError.
          return new Promise((_, reject) => {
            ctx.signal.addEventListener(
              'abort',
              () => {
                aborted++;
                reject(new DOMException('This operation was aborted', 'AbortError'));
              },
              { once: true },
            );
          });
        }),
      ],
    };
    const host = await startHost(config, {
      failover: { retries: 0, circuit: { threshold: 2, halfOpenAfterMs: 60_000 } },
    });
    const states: string[] = [];
    host.events.on('circuit.changed', (e) => void states.push(`${e.agent}:${e.state}`));
    const tasks = host.resolve(TaskStoreToken);
    for (let i = 1; i <= 3; i++) {
      const { task } = await host
        .resolve(TaskQueueToken)
        .enqueue({ input: `long ${i}`, agent: 'slow' });
      await expect.poll(() => calls).toBe(i);
      await tasks.cancel(task.id, Date.now());
      await expect.poll(() => aborted).toBe(i);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(states).toEqual([]);
    const health = await host
      .resolve((await import('../contracts/health.js')).HealthRegistryToken)
      .run();
    expect(health.checks['failover:circuits']?.status).toBe('pass');
    expect(await runTask(host, 'quick', 'slow')).toMatchObject({ result: 'done' });
  });

  it('runs cut short by a stop do not open the circuit the next start finds', async () => {
    let started = 0;
    let hanging = true;
    const config: HostConfig = {
      runner: { concurrency: 3 },
      agents: [
        agent('slow', (input, ctx) => {
          started++;
          if (input === 'quick' || !hanging) return 'done';
          return new Promise((_, reject) => {
            ctx.signal.addEventListener(
              'abort',
              () => reject(new DOMException('This operation was aborted', 'AbortError')),
              { once: true },
            );
          });
        }),
      ],
    };
    const options: FailoverPluginOptions = {
      failover: { retries: 0, circuit: { threshold: 2, halfOpenAfterMs: 60_000 } },
    };
    let host = await startHost({ ...config, timeouts: { drainMs: 100 } }, options);
    for (let i = 1; i <= 3; i++) {
      await host.resolve(TaskQueueToken).enqueue({ input: `long ${i}`, agent: 'slow' });
    }
    await expect.poll(() => started).toBe(3);
    await host.stop('restart');
    // The provider answers again: the interrupted tasks run at the next start, and finish.
    hanging = false;
    hosts.length = 0;
    host = await startHost(config, options);
    const saved = await savedCircuits(host.resolve(StateStoreToken), { halfOpenAfterMs: 60_000 });
    expect(saved.slow ?? 'closed').toBe('closed');
    expect(await runTask(host, 'quick', 'slow')).toMatchObject({ result: 'done' });
  });
});
