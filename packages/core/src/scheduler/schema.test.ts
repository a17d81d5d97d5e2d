import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath } from '../config/issues.js';
import { ConfigError } from '../kernel/errors.js';
import { validateConfig } from '../preset/host.js';
import { scheduler } from './scheduler-plugin.js';
import {
  DEFAULT_CATCH_UP_WINDOW_MS,
  schedulerConfigShape,
  schedulerOptionsSchema,
  scheduleSchema,
} from './schema.js';

/** The `path: message` lines a config check prints. */
function issues(input: unknown): string[] {
  const result = schedulerOptionsSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

const task = { input: 'x' };

describe('scheduler config schema', () => {
  it('accepts a full config and normalises durations, priorities and policies', () => {
    const parsed = schedulerOptionsSchema.parse({
      timezone: 'Europe/Berlin',
      schedules: [
        {
          name: 'daily-report',
          cron: '0 8 * * *',
          task: { agent: 'writer', input: 'Daily report', priority: 'high' },
          missed: 'all',
        },
        {
          name: 'quarter',
          every: '15m',
          handler: () => {},
          missed: { policy: 'all', windowMs: '2h' },
        },
        {
          name: 'health',
          cron: '0 * * * *',
          timezone: 'UTC',
          task,
          missed: 'skip',
          overlap: 'queue',
        },
      ],
      heartbeat: { everyMs: '30s', task: { agent: 'cheap', input: 'check', everyMs: '30m' } },
      reminders: [{ name: 'tax', at: '2026-05-31T09:00', task }],
    });
    expect(parsed.schedules[0]).toMatchObject({
      task: { priority: 1 },
      missed: { policy: 'all', windowMs: DEFAULT_CATCH_UP_WINDOW_MS },
    });
    expect(parsed.schedules[1]).toMatchObject({
      every: 900_000,
      missed: { policy: 'all', windowMs: 7_200_000 },
    });
    expect(parsed.heartbeat).toMatchObject({ everyMs: 30_000, task: { everyMs: 1_800_000 } });
    expect(parsed.reminders).toHaveLength(1);
    expect(schedulerOptionsSchema.parse({})).toEqual({ schedules: [], reminders: [] });
  });

  it('reports bad cron expressions, unknown zones and bad reminders at their paths', () => {
    expect(
      issues({
        timezone: 'Mars/Olympus',
        schedules: [
          { name: 'a', cron: '61 * * * *', task },
          { name: 'b', cron: '0 8 * * *', timezone: 'Europe/Atlantis', task },
        ],
        reminders: [
          { name: 'r1', at: 'next tuesday', task },
          { name: 'r2', at: 'in 10m', task },
          { name: 'r3', at: '2026-02-30T09:00', task },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^timezone: unknown time zone "Mars\/Olympus"/),
      expect.stringMatching(
        /^schedules\[0\]\.cron: invalid cron expression "61 \* \* \* \*": invalid value for minute: 61/,
      ),
      expect.stringMatching(/^schedules\[1\]\.timezone: unknown time zone "Europe\/Atlantis"/),
      expect.stringMatching(/^reminders\[0\]\.at: cannot read "next tuesday" as a time; use HH:MM/),
      expect.stringMatching(
        /^reminders\[1\]\.at: "in 10m" would move at every start; in a config use an ISO-8601/,
      ),
      expect.stringMatching(
        /^reminders\[2\]\.at: cannot read "2026-02-30T09:00" as a time \(day 30 does not exist/,
      ),
    ]);
  });

  it('wants exactly one of cron/every and task/handler, unique names, and no "heartbeat" schedule', () => {
    expect(
      issues({
        schedules: [
          { name: 'a', task },
          { name: 'b', cron: '* * * * *', every: 1000, handler: () => {}, task },
          { name: 'c', every: '1h', timezone: 'UTC', task },
          { name: 'c', every: 500, task },
          { name: 'heartbeat', every: '1h', task },
          { name: 'd', every: 'often', task: {}, missed: 'sometimes', overlap: 'never' },
        ],
      }),
    ).toEqual([
      'schedules[0]: give either cron (e.g. "0 8 * * *") or every (e.g. "15m")',
      'schedules[1]: give either cron (e.g. "0 8 * * *") or every (e.g. "15m")',
      'schedules[1]: give either task (what to enqueue) or handler (a function)',
      'schedules[2].timezone: only cron schedules use a time zone; every runs at fixed intervals',
      'schedules[3].every: must be at least 1s',
      expect.stringMatching(/^schedules\[4\]\.name: "heartbeat" is reserved/),
      'schedules[5].every: expected milliseconds or a duration such as "15m"',
      'schedules[5].task: a task needs an input (or a description)',
      'schedules[5].missed: expected "skip", "latest", "all" or { policy: "all", windowMs } (default "latest")',
      expect.stringMatching(/^schedules\[5\]\.overlap: /),
    ]);
    // Duplicate names only once each schedule is otherwise valid.
    expect(
      issues({
        schedules: [
          { name: 'x', every: '1h', task },
          { name: 'x', every: '2h', task },
        ],
      }),
    ).toEqual(['schedules[1].name: duplicate schedule name "x"']);
  });

  it('reports unknown keys (typos) instead of ignoring them', () => {
    expect(issues({ schedules: [{ name: 'a', cron: '0 * * * *', task, mised: 'skip' }] })).toEqual([
      expect.stringMatching(/^schedules\[0\]: Unrecognized key: "mised"/),
    ]);
  });

  it('spreads into a host config schema, so issues read schedules[0].cron', () => {
    const host = z.object({ name: z.string().optional(), ...schedulerConfigShape }).strict();
    const result = host.safeParse({ schedules: [{ name: 'x', cron: 'daily', task }] });
    expect(result.success).toBe(false);
    expect(formatPath(result.error!.issues[0]!.path)).toBe('schedules[0].cron');
  });

  it('is what the kernel checks for the plugin: config check fails with plugins[n] paths', async () => {
    const error = await validateConfig({
      plugins: [
        scheduler({
          timezone: 'Nowhere/Special',
          schedules: [{ name: 'daily', cron: '0 25 * * *', task }],
          reminders: [{ name: 'r', at: '31:00', task }],
        }),
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.stringMatching(/^plugins\[0\]\.timezone: unknown time zone "Nowhere\/Special"/),
      expect.stringMatching(
        /^plugins\[0\]\.schedules\[0\]\.cron: invalid cron expression "0 25 \* \* \*"/,
      ),
      expect.stringMatching(/^plugins\[0\]\.reminders\[0\]\.at: "31:00" would move at every start/),
    ]);
  });

  it('parses a single schedule on its own', () => {
    expect(scheduleSchema.parse({ name: 'h', cron: '0 * * * *', task })).toMatchObject({
      name: 'h',
    });
  });
});
