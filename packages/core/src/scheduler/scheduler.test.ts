import { afterEach, describe, expect, it } from 'vitest';
import type { AgentdEvents } from '../contracts/events.js';
import type { ScheduleDefinition } from '../contracts/scheduler.js';
import type { StateStore } from '../contracts/state.js';
import type { Task, TaskQueue, TaskStore } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';
import { EventBus } from '../kernel/events.js';
import { DefaultAgentRegistry } from '../kernel/registries.js';
import { silentLogger } from '../logging/create-logger.js';
import { agent } from '../runtime/function-agent.js';
import { DefaultTaskQueue } from '../runtime/task-queue.js';
import { ManualClock } from '../testing/manual-clock.js';
import { type MemoryStore, openMemoryStore } from '../testing/memory-store.js';
import { cronSlots } from './cron.js';
import {
  DefaultScheduler,
  fireKey,
  SCHEDULER_NAMESPACE,
  type ScheduleState,
  scheduleStateKey,
} from './scheduler.js';
import { formatInZone } from './time-zone.js';

const HOUR = 3_600_000;
const t = (iso: string) => Date.parse(iso);

let shared: MemoryStore | undefined;
const running: DefaultScheduler[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  shared = undefined;
});

/** The store of the current test, which every "host" it boots shares, as they would a database file. */
function testStore(): MemoryStore {
  shared ??= openMemoryStore();
  return shared;
}

interface Harness {
  scheduler: DefaultScheduler;
  store: MemoryStore;
  events: EventBus;
  fired: AgentdEvents['schedule.fired'][];
  missed: AgentdEvents['schedule.missed'][];
}

interface HarnessOptions {
  clock: ManualClock;
  schedules: ScheduleDefinition[];
  timezone?: string;
  /** Wrap the services, e.g. to make them fail like a crash would. */
  wrapState?: (state: StateStore) => StateStore;
  wrapQueue?: (queue: TaskQueue) => TaskQueue;
  wrapTasks?: (tasks: TaskStore) => TaskStore;
}

/** One "host process": its own queue and scheduler, on the test's shared store. */
function boot(options: HarnessOptions): Harness {
  const store = testStore();
  const logger = silentLogger();
  const events = new EventBus(logger);
  const agents = new DefaultAgentRegistry();
  agents.add(agent('worker', () => 'ok'));
  agents.add(agent('cheap', () => 'ok'));
  const tasks = options.wrapTasks ? options.wrapTasks(store.tasks) : store.tasks;
  const queue = new DefaultTaskQueue(tasks, agents, events, options.clock, () => undefined);
  const scheduler = new DefaultScheduler(
    {
      state: options.wrapState ? options.wrapState(store.state) : store.state,
      queue: options.wrapQueue ? options.wrapQueue(queue) : queue,
      tasks: store.tasks,
      agents,
      events,
      logger,
      clock: options.clock,
    },
    { timezone: options.timezone ?? 'UTC' },
  );
  for (const s of options.schedules) scheduler.add(s);
  const fired: Harness['fired'] = [];
  const missed: Harness['missed'] = [];
  events.on('schedule.fired', (e) => void fired.push(e));
  events.on('schedule.missed', (e) => void missed.push(e));
  running.push(scheduler);
  return { scheduler, store, events, fired, missed };
}

async function start(h: Harness): Promise<Harness> {
  await h.scheduler.start();
  await h.scheduler.settled();
  return h;
}

/** Stops a "host" the way a crash or a restart leaves the store: nothing else is cleaned up. */
async function shutdown(h: Harness): Promise<void> {
  await h.scheduler.stop();
}

async function scheduleTasks(store: MemoryStore): Promise<Task[]> {
  return store.tasks.list({ type: 'schedule', order: 'oldest', limit: 10_000 });
}

const slotsOf = (tasks: Task[]) => tasks.map((task) => task.metadata.slot as string);

const hourly = (missed: ScheduleDefinition['missed']): ScheduleDefinition => ({
  name: 'hourly-health',
  cron: '0 * * * *',
  task: { agent: 'worker', input: 'check health' },
  missed,
  overlap: 'queue',
});

