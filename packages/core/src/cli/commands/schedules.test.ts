import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerToken } from '../../contracts/scheduler.js';
import { createHost, type HostConfig, validateConfig } from '../../preset/host.js';
import { agent } from '../../runtime/function-agent.js';
import type { DefaultScheduler } from '../../scheduler/scheduler.js';
import { scheduler } from '../../scheduler/scheduler-plugin.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { memoryLogger } from '../../testing/memory-logger.js';
import { memoryStore, openMemoryStore } from '../../testing/memory-store.js';
import type { CheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { pauseFromCli, type ScheduleListing, showSchedules } from './schedules.js';

const t = (iso: string) => Date.parse(iso);
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function capture(): CliIO & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(`ERR ${l}`) };
}

async function checkedFor(config: HostConfig, baseDir: string): Promise<CheckedConfig> {
  const resolved = await validateConfig(config, { baseDir });
  return { path: join(baseDir, 'agentd.config.ts'), baseDir, config, resolved, order: [] };
}

describe('agentd schedules', () => {
  it('lists next and last runs and the missed slots, in each schedule zone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-schedules-cli-'));
    // Shared by the two host runs and the command, as a database file would be.
    const store = openMemoryStore();
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const berlinSchedules = () =>
      scheduler({
        timezone: 'Europe/Berlin',
        schedules: [
          {
            name: 'daily-report',
            cron: '0 8 * * *',
            task: { agent: 'writer', input: 'Daily report' },
          },
          {
            name: 'hourly-health',
            cron: '0 * * * *',
            timezone: 'UTC',
            missed: 'skip',
            task: { agent: 'writer', input: 'Health' },
          },
        ],
      });
    const config = (): HostConfig => ({
      logger: memoryLogger().logger,
      clock,
      agents: [agent('writer', () => 'ok')],
      plugins: [memoryStore({ store }), berlinSchedules()],
    });

    // Up 09:30-10:30 (10:00 fires), down until 13:30 (11:00-13:00 missed). A plugin also
    // registered a schedule of its own, which the config does not know.
    const run = async () => {
      const host = createHost(config());
      await host.start();
      const s = host.resolve(SchedulerToken) as DefaultScheduler;
      await s.settled();
      return { host, s };
    };
    const first = await run();
    first.s.add({ name: 'plugin-sync', every: 15 * 60_000, handler: () => {} });
    await clock.advanceTo(t('2026-01-01T10:30:00Z'));
    await first.s.settled();
    await first.host.stop();
    await clock.advanceTo(t('2026-01-01T13:30:00Z'));
    const second = await run();
    await second.host.stop();

    const io = capture();
    const checked = await checkedFor(config(), dir);
    expect(await showSchedules(io, checked, { now: clock.now() })).toBe(0);
    expect(io.lines[0]).toBe(`${store.description}: 3 schedule(s), times in each schedule's zone`);
    expect(io.lines.slice(1)).toEqual([
      'NAME                         SCHEDULE   ZONE           NEXT RUN          LAST SLOT         MISSED',
      'daily-report                 0 8 * * *  Europe/Berlin  2026-01-02 08:00  -                 0',
      'hourly-health                0 * * * *  UTC            2026-01-01 14:00  2026-01-01 10:00  3',
      'plugin-sync (not in config)  every 15m  UTC            2026-01-01 13:45  2026-01-01 10:30  0',
      'hourly-health: missed 3 slot(s): 2026-01-01 11:00, 2026-01-01 12:00, 2026-01-01 13:00',
    ]);

    const json = capture();
    await showSchedules(json, checked, { json: true, now: clock.now() });
    const listed = JSON.parse(json.lines.join('\n')) as ScheduleListing[];
    expect(listed.find((s) => s.name === 'hourly-health')).toMatchObject({
      source: 'config',
      lastSlot: t('2026-01-01T10:00:00Z'),
      missedSlots: [
        t('2026-01-01T11:00:00Z'),
        t('2026-01-01T12:00:00Z'),
        t('2026-01-01T13:00:00Z'),
      ],
      missedTotal: 3,
    });
  });

  it('says so when there are no schedules', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-schedules-cli-'));
    const io = capture();
    const checked = await checkedFor({ plugins: [memoryStore()] }, dir);
    await showSchedules(io, checked);
    expect(io.lines).toEqual(['no schedules (declare them under "schedules" in the config)']);
  });

  it('--pause and --resume change the store; the host fires nothing while paused; an unknown name changes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentd-schedules-cli-'));
    const store = openMemoryStore();
    const clock = new ManualClock(t('2026-01-01T09:30:00Z'));
    const config = (): HostConfig => ({
      logger: memoryLogger().logger,
      clock,
      agents: [agent('writer', () => 'ok')],
      plugins: [
        memoryStore({ store }),
        scheduler({
          timezone: 'UTC',
          schedules: [{ name: 'hourly', cron: '0 * * * *', task: { agent: 'writer', input: 'x' } }],
        }),
      ],
    });
    const checked = await checkedFor(config(), dir);
    const io = capture();
    // Paused before the host ever ran: the command writes the schedule's first progress.
    expect(await pauseFromCli(io, checked, 'hourly', true, clock.now())).toBe(0);
    expect(io.lines).toEqual([
      'paused "hourly": no host fires it until resumed (agentd schedules --resume hourly)',
    ]);
    const host = createHost(config());
    await host.start();
    const s = host.resolve(SchedulerToken) as DefaultScheduler;
    await s.settled();
    await clock.advanceTo(t('2026-01-01T11:30:00Z'));
    await s.settled();
    expect(await store.tasks.list({ type: 'schedule' })).toEqual([]);
    const table = capture();
    await showSchedules(table, checked, { now: clock.now() });
    expect(table.lines[2]).toMatch(/^hourly\s+0 \* \* \* \*\s+UTC\s+paused\s/);

    const before = await store.state.list('scheduler');
    const bad = capture();
    expect(await pauseFromCli(bad, checked, 'nope', true, clock.now())).toBe(1);
    expect(bad.lines).toEqual(['ERR agentd: no schedule named "nope" (known: hourly)']);
    expect(await store.state.list('scheduler')).toEqual(before);

    expect(await pauseFromCli(capture(), checked, 'hourly', false, clock.now())).toBe(0);
    await clock.advanceTo(t('2026-01-01T12:00:00Z'));
    await s.settled();
    const tasks = await store.tasks.list({ type: 'schedule' });
    expect(tasks.map((task) => task.metadata.slot)).toEqual(['2026-01-01T12:00:00.000Z']);
    await host.stop();
  });
});
