import { describe, expect, it } from 'vitest';
import type { Agent } from '../contracts/agent.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { SchedulerToken } from '../contracts/scheduler.js';
import { type Task, TaskStoreToken } from '../contracts/task.js';
import type { EventBus } from '../kernel/events.js';
import type { Host } from '../kernel/host.js';
import type { Plugin } from '../kernel/plugin.js';
import { createHost, type HostConfig } from '../preset/host.js';
import { agent } from '../runtime/function-agent.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';
import { DefaultScheduler } from './scheduler.js';
import { scheduler } from './scheduler-plugin.js';
import type { ScheduleConfig, SchedulerConfig } from './schema.js';

const HOUR = 3_600_000;
const t = (iso: string) => Date.parse(iso);

const { hosts, store } = useTestHosts();

const ran: string[] = [];
const agents: Agent[] = [
  agent('worker', (input) => void ran.push(String(input))),
  agent('cheap', (input) => void ran.push(`cheap:${String(input)}`)),
];

function makeHost(
  clock: ManualClock,
  schedulerConfig: SchedulerConfig,
  extra: Partial<HostConfig> = {},
): Host {
  const host = createHost({
    logger: memoryLogger().logger,
    clock,
    agents,
    // No polling timers to step through while the manual clock jumps hours.
    runner: { pollMs: HOUR, recoverEveryMs: HOUR },
    ...extra,
    plugins: [
      memoryStore({ store: store() }),
      scheduler({ timezone: 'UTC', ...schedulerConfig }),
      ...(extra.plugins ?? []),
    ],
  });
  hosts.push(host);
  return host;
}

/** Subscribes in register: the host's event bus is created by start(), so earlier subscriptions would be lost. */
function probe(subscribe: (events: EventBus) => void): Plugin {
  return {
    name: `probe-${Math.random().toString(36).slice(2)}`,
    register: (ctx) => subscribe(ctx.events),
  };
}

async function settle(host: Host): Promise<void> {
  const scheduler = host.resolve(SchedulerToken);
  if (scheduler instanceof DefaultScheduler) await scheduler.settled();
}

async function startHost(
  clock: ManualClock,
  schedulerConfig: SchedulerConfig,
  extra?: Partial<HostConfig>,
): Promise<Host> {
  const host = makeHost(clock, schedulerConfig, extra);
  await host.start();
  await settle(host);
  return host;
}

async function scheduled(host: Host, name: string): Promise<Task[]> {
  const tasks = await host
    .resolve(TaskStoreToken)
    .list({ type: 'schedule', order: 'oldest', limit: 1000 });
  return tasks.filter((task) => task.metadata.schedule === name);
}

const slots = (tasks: Task[]) => tasks.map((task) => task.metadata.slot);

const hourlyHealth = (missed: ScheduleConfig['missed']): ScheduleConfig => ({
  name: 'hourly-health',
  cron: '0 * * * *',
  task: { agent: 'worker', input: 'check health' },
  missed,
});