describe('firing on time', () => {
  it('fires each slot once with the key schedule:<name>:<slot>, and nothing before start', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const h = boot({ clock, schedules: [hourly('latest')] });
    await clock.advance(HOUR);
    expect(await scheduleTasks(h.store)).toEqual([]);
    await start(h);
    expect(await scheduleTasks(h.store)).toEqual([]); // first start: nothing was missed before it
    await clock.advanceTo(t('2026-01-01T12:00:00Z'));
    await h.scheduler.settled();
    const tasks = await scheduleTasks(h.store);
    expect(slotsOf(tasks)).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']);
    expect(tasks[0]).toMatchObject({
      idempotencyKey: fireKey('hourly-health', t('2026-01-01T11:00:00Z')),
      agent: 'worker',
      input: 'check health',
      sessionKey: 'schedule:hourly-health',
      metadata: { schedule: 'hourly-health', late: false },
    });
    expect(h.fired.map((f) => f.late)).toEqual([false, false]);
    expect(h.missed).toEqual([]);
  });

  it('wakes many schedules with one timer and writes the fires due together in one enqueueMany', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:30Z'));
    const writes: number[] = [];
    let stateWrites = 0;
    const h = boot({
      clock,
      wrapState: (state) => ({
        get: state.get.bind(state),
        set: state.set.bind(state),
        delete: state.delete.bind(state),
        list: state.list.bind(state),
        compareAndSet: (...args) => {
          stateWrites++;
          return state.compareAndSet(...args);
        },
      }),
      schedules: Array.from({ length: 30 }, (_, i) => ({
        name: `s${i}`,
        // 20 at the full hour, 10 at a quarter past.
        cron: i < 20 ? '0 * * * *' : '15 * * * *',
        task: { agent: 'worker', input: i },
        // No runner here: the previous fire stays pending, which 'skip' would skip.
        overlap: 'queue',
      })),
      wrapTasks: (tasks) =>
        new Proxy(tasks, {
          get(target, prop, receiver) {
            if (prop === 'enqueueMany') {
              return (batch: Parameters<NonNullable<TaskStore['enqueueMany']>>[0], now: number) => {
                writes.push(batch.length);
                return target.enqueueMany!(batch, now);
              };
            }
            if (prop === 'enqueue') {
              return (task: Parameters<TaskStore['enqueue']>[0], now: number) => {
                writes.push(1);
                return target.enqueue(task, now);
              };
            }
            return Reflect.get(target, prop, receiver);
          },
        }),
    });
    await start(h);
    expect(clock.pending).toBe(1);
    expect(stateWrites).toBe(30); // each schedule's first progress
    await clock.advanceTo(t('2026-01-01T10:00:00Z'));
    await h.scheduler.settled();
    expect(writes).toEqual([20]);
    expect(clock.pending).toBe(1);
    await clock.advanceTo(t('2026-01-01T11:00:00Z'));
    await h.scheduler.settled();
    expect(writes).toEqual([20, 10, 20]);
    expect((await scheduleTasks(h.store)).length).toBe(50);
    expect(h.fired.length).toBe(50);
    // One progress write per fire: the decision; the next decision clears the enqueued fires.
    expect(stateWrites).toBe(30 + 50);
  });

  it('fires a slot due exactly at the first start', async () => {
    const clock = new ManualClock(t('2026-01-01T10:00:00Z'));
    const h = await start(boot({ clock, schedules: [hourly('skip')] }));
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T10:00:00.000Z']);
  });
});

