import { describe, expect, it } from 'vitest';
import type { Agent } from '../contracts/agent.js';
import { type Channel, ChannelRegistryToken, type OutboundMessage } from '../contracts/channel.js';
import type { Alert } from '../contracts/notifier.js';
import type { Task } from '../contracts/task.js';
import { TaskQueueToken, type TaskStore, TaskStoreToken } from '../contracts/task.js';
import type { Host } from '../kernel/host.js';
import type { Plugin } from '../kernel/plugin.js';
import { createHost, type HostConfig } from '../preset/host.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { agent } from './function-agent.js';
import { REPLY_ATTEMPTS } from './reply-outbox.js';

const { hosts, store: testStore } = useTestHosts();

async function startHost(config: HostConfig): Promise<Host> {
  const host = createHost({
    logger: memoryLogger().logger,
    ...config,
    plugins: [memoryStore({ store: testStore() }), ...(config.plugins ?? [])],
  });
  hosts.push(host);
  await host.start();
  return host;
}

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A plugin adding a channel named `chat` whose sends go to `send`. */
const chatChannel = (send: Channel['send'], name = 'fake-chat'): Plugin => ({
  name,
  register: (ctx) => ctx.resolve(ChannelRegistryToken).add({ name: 'chat', send }),
});

describe('task runner', () => {
  it('runs an enqueued task at once (no polling delay) and emits its transitions', async () => {
    const host = await startHost({
      agents: [agent('upper', (input) => String(input).toUpperCase())],
      runner: { pollMs: 60_000 },
    });
    const events: string[] = [];
    for (const e of ['task.enqueued', 'task.started', 'task.completed'] as const)
      host.events.on(e, () => void events.push(e));
    const completed = host.events.next('task.completed');
    const { task, created } = await host.resolve(TaskQueueToken).enqueue({ input: 'hello' });
    expect(created).toBe(true);
    expect(task).toMatchObject({ status: 'pending', agent: 'upper', attempts: 0 });
    const done = await completed;
    expect(done.task).toMatchObject({ id: task.id, status: 'completed', result: 'HELLO' });
    expect(events).toEqual(['task.enqueued', 'task.started', 'task.completed']);
    expect(await host.resolve(TaskStoreToken).get(task.id)).toMatchObject({
      status: 'completed',
      result: 'HELLO',
      attempts: 1,
    });
  });

  it('claims nothing before every plugin has started (the readiness barrier)', async () => {
    const order: string[] = [];
    let release!: () => void;
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('a', () => void order.push('task ran'))],
      plugins: [
        memoryStore(),
        {
          name: 'early-bird',
          dependsOn: [TaskQueueToken],
          start: async (ctx) => {
            await ctx.resolve(TaskQueueToken).enqueue({ input: 'x' });
            order.push('enqueued during start');
          },
        },
        { name: 'slow', start: () => new Promise<void>((r) => (release = r)) },
      ],
    });
    hosts.push(host);
    const started = host.start();
    await until(() => order.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['enqueued during start']);
    order.push('last plugin started');
    release();
    await started;
    await until(() => order.length === 3);
    expect(order).toEqual(['enqueued during start', 'last plugin started', 'task ran']);
  });

  it('refuses an unknown agent at enqueue, and fails a stored task whose agent is gone', async () => {
    const host = await startHost({ agents: [agent('known', () => 'ok')] });
    await expect(
      host.resolve(TaskQueueToken).enqueue({ input: 'x', agent: 'nope' }),
    ).rejects.toThrow('unknown agent "nope" (known: known)');
    const failed = host.events.next('task.failed');
    const { task } = await host
      .resolve(TaskStoreToken)
      .enqueue({ input: 'x', agent: 'ghost' }, Date.now());
    host.resolve(TaskQueueToken); // the runner polls; an enqueue elsewhere is found on the next wake-up
    const event = await failed;
    expect(event.willRetry).toBe(false);
    expect(event.task).toMatchObject({
      id: task.id,
      status: 'failed',
      error: { name: 'UnknownAgent', message: 'no agent named "ghost" on this host' },
    });
  });

  it('retries with backoff, then succeeds', async () => {
    const clock = new ManualClock(Date.now());
    let calls = 0;
    const flaky = agent('flaky', () => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return 'finally';
    });
    const host = await startHost({
      clock,
      agents: [flaky],
      runner: { retry: { initialDelayMs: 1000, maxDelayMs: 10_000 } },
    });
    const failures: Task[] = [];
    host.events.on('task.failed', ({ task }) => void failures.push(task));
    const completed = host.events.next('task.completed');
    const { task } = await host.resolve(TaskQueueToken).enqueue({ input: 1, maxAttempts: 3 });
    await until(() => failures.length === 1);
    expect(failures[0]).toMatchObject({
      status: 'pending',
      attempts: 1,
      error: { name: 'Error', message: 'boom 1' },
    });
    expect(failures[0]!.runAt).toBeGreaterThan(clock.now());
    expect(calls).toBe(1);
    await clock.advance(20_000);
    await until(() => failures.length === 2);
    await clock.advance(20_000);
    expect((await completed).task).toMatchObject({ id: task.id, result: 'finally', attempts: 3 });
  });

  it('ends a poison task failed after maxAttempts, never looping', async () => {
    const clock = new ManualClock(Date.now());
    let calls = 0;
    const host = await startHost({
      clock,
      agents: [
        agent('poison', () => {
          calls++;
          throw new TypeError('always');
        }),
      ],
    });
    const final = new Promise<Task>((resolve) =>
      host.events.on('task.failed', ({ task, willRetry }) =>
        willRetry ? undefined : resolve(task),
      ),
    );
    await host.resolve(TaskQueueToken).enqueue({ input: null, maxAttempts: 4 });
    for (let i = 0; i < 10; i++) await clock.advance(10 * 60_000);
    const task = await final;
    expect(task).toMatchObject({
      status: 'failed',
      attempts: 4,
      maxAttempts: 4,
      error: { name: 'TypeError', message: 'always' },
    });
    await clock.advance(60 * 60_000);
    expect(calls).toBe(4);
  });

  it('cancels a running task through its AbortSignal, and a pending one before it runs', async () => {
    let sawAbort = false;
    const waiter: Agent = {
      name: 'waiter',
      run: (_input, ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(ctx.signal.reason);
          });
        }),
    };
    const host = await startHost({ agents: [waiter], runner: { concurrency: 1 } });
    const queue = host.resolve(TaskQueueToken);
    const started = host.events.next('task.started');
    const running = (await queue.enqueue({ input: 1 })).task;
    const pending = (await queue.enqueue({ input: 2 })).task;
    await started;
    expect((await queue.cancel(running.id))?.status).toBe('cancelled');
    expect((await queue.cancel(pending.id))?.status).toBe('cancelled');
    await until(() => sawAbort);
    const store = host.resolve(TaskStoreToken);
    expect((await store.get(running.id))?.status).toBe('cancelled');
    expect((await store.get(pending.id))?.attempts).toBe(0);
    expect(await queue.cancel(running.id)).toBeUndefined();
  });

  it('lets timers and I/O run while tasks that finish at once drain a deep queue', async () => {
    const total = 5000;
    let completed = 0;
    const host = await startHost({
      agents: [agent('noop', () => 'ok')],
      runner: { concurrency: 3, pollMs: 60_000 },
    });
    host.events.on('task.completed', () => void completed++);
    // A timer armed as the queue starts to drain, and the longest wait between ticks of another.
    let atTimer: number | undefined;
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      await host
        .resolve(TaskQueueToken)
        .enqueueMany(Array.from({ length: total }, (_, i) => ({ input: i })));
      last = performance.now();
      setTimeout(() => {
        atTimer = completed;
      }, 20);
      await until(() => completed === total, 60_000);
    } finally {
      clearInterval(ticker);
    }
    // The timer ran while tasks were still left: the runner did not hold the loop to the end.
    expect(atTimer).toBeDefined();
    expect(atTimer).toBeLessThan(total);
    // Loose for a loaded machine: held to the end, the gap is the whole drain (seconds).
    expect(longestGap).toBeLessThan(1000);
  });

  it('writes single enqueues made together in one batch, in order, each with its own result or error', async () => {
    // A held clock: enqueues on either side of a millisecond boundary are written as two
    // batches (one per `now`), which a wall clock crosses now and then.
    const host = await startHost({
      agents: [agent('upper', (input) => String(input).toUpperCase())],
      runner: { pollMs: 60_000 },
      clock: new ManualClock(Date.now()),
    });
    const store = host.resolve(TaskStoreToken);
    const batches: number[] = [];
    const enqueueMany = store.enqueueMany!.bind(store);
    store.enqueueMany = async (tasks, now) => {
      batches.push(tasks.length);
      return enqueueMany(tasks, now);
    };
    const queue = host.resolve(TaskQueueToken);
    const results = await Promise.all(
      ['a', 'b', 'c'].map((input) => queue.enqueue({ input, idempotencyKey: `k-${input}` })),
    );
    expect(batches).toEqual([3]);
    expect(results.map((r) => [r.task.input, r.created])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ]);
    // A bad task among good ones fails alone: the batch is written again one by one.
    const mixed = await Promise.allSettled([
      queue.enqueue({ input: 'd' }),
      queue.enqueue({ input: 'e', priority: 99 as never }),
      queue.enqueue({ input: 'a', idempotencyKey: 'k-a' }),
    ]);
    expect(mixed[0]).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(mixed[1]).toMatchObject({ status: 'rejected', reason: { code: 'E_INVALID_TASK' } });
    expect(mixed[2]).toMatchObject({
      status: 'fulfilled',
      value: { created: false, task: { id: results[0]!.task.id } },
    });
    await until(async () => (await store.counts()).completed === 4);
  });

  it('runs a task enqueued while every slot is busy as soon as one frees, not at the next poll', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const host = await startHost({
      agents: [
        agent('gated', async (input) => {
          if (input === 'first') await gate;
          return input;
        }),
      ],
      runner: { concurrency: 1, pollMs: 60_000 },
    });
    const queue = host.resolve(TaskQueueToken);
    const first = host.events.next('task.started');
    await queue.enqueue({ input: 'first' });
    await first;
    // Enqueued while the only slot is taken; the first task then ends.
    await queue.enqueue({ input: 'second' });
    const started = Date.now();
    release();
    await until(async () => (await host.resolve(TaskStoreToken).counts()).completed === 2, 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('never runs more than `concurrency` tasks at once, and runs one session key in order', async () => {
    let active = 0;
    let peak = 0;
    const log: string[] = [];
    const slow = agent('slow', async (input) => {
      active++;
      peak = Math.max(peak, active);
      log.push(`start ${input}`);
      await new Promise((r) => setTimeout(r, 10));
      log.push(`end ${input}`);
      active--;
      return input;
    });
    const host = await startHost({ agents: [slow], runner: { concurrency: 3 } });
    const queue = host.resolve(TaskQueueToken);
    await queue.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ input: `free-${i}` })));
    await queue.enqueueMany(
      ['s1', 's2', 's3', 's4'].map((input) => ({ input, sessionKey: 'telegram:42' })),
    );
    await until(async () => (await host.resolve(TaskStoreToken).counts()).completed === 16);
    expect(peak).toBe(3);
    const session = log.filter((l) => / s\d$/.test(l));
    expect(session).toEqual([
      'start s1',
      'end s1',
      'start s2',
      'end s2',
      'start s3',
      'end s3',
      'start s4',
      'end s4',
    ]);
  });

  it('sends the result back to the channel the task came from, as a first attempt', async () => {
    const sent: { to: string; message: OutboundMessage; key?: string; first?: boolean }[] = [];
    const host = await startHost({
      agents: [agent('echo', (input) => `you said: ${input}`)],
      plugins: [
        chatChannel(async (to, message, options) => {
          sent.push({
            to: to.id,
            message,
            key: options?.idempotencyKey,
            first: options?.firstAttempt,
          });
          return { ids: ['1'] };
        }),
      ],
    });
    const { task } = await host
      .resolve(TaskQueueToken)
      .enqueue({ input: 'hi', replyTo: { channel: 'chat', id: '777' } });
    await until(() => sent.length === 1);
    expect(sent[0]).toEqual({
      to: '777',
      message: { text: 'you said: hi' },
      key: `task:${task.id}:completed`,
      // Nothing of it can have been delivered yet: the channel need not look for earlier parts.
      first: true,
    });
  });

  it('retries a reply the channel refused until it is delivered, once', async () => {
    const clock = new ManualClock(Date.now());
    const sent: string[] = [];
    let refusals = 2;
    const host = await startHost({
      clock,
      agents: [agent('echo', (input) => `you said: ${input}`)],
      plugins: [
        chatChannel(async (_to, message) => {
          if (refusals-- > 0) throw new Error('chat API unavailable');
          sent.push(message.text ?? '');
          return { ids: ['1'] };
        }, 'flaky-chat'),
      ],
    });
    const { task } = await host
      .resolve(TaskQueueToken)
      .enqueue({ input: 'hi', replyTo: { channel: 'chat', id: '777' } });
    const store = host.resolve(TaskStoreToken);
    await until(async () => (await store.get(task.id))?.status === 'completed');
    // Each recovery tick (15 s) sweeps the replies that are due; backoff starts at 5 s.
    for (let i = 0; i < 40 && sent.length === 0; i++) await clock.advance(15_000);
    expect(sent).toEqual(['you said: hi']);
    for (let i = 0; i < 10; i++) await clock.advance(15 * 60_000);
    expect(sent).toEqual(['you said: hi']);
    expect(await store.claimReplies({ now: clock.now() + 86_400_000, leaseMs: 1 })).toEqual([]);
  });

  it('batches claims and completions, never holding more than `concurrency` tasks running', async () => {
    let store: TaskStore | undefined;
    const runningSeen: number[] = [];
    const host = await startHost({
      agents: [
        agent('count', async (input) => {
          runningSeen.push((await store!.counts()).running);
          return input;
        }),
      ],
      runner: { concurrency: 4, batchSize: 4, pollMs: 60_000 },
    });
    store = host.resolve(TaskStoreToken);
    const queue = host.resolve(TaskQueueToken);
    const results = await queue.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ input: i })));
    await until(async () => (await store!.counts()).completed === 40);
    expect(runningSeen).toHaveLength(40);
    // Finished tasks waiting for the next batch write still count: the store never holds more.
    expect(Math.max(...runningSeen)).toBeLessThanOrEqual(4);
    for (const { task } of results) {
      expect(await store.get(task.id)).toMatchObject({ status: 'completed', result: task.input });
    }
  });

  it('gives a reply up after its last attempt and raises an alert', async () => {
    const clock = new ManualClock(Date.now());
    let tries = 0;
    const host = await startHost({
      clock,
      agents: [agent('echo', (input) => `you said: ${input}`)],
      plugins: [
        chatChannel(async () => {
          tries++;
          throw new Error('chat API unavailable');
        }, 'dead-chat'),
      ],
    });
    const alerts: Alert[] = [];
    host.events.on('alert', (alert) => void alerts.push(alert));
    const { task } = await host
      .resolve(TaskQueueToken)
      .enqueue({ input: 'hi', replyTo: { channel: 'chat', id: '777' } });
    const store = host.resolve(TaskStoreToken);
    await until(async () => (await store.get(task.id))?.status === 'completed');
    for (let i = 0; i < 60 && alerts.length === 0; i++) await clock.advance(5 * 60_000);
    expect(tries).toBe(REPLY_ATTEMPTS);
    expect(alerts).toEqual([
      expect.objectContaining({
        severity: 'error',
        source: 'runner',
        title: 'Task results could not be delivered to chat',
        message: expect.stringContaining(
          `task ${task.id} after ${REPLY_ATTEMPTS} attempts (last error: chat API unavailable)`,
        ),
      }),
    ]);
    // Given up means no longer owed: nothing more is tried.
    expect(await store.claimReplies({ now: clock.now() + 86_400_000, leaseMs: 1 })).toEqual([]);
    await clock.advance(60 * 60_000);
    expect(tries).toBe(REPLY_ATTEMPTS);
  });

  it('sends at start the replies a crash left owed', async () => {
    const crashed = testStore();
    const then = Date.now() - 10 * 60_000;
    const { task } = await crashed.tasks.enqueue(
      { input: 'x', agent: 'a', replyTo: { channel: 'chat', id: '9' } },
      then,
    );
    await crashed.tasks.claim({ owner: 'dead-host', leaseMs: 60_000, now: then });
    // The task ended and its reply became owed; the host died before sending it.
    await crashed.tasks.complete(task.id, 'dead-host', 'the answer', then + 1);
    const sent: { to: string; text?: string; key?: string; first?: boolean }[] = [];
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('a', () => 'unused')],
      plugins: [
        memoryStore({ store: crashed }),
        chatChannel(async (to, message, options) => {
          sent.push({
            to: to.id,
            text: message.text,
            key: options?.idempotencyKey,
            first: options?.firstAttempt,
          });
          return { ids: ['1'] };
        }),
      ],
    });
    hosts.push(host);
    await host.start();
    await until(() => sent.length === 1);
    // Taken up by the sweep: the dead host may have delivered some of it, so not a first attempt.
    expect(sent).toEqual([
      { to: '9', text: 'the answer', key: `task:${task.id}:completed`, first: undefined },
    ]);
    await until(
      async () =>
        (
          await host
            .resolve(TaskStoreToken)
            .claimReplies({ now: Date.now() + 86_400_000, leaseMs: 1 })
        ).length === 0,
    );
  });

  it('recovers tasks whose lease expired (a crashed host) at start', async () => {
    const crashed = testStore();
    const then = Date.now() - 1000;
    const { task } = await crashed.tasks.enqueue({ input: 'orphan', agent: 'a' }, then);
    const [claimed] = await crashed.tasks.claim({ owner: 'dead-host', leaseMs: 1, now: then });
    expect(claimed?.status).toBe('running');
    const host = await startHost({ agents: [agent('a', (i) => `recovered ${i}`)] });
    await until(
      async () => (await host.resolve(TaskStoreToken).get(task.id))?.status === 'completed',
    );
    expect(await host.resolve(TaskStoreToken).get(task.id)).toMatchObject({
      attempts: 2,
      result: 'recovered orphan',
    });
  });

  it('renews the lease while a task runs, so recovery never takes it from a live runner', async () => {
    const clock = new ManualClock(Date.now());
    let finish: (value: string) => void = () => {};
    const host = await startHost({
      clock,
      agents: [agent('slow', () => new Promise<string>((resolve) => (finish = resolve)))],
      runner: { leaseMs: 3000, recoverEveryMs: 1000, taskTimeoutMs: 600_000 },
    });
    const started = host.events.next('task.started');
    const { task } = await host.resolve(TaskQueueToken).enqueue({ input: 1 });
    await started;
    const store = host.resolve(TaskStoreToken);
    // Ten lease lengths pass; recovery runs every second of them.
    for (let i = 0; i < 60; i++) await clock.advance(500);
    const running = await store.get(task.id);
    expect(running).toMatchObject({ status: 'running', attempts: 1 });
    expect(running?.leaseExpiresAt).toBeGreaterThan(clock.now());
    const completed = host.events.next('task.completed');
    finish('done');
    expect((await completed).task).toMatchObject({ id: task.id, result: 'done', attempts: 1 });
  });

  it('aborts a run at its next lease renewal when another process cancelled the task', async () => {
    const clock = new ManualClock(Date.now());
    let aborted = false;
    const host = await startHost({
      clock,
      agents: [
        agent(
          'waits',
          (_input, ctx) =>
            new Promise((_resolve, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = true;
                reject(ctx.signal.reason);
              });
            }),
        ),
      ],
      runner: { leaseMs: 3000 },
    });
    const started = host.events.next('task.started');
    const { task } = await host.resolve(TaskQueueToken).enqueue({ input: 1 });
    await started;
    // The CLI (`agentd cancel`) writes to the store directly, not through this host.
    expect((await testStore().tasks.cancel(task.id, clock.now()))?.status).toBe('cancelled');
    expect(aborted).toBe(false);
    for (let i = 0; i < 4 && !aborted; i++) await clock.advance(500);
    await until(() => aborted);
    // The cancellation stands: the aborted run records neither a failure nor a retry.
    await clock.advance(5000);
    expect(await host.resolve(TaskStoreToken).get(task.id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
    });
  });

  it('times out an agent that ignores its signal', async () => {
    const host = await startHost({
      agents: [{ name: 'hang', run: () => new Promise(() => {}) }],
      runner: { taskTimeoutMs: 50 },
    });
    const failed = host.events.next('task.failed');
    await host.resolve(TaskQueueToken).enqueue({ input: 1, maxAttempts: 1 });
    expect((await failed).task.error).toEqual({
      name: 'TimeoutError',
      message: 'the agent did not finish within 50 ms',
    });
  });

  it('times each run out at its own deadline, runs that finished in time untouched', async () => {
    const clock = new ManualClock(Date.now());
    const finish = new Map<number, (v: string) => void>();
    const host = await startHost({
      clock,
      agents: [
        agent('wait', (input) => new Promise<string>((r) => finish.set(input as number, r))),
      ],
      runner: { taskTimeoutMs: 1000, concurrency: 5, pollMs: 60_000 },
    });
    const failed: string[] = [];
    const completed: string[] = [];
    host.events.on('task.failed', ({ task }) => void failed.push(String(task.input)));
    host.events.on('task.completed', ({ task }) => void completed.push(String(task.input)));
    const queue = host.resolve(TaskQueueToken);
    // Runs start at 0, 400 and 800 ms; the first finishes in time, at 900 ms.
    await queue.enqueue({ input: 1, agent: 'wait', maxAttempts: 1 });
    await until(() => finish.has(1));
    await clock.advance(400);
    await queue.enqueue({ input: 2, agent: 'wait', maxAttempts: 1 });
    await until(() => finish.has(2));
    await clock.advance(400);
    await queue.enqueue({ input: 3, agent: 'wait', maxAttempts: 1 });
    await until(() => finish.has(3));
    await clock.advance(100);
    finish.get(1)?.('in time');
    await until(() => completed.length === 1);
    // 1,000 ms after the first start: nothing is overdue (the first ended in time).
    await clock.advance(100);
    expect(failed).toEqual([]);
    // 1,400 ms: the second run's deadline; 1,800 ms: the third's.
    await clock.advance(400);
    await until(() => failed.length === 1);
    expect(failed).toEqual(['2']);
    await clock.advance(399);
    expect(failed).toEqual(['2']);
    await clock.advance(1);
    await until(() => failed.length === 2);
    expect(failed).toEqual(['2', '3']);
    expect(completed).toEqual(['1']);
    // A run started later still gets its own full second.
    await queue.enqueue({ input: 4, agent: 'wait', maxAttempts: 1 });
    await until(() => finish.has(4));
    await clock.advance(999);
    expect(failed).toEqual(['2', '3']);
    await clock.advance(1);
    await until(() => failed.length === 3);
    const task4 = (await testStore().tasks.list({ limit: 10 })).find((t) => t.input === 4);
    expect(task4?.error).toEqual({
      name: 'TimeoutError',
      message: 'the agent did not finish within 1000 ms',
    });
  });

  it('hands back what a claim in flight brings when the host begins to stop, never running it', async () => {
    const store = testStore().tasks;
    const claim = store.claim.bind(store);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let inFlight = false;
    store.claim = async (request) => {
      inFlight = true;
      await gate;
      return claim(request);
    };
    const ran: unknown[] = [];
    // Due a second ago, so the host's first claim finds it whenever that claim's clock reads.
    const { task } = await store.enqueue({ input: 1, agent: 'hang' }, Date.now() - 1000);
    const host = await startHost({
      agents: [
        agent('hang', (input) => {
          ran.push(input);
          return new Promise(() => {});
        }),
      ],
      runner: { pollMs: 60_000 },
    });
    await until(() => inFlight);
    const stopped = host.stop('test');
    await new Promise((r) => setTimeout(r, 20));
    release();
    expect((await stopped).ok).toBe(true);
    expect(ran).toEqual([]);
    expect(await store.get(task.id)).toMatchObject({
      status: 'pending',
      error: { name: 'Interrupted', message: 'the host stopped while the task ran' },
    });
  });

  it('lets running tasks finish during the drain; past the deadline hands them back to the queue', async () => {
    const finishing = await startHost({
      agents: [agent('short', () => new Promise((r) => setTimeout(() => r('done'), 100)))],
    });
    const started = finishing.events.next('task.started');
    const { task } = await finishing.resolve(TaskQueueToken).enqueue({ input: 1 });
    await started;
    expect((await finishing.stop('test')).ok).toBe(true);
    expect((await testStore().tasks.get(task.id))?.status).toBe('completed');

    const second = await testStore().tasks.enqueue({ input: 2, agent: 'long' }, Date.now());
    const { logger, lines } = memoryLogger();
    const slow = await startHost({
      logger,
      timeouts: { drainMs: 50 },
      agents: [
        agent(
          'long',
          (_i, ctx) =>
            new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
            ),
        ),
      ],
    });
    await until(
      async () => (await slow.resolve(TaskStoreToken).get(second.task.id))?.status === 'running',
    );
    const result = await slow.stop('test');
    expect(result.ok).toBe(false);
    expect(await testStore().tasks.get(second.task.id)).toMatchObject({
      status: 'pending',
      error: { name: 'Interrupted' },
    });
    // The operator is told what became of the run, not only that the deadline passed.
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 40,
        running: 1,
        msg: expect.stringContaining('handed back to the queue'),
      }),
    );
  });

  it('deletes finished tasks past their retention, keeping failed ones longer', async () => {
    const clock = new ManualClock(Date.now());
    const host = await startHost({
      clock,
      agents: [agent('ok', () => 'done'), agent('bad', () => Promise.reject(new Error('no')))],
      runner: { recoverEveryMs: 6 * 3_600_000, pollMs: 3_600_000 },
      sessions: false,
    });
    const store = host.resolve(TaskStoreToken);
    const queue = host.resolve(TaskQueueToken);
    const good = (await queue.enqueue({ input: 1, agent: 'ok' })).task;
    const bad = (await queue.enqueue({ input: 2, agent: 'bad', maxAttempts: 1 })).task;
    await until(
      async () => (await store.counts()).pending === 0 && (await store.counts()).running === 0,
    );
    await clock.advance(8 * 86_400_000);
    await until(async () => (await store.get(good.id)) === undefined);
    expect((await store.get(bad.id))?.status).toBe('failed');
    await clock.advance(23 * 86_400_000);
    await until(async () => (await store.get(bad.id)) === undefined);
  });
});