describe('scheduler plugin in a host', () => {
  for (const [missed, expected] of [
    ['skip', ['10:00']],
    ['latest', ['10:00', '13:00']],
    ['all', ['10:00', '11:00', '12:00', '13:00']],
  ] as const) {
    it(`host down 3 h over an hourly job, ${missed}: fires ${expected.length - 1} old slot(s), each once across two restarts during catch-up`, async () => {
      const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
      const config = { schedules: [hourlyHealth(missed)] };
      const first = await startHost(clock, config);
      await clock.advanceTo(t('2026-01-01T10:30:00Z'));
      await settle(first);
      await first.stop('deploy');
      await clock.advanceTo(t('2026-01-01T13:30:00Z'));

      // Two restarts while catch-up is under way: stop as soon as the host is ready.
      for (let i = 0; i < 2; i++) {
        const h = makeHost(clock, config);
        await h.start();
        await h.stop('restart');
        await clock.advance(1000);
      }
      const last = await startHost(clock, config);
      const tasks = await scheduled(last, 'hourly-health');
      expect(slots(tasks)).toEqual(expected.map((hhmm) => `2026-01-01T${hhmm}:00.000Z`));
      const status = (await last.resolve(SchedulerToken).list())[0]!;
      expect(status.missedTotal).toBe(4 - expected.length);
      expect(status.lastSlot).toBe(t(`2026-01-01T${expected.at(-1)}:00Z`));
    });
  }

  it('runs the fired tasks and emits schedule.fired and schedule.missed', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const config = { schedules: [hourlyHealth('latest')] };
    const first = await startHost(clock, config);
    await first.stop();
    await clock.advanceTo(t('2026-01-01T12:30:00Z'));
    const fired: unknown[] = [];
    const missed: unknown[] = [];
    let completed!: Promise<{ task: Task }>;
    const host = makeHost(clock, config, {
      plugins: [
        probe((events) => {
          events.on('schedule.fired', (e) => void fired.push(e));
          events.on('schedule.missed', (e) => void missed.push(e));
          completed = events.next('task.completed');
        }),
      ],
    });
    ran.length = 0;
    await host.start();
    await settle(host);
    expect((await completed).task).toMatchObject({ type: 'schedule', status: 'completed' });
    expect(ran).toEqual(['check health']);
    expect(fired).toEqual([
      expect.objectContaining({
        schedule: 'hourly-health',
        slot: t('2026-01-01T12:00:00Z'),
        late: true,
      }),
    ]);
    expect(missed).toEqual([
      expect.objectContaining({
        reason: 'downtime',
        slots: [t('2026-01-01T10:00:00Z'), t('2026-01-01T11:00:00Z')],
      }),
    ]);
  });

  it('two hosts on one store fire each slot once', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const config = { schedules: [hourlyHealth({ policy: 'all', windowMs: 24 * HOUR })] };
    const a = await startHost(clock, config);
    const b = await startHost(clock, config);
    const fires: number[] = [];
    for (const h of [a, b]) h.events.on('schedule.fired', (e) => void fires.push(e.slot));
    await clock.advanceTo(t('2026-01-01T14:00:00Z'));
    await Promise.all([settle(a), settle(b)]);
    const expected = ['10', '11', '12', '13', '14'].map((hh) => `2026-01-01T${hh}:00:00.000Z`);
    expect(slots(await scheduled(a, 'hourly-health'))).toEqual(expected);
    expect(fires.sort().map((s) => new Date(s).toISOString())).toEqual(expected);
  });

  it('fires nothing before every plugin has started (the readiness barrier)', async () => {
    const clock = new ManualClock(t('2026-01-01T10:00:00Z'));
    let release!: () => void;
    const slow: Plugin = {
      name: 'slow-channel',
      start: () =>
        new Promise<void>((r) => {
          release = r;
        }),
    };
    const fired: number[] = [];
    const host = makeHost(
      clock,
      { schedules: [hourlyHealth('latest')] },
      {
        plugins: [
          slow,
          probe((events) => events.on('schedule.fired', (e) => void fired.push(e.slot))),
        ],
      },
    );
    const starting = host.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toEqual([]);
    release();
    await starting;
    await settle(host);
    expect(fired).toEqual([t('2026-01-01T10:00:00Z')]);
  });

  it('the heartbeat wakes the runner, emits heartbeat and enqueues its task with its own agent', async () => {
    const clock = new ManualClock(t('2026-01-01T10:00:30Z'));
    const host = await startHost(clock, {
      heartbeat: {
        everyMs: '30s',
        task: { agent: 'cheap', input: 'anything to do?', everyMs: '10m' },
      },
    });
    const beats: number[] = [];
    host.events.on('heartbeat', ({ at }) => void beats.push(at));
    // A task enqueued behind the runner's back (another process) is picked up at the next beat,
    // long before the runner's hourly poll.
    ran.length = 0;
    await host
      .resolve(TaskStoreToken)
      .enqueue({ input: 'from elsewhere', agent: 'worker' }, clock.now());
    await clock.advance(30_000);
    expect(beats).toEqual([t('2026-01-01T10:01:00Z')]);
    expect(ran).toEqual(['from elsewhere']);
    await clock.advanceTo(t('2026-01-01T10:20:00Z'));
    await settle(host);
    const beatsTasks = await host
      .resolve(TaskStoreToken)
      .list({ type: 'heartbeat', order: 'oldest' });
    expect(beatsTasks.map((x) => [x.agent, x.metadata.slot])).toEqual([
      ['cheap', '2026-01-01T10:10:00.000Z'],
      ['cheap', '2026-01-01T10:20:00.000Z'],
    ]);
    expect(ran.filter((r) => r.startsWith('cheap:'))).toHaveLength(2);
  });

  it('enqueues config reminders once, across restarts', async () => {
    const clock = new ManualClock(t('2026-07-01T10:00:00Z'));
    const config: SchedulerConfig = {
      timezone: 'Europe/Berlin',
      reminders: [
        { name: 'tax', at: '2026-07-31T09:00', task: { agent: 'worker', input: 'file taxes' } },
      ],
    };
    const a = await startHost(clock, config);
    await a.stop();
    const b = await startHost(clock, config);
    const reminders = await b.resolve(TaskStoreToken).list({ type: 'reminder' });
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ runAt: t('2026-07-31T07:00:00Z'), status: 'pending' });
  });

  it('fails the host start when a schedule names an unknown agent', async () => {
    const clock = new ManualClock();
    const host = makeHost(clock, {
      schedules: [{ name: 'report', cron: '0 8 * * *', task: { agent: 'writter', input: 'x' } }],
    });
    await expect(host.start()).rejects.toThrow(
      /plugin "scheduler" failed to start: schedule "report" names agent "writter", which is not an agent of this host/,
    );
  });

  it('fails the config check for a bad cron expression, before anything starts', async () => {
    const host = makeHost(new ManualClock(), {
      schedules: [{ name: 'report', cron: '0 8 * * * * * *', task: { input: 'x' } }],
    });
    await expect(host.start()).rejects.toMatchObject({
      issues: [
        expect.stringMatching(/^plugins\[1\]\.schedules\[0\]\.cron: invalid cron expression/),
      ],
    });
  });

  it('reports a pass health check', async () => {
    const host = await startHost(new ManualClock(), { schedules: [hourlyHealth('latest')] });
    const report = await host.resolve(HealthRegistryToken).run();
    expect(report.checks.scheduler).toEqual({ status: 'pass' });
  });
});