describe('catch-up after the host was down 3 h over an hourly job', () => {
  // Up 09:30-10:30 (fires 10:00), down until 13:30: 11:00, 12:00 and 13:00 are missed.
  async function downtime(missed: ScheduleDefinition['missed']) {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const first = await start(boot({ clock, schedules: [hourly(missed)] }));
    await clock.advanceTo(t('2026-01-01T10:30:00Z'));
    await first.scheduler.settled();
    await shutdown(first);
    await clock.advanceTo(t('2026-01-01T13:30:00Z'));
    return { clock };
  }

  it('skip: fires nothing old; the three slots are recorded as missed (event and status)', async () => {
    const { clock } = await downtime('skip');
    const h = await start(boot({ clock, schedules: [hourly('skip')] }));
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(h.missed).toEqual([
      {
        schedule: 'hourly-health',
        reason: 'downtime',
        slots: [t('2026-01-01T11:00:00Z'), t('2026-01-01T12:00:00Z'), t('2026-01-01T13:00:00Z')],
        count: 3,
        caughtUp: [],
      },
    ]);
    const [status] = await h.scheduler.list();
    expect(status).toMatchObject({
      name: 'hourly-health',
      expression: '0 * * * *',
      timezone: 'UTC',
      lastSlot: t('2026-01-01T10:00:00Z'),
      nextRunAt: t('2026-01-01T14:00:00Z'),
      missedSlots: [
        t('2026-01-01T11:00:00Z'),
        t('2026-01-01T12:00:00Z'),
        t('2026-01-01T13:00:00Z'),
      ],
      missedTotal: 3,
    });
  });

  it('latest: fires once (the 13:00 slot, late); 11:00 and 12:00 are recorded as missed', async () => {
    const { clock } = await downtime('latest');
    const h = await start(boot({ clock, schedules: [hourly('latest')] }));
    const tasks = await scheduleTasks(h.store);
    expect(slotsOf(tasks)).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T13:00:00.000Z']);
    expect(tasks[1]!.metadata.late).toBe(true);
    expect(h.fired).toEqual([
      expect.objectContaining({ slot: t('2026-01-01T13:00:00Z'), late: true }),
    ]);
    expect(h.missed).toEqual([
      expect.objectContaining({
        slots: [t('2026-01-01T11:00:00Z'), t('2026-01-01T12:00:00Z')],
        caughtUp: [t('2026-01-01T13:00:00Z')],
      }),
    ]);
  });

  it('all: fires three times, oldest first; the late slots are still reported', async () => {
    const policy = { policy: 'all', windowMs: 24 * HOUR } as const;
    const { clock } = await downtime(policy);
    const h = await start(boot({ clock, schedules: [hourly(policy)] }));
    expect(slotsOf(await scheduleTasks(h.store))).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
      '2026-01-01T13:00:00.000Z',
    ]);
    expect(h.missed).toEqual([
      expect.objectContaining({
        slots: [],
        count: 0,
        caughtUp: [t('2026-01-01T11:00:00Z'), t('2026-01-01T12:00:00Z'), t('2026-01-01T13:00:00Z')],
      }),
    ]);
    // The next slot fires on time afterwards, once.
    await clock.advanceTo(t('2026-01-01T14:00:00Z'));
    await h.scheduler.settled();
    expect(await scheduleTasks(h.store)).toHaveLength(5);
  });

  for (const missed of ['skip', 'latest', { policy: 'all', windowMs: 24 * HOUR }] as const) {
    const expected = missed === 'skip' ? 1 : missed === 'latest' ? 2 : 4;
    it(`${typeof missed === 'string' ? missed : 'all'}: each slot exactly once when the host crashes twice during catch-up`, async () => {
      const { clock } = await downtime(missed);
      const crash = () => {
        throw new Error('simulated crash');
      };
      // Crash 1: after deciding the slots (pending stored), before any task is enqueued.
      const a = boot({
        clock,
        schedules: [hourly(missed)],
        wrapQueue: (q) => ({ ...q, enqueue: crash, enqueueMany: crash, cancel: q.cancel.bind(q) }),
      });
      await start(a);
      await shutdown(a);
      await clock.advance(60_000);
      // Crash 2: after enqueueing, before clearing the pending fires.
      let cas = 0;
      const b = boot({
        clock,
        schedules: [hourly(missed)],
        wrapState: (s) => ({
          get: s.get.bind(s),
          set: s.set.bind(s),
          delete: s.delete.bind(s),
          list: s.list.bind(s),
          compareAndSet: (...args) => (++cas >= 2 ? crash() : s.compareAndSet(...args)),
        }),
      });
      await start(b);
      await shutdown(b);
      await clock.advance(60_000);
      // A clean restart finishes what is pending and decides nothing twice.
      const c = await start(boot({ clock, schedules: [hourly(missed)] }));
      const tasks = await scheduleTasks(c.store);
      expect(tasks).toHaveLength(expected);
      expect(new Set(slotsOf(tasks)).size).toBe(expected);
      const state = await c.store.state.get<ScheduleState>(
        SCHEDULER_NAMESPACE,
        scheduleStateKey('hourly-health'),
      );
      expect(state).toMatchObject({ cursor: t('2026-01-01T13:00:00Z') });
      // Fires still listed as pending are the ones this host enqueued last, not lost ones.
      const enqueued = new Set(slotsOf(tasks));
      for (const p of state!.pending) expect(enqueued).toContain(new Date(p.slot).toISOString());
      expect(state!.missedTotal).toBe(missed === 'skip' ? 3 : missed === 'latest' ? 2 : 0);
      // And restarting again changes nothing.
      await shutdown(c);
      const d = await start(boot({ clock, schedules: [hourly(missed)] }));
      expect(await scheduleTasks(d.store)).toHaveLength(expected);
    });
  }

  it('records slots beyond the all window as missed', async () => {
    const policy = { policy: 'all', windowMs: 2 * HOUR } as const;
    const { clock } = await downtime(policy);
    const h = await start(boot({ clock, schedules: [hourly(policy)] }));
    expect(slotsOf(await scheduleTasks(h.store))).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
      '2026-01-01T13:00:00.000Z',
    ]);
    expect((await h.scheduler.list())[0]!.missedSlots).toEqual([t('2026-01-01T11:00:00Z')]);
  });
});

describe('several hosts on one store', () => {
  it('fires each slot once, whoever wins, on time and in catch-up', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const policy = { policy: 'all', windowMs: 24 * HOUR } as const;
    const hosts = [
      boot({ clock, schedules: [hourly(policy)] }),
      boot({ clock, schedules: [hourly(policy)] }),
      boot({ clock, schedules: [hourly(policy)] }),
    ];
    await Promise.all(hosts.map((h) => h.scheduler.start()));
    await clock.advanceTo(t('2026-01-01T15:00:00Z'));
    await Promise.all(hosts.map((h) => h.scheduler.settled()));
    const tasks = await scheduleTasks(hosts[0]!.store);
    const expected = ['10', '11', '12', '13', '14', '15'].map(
      (hh) => `2026-01-01T${hh}:00:00.000Z`,
    );
    expect(slotsOf(tasks)).toEqual(expected);
    const fires = hosts.flatMap((h) => h.fired).map((f) => new Date(f.slot).toISOString());
    expect(fires.sort()).toEqual(expected);

    // All three go down and come back together: the missed slots are caught up once.
    for (const h of hosts) await shutdown(h);
    await clock.advanceTo(t('2026-01-01T18:30:00Z'));
    const again = [
      boot({ clock, schedules: [hourly(policy)] }),
      boot({ clock, schedules: [hourly(policy)] }),
    ];
    await Promise.all(again.map((h) => h.scheduler.start()));
    await Promise.all(again.map((h) => h.scheduler.settled()));
    expect(slotsOf(await scheduleTasks(again[0]!.store)).slice(6)).toEqual([
      '2026-01-01T16:00:00.000Z',
      '2026-01-01T17:00:00.000Z',
      '2026-01-01T18:00:00.000Z',
    ]);
    expect(again.flatMap((h) => h.missed)).toHaveLength(1);
  });

  it('runs a handler schedule on one host per slot', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:00Z'));
    const runs: string[] = [];
    const def = (host: string): ScheduleDefinition => ({
      name: 'tidy',
      every: 30 * 60_000,
      handler: (fire) => void runs.push(`${host}@${new Date(fire.slot).toISOString()}`),
    });
    const a = boot({ clock, schedules: [def('a')] });
    const b = boot({ clock, schedules: [def('b')] });
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    await clock.advance(2 * HOUR);
    await Promise.all([a.scheduler.settled(), b.scheduler.settled()]);
    expect(runs.map((r) => r.split('@')[1])).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T10:30:00.000Z',
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T11:30:00.000Z',
    ]);
  });
});

describe('daylight saving time, running through the night', () => {
  const nights = [
    { tz: 'Europe/Berlin', from: '2026-03-28T20:00:00Z', to: '2026-03-29T08:00:00Z' },
    { tz: 'Europe/Berlin', from: '2026-10-24T20:00:00Z', to: '2026-10-25T08:00:00Z' },
    { tz: 'America/New_York', from: '2026-03-08T02:00:00Z', to: '2026-03-08T14:00:00Z' },
    { tz: 'America/New_York', from: '2026-11-01T02:00:00Z', to: '2026-11-01T14:00:00Z' },
  ];
  for (const night of nights) {
    const all = { policy: 'all', windowMs: 24 * HOUR } as const;
    it(`${night.tz} ${night.from.slice(0, 10)}: fires exactly the slots the expressions mean, none twice`, async () => {
      const clock = new ManualClock(t(night.from));
      const schedules: ScheduleDefinition[] = [
        {
          name: 'hourly',
          cron: '0 * * * *',
          timezone: night.tz,
          task: { input: 'h' },
          overlap: 'queue',
          missed: all,
        },
        {
          name: 'nightly',
          cron: '30 2 * * *',
          timezone: night.tz,
          task: { input: 'n' },
          overlap: 'queue',
          missed: all,
        },
        {
          name: 'half',
          cron: '*/30 * * * *',
          timezone: night.tz,
          task: { input: 'q' },
          overlap: 'queue',
          missed: all,
        },
      ];
      const h = await start(boot({ clock, schedules, timezone: night.tz }));
      // Down from before the change until after it: catch-up (`latest` slots) must agree with
      // firing on time (`next` slots) across the change.
      await clock.advanceTo(t(night.from) + 4 * HOUR + 30 * 60_000);
      await h.scheduler.settled();
      await shutdown(h);
      await clock.advanceTo(t(night.from) + 7 * HOUR + 45 * 60_000);
      const h2 = await start(boot({ clock, schedules, timezone: night.tz }));
      expect(h2.missed.every((m) => m.count === 0)).toBe(true);
      expect(h2.missed.flatMap((m) => m.caughtUp).length).toBeGreaterThan(3);
      await clock.advanceTo(t(night.to));
      await h2.scheduler.settled();
      const tasks = await h2.store.tasks.list({ order: 'oldest', limit: 1000 });
      for (const s of schedules) {
        const fired = tasks
          .filter((task) => task.metadata.schedule === s.name)
          .map((task) => Date.parse(task.metadata.slot as string));
        const expected: number[] = [];
        const source = cronSlots(s.cron!, night.tz);
        // The first start fires a slot due exactly then.
        for (
          let x = source.next(t(night.from) - 1);
          x !== undefined && x <= t(night.to);
          x = source.next(x)
        ) {
          expected.push(x);
        }
        expect(fired.map((x) => formatInZone(x, night.tz))).toEqual(
          expected.map((x) => formatInZone(x, night.tz)),
        );
        expect(new Set(fired).size).toBe(fired.length);
      }
    });
  }
});

describe('overlap', () => {
  it('skip: a slot due while the previous run is pending or running is skipped and recorded', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:00Z'));
    const h = await start(
      boot({
        clock,
        schedules: [{ ...hourly('latest'), overlap: 'skip' }],
      }),
    );
    await clock.advanceTo(t('2026-01-01T11:00:00Z')); // nothing runs the 10:00 task
    await h.scheduler.settled();
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(h.missed).toEqual([
      {
        schedule: 'hourly-health',
        reason: 'overlap',
        slots: [t('2026-01-01T11:00:00Z')],
        count: 1,
        caughtUp: [],
      },
    ]);
    // Once the previous run finished, the next slot fires again.
    const [previous] = await scheduleTasks(h.store);
    await h.store.tasks.cancel(previous!.id, clock.now());
    await clock.advanceTo(t('2026-01-01T12:00:00Z'));
    await h.scheduler.settled();
    expect(slotsOf(await scheduleTasks(h.store))).toContain('2026-01-01T12:00:00.000Z');
  });

  it('queue: the slot is enqueued behind the previous run (same session key)', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:00Z'));
    const h = await start(boot({ clock, schedules: [hourly('latest')] }));
    await clock.advanceTo(t('2026-01-01T11:00:00Z'));
    await h.scheduler.settled();
    const tasks = await scheduleTasks(h.store);
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((x) => x.sessionKey))).toEqual(new Set(['schedule:hourly-health']));
  });

  it('skip for handlers: a slot while the handler still runs is skipped', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:30Z'));
    let release!: () => void;
    let calls = 0;
    const h = await start(
      boot({
        clock,
        schedules: [
          {
            name: 'slow',
            every: 60_000,
            handler: () => {
              calls++;
              return new Promise<void>((r) => {
                release = r;
              });
            },
          },
        ],
      }),
    );
    await clock.advance(3 * 60_000);
    expect(calls).toBe(1);
    expect(h.missed.map((m) => m.reason)).toEqual(['overlap', 'overlap']);
    release();
    await clock.advance(60_000);
    expect(calls).toBe(2);
  });
});

describe('other behaviour', () => {
  it('a disabled schedule never fires, and enabling it later fires nothing stale', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const def = { ...hourly({ policy: 'all', windowMs: 24 * HOUR }), enabled: false } as const;
    const h = await start(boot({ clock, schedules: [def] }));
    await clock.advanceTo(t('2026-01-01T12:30:00Z'));
    await h.scheduler.settled();
    expect(await scheduleTasks(h.store)).toEqual([]);
    expect((await h.scheduler.list())[0]).toMatchObject({ enabled: false, nextRunAt: null });
    await shutdown(h);
    const h2 = await start(boot({ clock, schedules: [{ ...def, enabled: true }] }));
    expect(await scheduleTasks(h2.store)).toEqual([]);
    expect(h2.missed).toEqual([]);
  });

  it('a changed expression starts afresh instead of back-filling the new slots', async () => {
    const clock = new ManualClock(t('2026-01-01T07:30:00Z'));
    const daily = { ...hourly({ policy: 'all', windowMs: 24 * HOUR }), cron: '0 8 * * *' };
    const h = await start(boot({ clock, schedules: [daily] }));
    await clock.advanceTo(t('2026-01-01T08:30:00Z'));
    await h.scheduler.settled();
    await shutdown(h);
    await clock.advanceTo(t('2026-01-01T12:30:00Z'));
    const h2 = await start(boot({ clock, schedules: [{ ...daily, cron: '0 * * * *' }] }));
    expect(slotsOf(await scheduleTasks(h2.store))).toEqual(['2026-01-01T08:00:00.000Z']);
    expect((await h2.scheduler.list())[0]).toMatchObject({ lastSlot: t('2026-01-01T08:00:00Z') });
  });

  it('trigger fires outside the slots; remind enqueues at the parsed time', async () => {
    const clock = new ManualClock(t('2026-07-01T10:00:00Z'));
    const h = await start(
      boot({ clock, schedules: [hourly('latest')], timezone: 'Europe/Berlin' }),
    );
    await h.scheduler.trigger('hourly-health');
    expect(h.fired.at(-1)).toMatchObject({
      schedule: 'hourly-health',
      slot: clock.now(),
      late: false,
    });
    await expect(h.scheduler.trigger('nope')).rejects.toThrow(
      'no schedule named "nope" (known: hourly-health)',
    );
    const { task } = await h.scheduler.remind('18:30', { input: 'call mum' });
    expect(task).toMatchObject({
      type: 'reminder',
      runAt: t('2026-07-01T16:30:00Z'),
      status: 'pending',
    });
    await expect(h.scheduler.remind('half past six', { input: 'x' })).rejects.toMatchObject({
      code: 'E_BAD_TIME',
    });
    const first = await h.scheduler.scheduleReminder('tax', '2026-07-31T09:00', { input: 'taxes' });
    const again = await h.scheduler.scheduleReminder('tax', '2026-07-31T09:00', { input: 'taxes' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, task: { id: first.task.id } });
  });

  it('refuses a schedule whose agent does not exist, and duplicate or invalid schedules', async () => {
    const clock = new ManualClock();
    const h = boot({
      clock,
      schedules: [{ name: 'x', every: HOUR, task: { agent: 'writter', input: 'x' } }],
    });
    await expect(h.scheduler.start()).rejects.toThrow(
      'schedule "x" names agent "writter", which is not an agent of this host (known: worker, cheap)',
    );
    expect(() => h.scheduler.add({ name: 'x', every: HOUR, task: { input: 'x' } })).toThrow(
      AgentdError,
    );
    expect(() => h.scheduler.add({ name: 'y', cron: '0 8 * *', task: { input: 'x' } })).toThrow(
      /schedule "y": invalid cron expression/,
    );
    expect(() => h.scheduler.add({ name: 'z', every: HOUR })).toThrow(/give either task/);
    expect(() =>
      h.scheduler.add({
        name: 'w',
        every: HOUR,
        handler: () => {},
        missed: { policy: 'all', windowMs: 0 },
      }),
    ).toThrow(/positive windowMs/);
    expect(h.scheduler.remove('x')).toBe(true);
    expect(h.scheduler.remove('x')).toBe(false);
  });

  it('schedules added after start catch up from now and fire on time', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const h = await start(boot({ clock, schedules: [] }));
    h.scheduler.add(hourly('latest'));
    await clock.advanceTo(t('2026-01-01T10:00:00Z'));
    await h.scheduler.settled();
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T10:00:00.000Z']);
  });

  it('emits heartbeat events on the clock', async () => {
    const clock = new ManualClock(t('2026-01-01T00:00:00Z'));
    const h = await start(boot({ clock, schedules: [] }));
    const beats: number[] = [];
    h.events.on('heartbeat', ({ at }) => void beats.push(at));
    h.scheduler.startHeartbeat(30_000);
    await clock.advance(95_000);
    expect(beats).toEqual([30_000, 60_000, 90_000].map((ms) => t('2026-01-01T00:00:00Z') + ms));
    await h.scheduler.stop();
    await clock.advance(60_000);
    expect(beats).toHaveLength(3);
  });

  it('retries after a store error, and reports the schedule as failing meanwhile', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:00Z'));
    let broken = false;
    const h = await start(
      boot({
        clock,
        schedules: [hourly('latest')],
        wrapState: (s) => ({
          get: (ns, key) => (broken ? Promise.reject(new Error('disk I/O error')) : s.get(ns, key)),
          set: s.set.bind(s),
          delete: s.delete.bind(s),
          list: s.list.bind(s),
          compareAndSet: s.compareAndSet.bind(s),
        }),
      }),
    );
    broken = true;
    await clock.advanceTo(t('2026-01-01T10:00:00Z'));
    await h.scheduler.settled();
    expect(h.scheduler.failing).toEqual(['hourly-health']);
    broken = false;
    await clock.advance(15_000);
    await h.scheduler.settled();
    expect(h.scheduler.failing).toEqual([]);
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T10:00:00.000Z']);
  });
});

describe('pause and resume', () => {
  const policy = { policy: 'all', windowMs: 24 * HOUR } as const;
  const stored = (h: Harness) =>
    h.store.state.get<ScheduleState>(SCHEDULER_NAMESPACE, scheduleStateKey('hourly-health'));

  it('a pause on one host stops every host sharing the store; resume goes on from the next slot without catch-up', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const a = await start(boot({ clock, schedules: [hourly(policy)] }));
    const b = await start(boot({ clock, schedules: [hourly(policy)] }));
    await clock.advanceTo(t('2026-01-01T10:30:00Z'));
    await Promise.all([a.scheduler.settled(), b.scheduler.settled()]);
    expect(slotsOf(await scheduleTasks(a.store))).toEqual(['2026-01-01T10:00:00.000Z']);

    const paused = await a.scheduler.pause('hourly-health', 'test');
    expect(paused).toMatchObject({
      pausedAt: t('2026-01-01T10:30:00Z'),
      pausedBy: 'test',
      nextRunAt: null,
    });
    const [seenByB] = await b.scheduler.list();
    expect(seenByB).toMatchObject({ pausedAt: t('2026-01-01T10:30:00Z'), nextRunAt: null });

    await clock.advanceTo(t('2026-01-01T13:30:00Z'));
    await Promise.all([a.scheduler.settled(), b.scheduler.settled()]);
    expect(slotsOf(await scheduleTasks(a.store))).toEqual(['2026-01-01T10:00:00.000Z']);

    // Run now still works while paused, and leaves the pause alone.
    await b.scheduler.trigger('hourly-health');
    expect(await scheduleTasks(a.store)).toHaveLength(2);
    expect((await stored(a))?.paused).toEqual({ at: t('2026-01-01T10:30:00Z'), by: 'test' });

    const resumed = await b.scheduler.resume('hourly-health');
    expect(resumed).toMatchObject({
      pausedAt: null,
      pausedBy: null,
      nextRunAt: t('2026-01-01T14:00:00Z'),
    });
    await clock.advanceTo(t('2026-01-01T14:30:00Z'));
    await Promise.all([a.scheduler.settled(), b.scheduler.settled()]);
    const slots = slotsOf(await scheduleTasks(a.store)).filter((s) => s !== undefined);
    // 11:00, 12:00, 13:00 fell due while paused: neither fired nor counted as missed.
    expect(slots.filter((s) => !s.startsWith('2026-01-01T13:30'))).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T14:00:00.000Z',
    ]);
    expect([...a.missed, ...b.missed]).toEqual([]);
    expect((await a.scheduler.list())[0]!.missedTotal).toBe(0);
  });

  it('stays paused across a restart, and the downtime slots are not caught up after resume', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const first = await start(boot({ clock, schedules: [hourly(policy)] }));
    await first.scheduler.pause('hourly-health');
    await shutdown(first);
    await clock.advanceTo(t('2026-01-01T13:30:00Z'));
    const second = await start(boot({ clock, schedules: [hourly(policy)] }));
    expect(await scheduleTasks(second.store)).toEqual([]);
    expect((await second.scheduler.list())[0]).toMatchObject({
      pausedAt: t('2026-01-01T09:30:00Z'),
      pausedBy: null,
    });
    await second.scheduler.resume('hourly-health');
    await clock.advanceTo(t('2026-01-01T14:00:00Z'));
    await second.scheduler.settled();
    expect(slotsOf(await scheduleTasks(second.store))).toEqual(['2026-01-01T14:00:00.000Z']);
    expect(second.missed).toEqual([]);
  });

  it('pause and resume are idempotent; an unknown name is refused and changes nothing', async () => {
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const h = await start(boot({ clock, schedules: [hourly(policy)] }));
    const before = await stored(h);
    await h.scheduler.resume('hourly-health');
    expect(await stored(h)).toEqual(before);
    await h.scheduler.pause('hourly-health', 'first');
    await clock.advance(60_000);
    await h.scheduler.pause('hourly-health', 'second');
    expect((await stored(h))?.paused).toEqual({ at: t('2026-01-01T09:30:00Z'), by: 'first' });
    const all = await h.store.state.list(SCHEDULER_NAMESPACE);
    await expect(h.scheduler.pause('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_SCHEDULE' });
    await expect(h.scheduler.resume('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_SCHEDULE' });
    expect(await h.store.state.list(SCHEDULER_NAMESPACE)).toEqual(all);
  });

  it('a schedule paused before its first start never fires until resumed', async () => {
    const clock = new ManualClock(t('2026-01-01T09:59:00Z'));
    const h = boot({ clock, schedules: [hourly('latest')] });
    await h.scheduler.pause('hourly-health');
    await start(h);
    await clock.advanceTo(t('2026-01-01T11:30:00Z'));
    await h.scheduler.settled();
    expect(await scheduleTasks(h.store)).toEqual([]);
    await h.scheduler.resume('hourly-health');
    await clock.advanceTo(t('2026-01-01T12:00:00Z'));
    await h.scheduler.settled();
    expect(slotsOf(await scheduleTasks(h.store))).toEqual(['2026-01-01T12:00:00.000Z']);
  });
});
