import { z } from 'zod';
import { reportDuplicateNames } from '../config/unique-names.js';
import type { Address } from '../contracts/channel.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type {
  MissedRunPolicy,
  OverlapPolicy,
  ScheduleDefinition,
  ScheduleFire,
} from '../contracts/scheduler.js';
import { TaskPriorities, type TaskPriority } from '../contracts/task.js';
import { cronProblem, formatDuration } from './cron.js';
import {
  parseDuration,
  parseReminderTime,
  REMINDER_TIME_FORMS,
  reminderTimeForm,
} from './reminders.js';
import { timezoneProblem } from './time-zone.js';

/**
 * Window of the `all` missed-run policy when none is given.
 *
 * @example
 * ```ts
 * const missed = { policy: 'all', windowMs: DEFAULT_CATCH_UP_WINDOW_MS } as const;
 * ```
 */
export const DEFAULT_CATCH_UP_WINDOW_MS = 24 * 3_600_000;

/**
 * Name of the schedule that runs the heartbeat's task (reserved).
 *
 * @example
 * ```ts
 * await scheduler.trigger(HEARTBEAT_SCHEDULE);
 * ```
 */
export const HEARTBEAT_SCHEDULE = 'heartbeat';

/**
 * A task template as the config gives it: like `NewTask`, priorities also by name.
 *
 * @example
 * ```ts
 * const task: ScheduleTaskConfig = { agent: 'writer', input: 'Daily report', priority: 'high' };
 * ```
 */
export interface ScheduleTaskConfig {
  /** Agent to run it (the host's default agent when absent). A cheap model suits frequent jobs. */
  agent?: string;
  input?: JsonValue;
  description?: string;
  /** Default `schedule` (`heartbeat`, `reminder` for those). */
  type?: string;
  priority?: TaskPriority | keyof typeof TaskPriorities;
  maxAttempts?: number;
  /** Default `schedule:<name>`, so runs of one schedule never overlap. */
  sessionKey?: string;
  /** Where the result is sent, e.g. `{ channel: 'telegram', id: '12345' }`. */
  replyTo?: Address;
  metadata?: JsonObject;
}

/**
 * A schedule as the config gives it; durations may be text such as `15m`.
 *
 * @example
 * ```ts
 * const hourly: ScheduleConfig = { name: 'hourly-health', cron: '0 * * * *', missed: 'skip', task: { input: 'Check health' } };
 * ```
 */
export interface ScheduleConfig {
  /** Unique; part of every fire's idempotency key, so renaming a schedule starts it afresh. */
  name: string;
  /** Cron expression read in `timezone`, e.g. `0 8 * * *`. Give this or `every`. */
  cron?: string;
  /** Interval in ms or as text (`15m`), aligned to the Unix epoch. Give this or `cron`. */
  every?: number | string;
  /** IANA zone for `cron` (default: the scheduler's `timezone`). */
  timezone?: string;
  /** What to enqueue at each slot. Give this or `handler`. */
  task?: ScheduleTaskConfig;
  /** In-process work instead of a task (runs on one host, at most once per slot). */
  handler?: (fire: ScheduleFire) => Promise<void> | void;
  /** Slots missed while the host was down: `skip`, `latest` (default), `all` (last 24 h) or `{ policy: 'all', windowMs }`. */
  missed?: 'skip' | 'latest' | 'all' | { policy: 'all'; windowMs?: number | string };
  /** A slot due while the previous run still runs: `skip` (default) or `queue`. */
  overlap?: OverlapPolicy;
  /** `false` keeps the schedule listed but never fires it (default true). */
  enabled?: boolean;
}

/**
 * The heartbeat as the config gives it.
 *
 * @example
 * ```ts
 * const heartbeat: HeartbeatConfig = { everyMs: '30s', task: { agent: 'cheap', input: 'Anything to do?', everyMs: '30m' } };
 * ```
 */
export interface HeartbeatConfig {
  /** How often to wake the runner and emit `heartbeat` (ms or text such as `30s`). */
  everyMs: number | string;
  /** A periodic agent task, e.g. "check the inbox", with its own (cheaper) agent. */
  task?: ScheduleTaskConfig & {
    /** How often to enqueue it (default: every beat). */
    everyMs?: number | string;
  };
}

/**
 * A one-off reminder in the config: a fixed date-time, enqueued once.
 *
 * @example
 * ```ts
 * const tax: ReminderConfig = { name: 'tax', at: '2026-05-31T09:00', task: { input: 'File taxes' } };
 * ```
 */
export interface ReminderConfig {
  /** Unique; with `at`, the reminder's idempotency key. */
  name: string;
  /** An ISO-8601 date-time, e.g. `2026-05-01T09:00` (read in the scheduler's time zone) or with an offset. */
  at: string;
  task: ScheduleTaskConfig;
}

/**
 * Schedules, heartbeat and reminders as the config (or `scheduler(...)`) gives them.
 *
 * @example
 * ```ts
 * const config: SchedulerConfig = { timezone: 'Europe/Berlin', schedules: [hourly], heartbeat: { everyMs: '30s' } };
 * ```
 */
export interface SchedulerConfig {
  /** IANA zone for cron schedules and reminders that name none (default: this machine's). */
  timezone?: string;
  schedules?: ScheduleConfig[];
  heartbeat?: HeartbeatConfig;
  reminders?: ReminderConfig[];
  /** A slot fired at most this late still counts as on time (default 5 minutes). */
  graceMs?: number;
}

/**
 * A task template after validation.
 *
 * @example
 * ```ts
 * const task: ScheduleTask = { agent: 'writer', input: 'Daily report', priority: 1 };
 * ```
 */
export type ScheduleTask = NonNullable<ScheduleDefinition['task']>;

/**
 * The heartbeat after validation.
 *
 * @example
 * ```ts
 * if (options.heartbeat) scheduler.startHeartbeat(options.heartbeat.everyMs);
 * ```
 */
export interface HeartbeatOptions {
  everyMs: number;
  task?: ScheduleTask & { everyMs?: number };
}

/**
 * A reminder after validation (`at` still text: it is read in the scheduler's time zone at start).
 *
 * @example
 * ```ts
 * for (const r of options.reminders) await scheduler.scheduleReminder(r.name, r.at, r.task);
 * ```
 */
export interface ReminderOptions {
  name: string;
  at: string;
  task: ScheduleTask;
}

/**
 * {@link SchedulerConfig} after validation: what the scheduler plugin reads from `ctx.options`.
 *
 * @example
 * ```ts
 * const options: SchedulerOptions = schedulerOptionsSchema.parse(config);
 * ```
 */
export interface SchedulerOptions {
  timezone?: string;
  schedules: ScheduleDefinition[];
  heartbeat?: HeartbeatOptions;
  reminders: ReminderOptions[];
  graceMs?: number;
}

const NAME = /^[A-Za-z0-9][\w.:/-]*$/;

function custom(ctx: z.core.$RefinementCtx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', input, message });
  return z.NEVER;
}

function durationSchema(minMs: number, example: string) {
  return z.unknown().transform((value, ctx): number => {
    const ms = typeof value === 'string' ? parseDuration(value) : value;
    if (typeof ms !== 'number' || !Number.isInteger(ms)) {
      return custom(ctx, value, `expected milliseconds or a duration such as "${example}"`);
    }
    if (ms < minMs) return custom(ctx, value, `must be at least ${formatDuration(minMs)}`);
    return ms;
  });
}

const timezoneSchema = z.string().superRefine((tz, ctx) => {
  const problem = timezoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const cronSchema = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const prioritySchema = z.unknown().transform((value, ctx): TaskPriority => {
  if (value === 0 || value === 1 || value === 2 || value === 3) return value;
  if (typeof value === 'string' && value in TaskPriorities) {
    return TaskPriorities[value as keyof typeof TaskPriorities];
  }
  return custom(ctx, value, 'expected 0-3 or critical, high, normal, low');
});

const addressSchema = z
  .object({ channel: z.string().min(1), id: z.string().min(1), thread: z.string().optional() })
  .strict();

const taskFields = {
  agent: z.string().min(1).optional(),
  input: z.json().optional(),
  description: z.string().optional(),
  type: z.string().min(1).optional(),
  priority: prioritySchema.optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  sessionKey: z.string().min(1).optional(),
  replyTo: addressSchema.optional(),
  metadata: z.record(z.string(), z.json()).optional(),
};

const needsInput = (t: { input?: unknown; description?: unknown }) =>
  t.input !== undefined || t.description !== undefined;
const NEEDS_INPUT = 'a task needs an input (or a description)';

/**
 * A task template: what a schedule, the heartbeat or a reminder enqueues.
 *
 * @example
 * ```ts
 * scheduleTaskSchema.parse({ agent: 'writer', input: 'Daily report', priority: 'high' });
 * // { agent: 'writer', input: 'Daily report', priority: 1 }
 * ```
 */
export const scheduleTaskSchema = z
  .object(taskFields)
  .strict()
  .refine(needsInput, { message: NEEDS_INPUT });

const missedSchema = z.unknown().transform((value, ctx): MissedRunPolicy => {
  if (value === 'skip' || value === 'latest') return value;
  if (value === 'all') return { policy: 'all', windowMs: DEFAULT_CATCH_UP_WINDOW_MS };
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { policy?: unknown }).policy === 'all'
  ) {
    const { windowMs, ...rest } = value as { policy: 'all'; windowMs?: unknown };
    const extra = Object.keys(rest).filter((k) => k !== 'policy');
    if (extra.length > 0)
      return custom(ctx, value, `unknown key "${extra[0]}" (use policy, windowMs)`);
    if (windowMs === undefined) return { policy: 'all', windowMs: DEFAULT_CATCH_UP_WINDOW_MS };
    const ms = typeof windowMs === 'string' ? parseDuration(windowMs) : windowMs;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms <= 0) {
      return custom(
        ctx,
        value,
        'windowMs must be a positive number of ms or a duration such as "24h"',
      );
    }
    return { policy: 'all', windowMs: ms };
  }
  return custom(
    ctx,
    value,
    `expected "skip", "latest", "all" or { policy: "all", windowMs } (default "latest")`,
  );
});

const handlerSchema = z.custom<(fire: ScheduleFire) => Promise<void> | void>(
  (v) => typeof v === 'function',
  'must be a function (fire) => ...',
);

/**
 * One schedule, with cron expression and time zone checked, so a config check reports
 * `schedules[0].cron: invalid cron expression ...` before anything starts.
 *
 * @example
 * ```ts
 * scheduleSchema.parse({ name: 'hourly-health', cron: '0 * * * *', task: { input: 'health check' } });
 * ```
 */
export const scheduleSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(NAME, 'use letters, digits and - _ . : / (starting with a letter or digit)'),
    cron: cronSchema.optional(),
    every: durationSchema(1000, '15m').optional(),
    timezone: timezoneSchema.optional(),
    task: scheduleTaskSchema.optional(),
    handler: handlerSchema.optional(),
    missed: missedSchema.optional(),
    overlap: z.enum(['skip', 'queue']).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.every === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either cron (e.g. "0 8 * * *") or every (e.g. "15m")',
      });
    }
    if (s.every !== undefined && s.timezone !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: 'only cron schedules use a time zone; every runs at fixed intervals',
      });
    }
    if ((s.task === undefined) === (s.handler === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either task (what to enqueue) or handler (a function)',
      });
    }
    if (s.name === HEARTBEAT_SCHEDULE) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `"${HEARTBEAT_SCHEDULE}" is reserved for the heartbeat's task; use heartbeat: { task } instead`,
      });
    }
  });

/**
 * The list of schedules; names must be unique.
 *
 * @example
 * ```ts
 * schedulesSchema.safeParse([{ name: 'a', every: '1h', task: { input: 'x' } }]).success; // true
 * ```
 */
export const schedulesSchema = z
  .array(scheduleSchema)
  .superRefine((list, ctx) => reportDuplicateNames(list, ctx, 'schedule'));

/**
 * The heartbeat: `{ everyMs, task? }`.
 *
 * @example
 * ```ts
 * heartbeatSchema.parse({ everyMs: '30s', task: { agent: 'cheap', input: 'check inbox', everyMs: '30m' } });
 * ```
 */
export const heartbeatSchema = z
  .object({
    everyMs: durationSchema(1000, '30s'),
    task: z
      .object({ ...taskFields, everyMs: durationSchema(1000, '30m').optional() })
      .strict()
      .refine(needsInput, { message: NEEDS_INPUT })
      .optional(),
  })
  .strict();

/**
 * One-off reminders. In a config only fixed ISO-8601 date-times make sense: `08:30` or `in 10m`
 * would move at every start, so they are refused here (they are for chat and CLI input).
 *
 * @example
 * ```ts
 * remindersSchema.parse([{ name: 'tax', at: '2026-05-31T09:00', task: { input: 'File taxes' } }]);
 * ```
 */
export const remindersSchema = z
  .array(
    z
      .object({
        name: z.string().min(1).max(100).regex(NAME, 'use letters, digits and - _ . : /'),
        at: z.string().superRefine((at, ctx) => {
          const form = reminderTimeForm(at);
          if (form === 'relative' || form === 'clock') {
            ctx.addIssue({
              code: 'custom',
              message: `"${at}" would move at every start; in a config use an ISO-8601 date-time such as 2026-05-01T09:00`,
            });
            return;
          }
          try {
            parseReminderTime(at, { now: 0, timezone: 'UTC' });
          } catch (error) {
            ctx.addIssue({
              code: 'custom',
              message: error instanceof Error ? error.message : `use ${REMINDER_TIME_FORMS}`,
            });
          }
        }),
        task: scheduleTaskSchema,
      })
      .strict(),
  )
  .superRefine((list, ctx) => reportDuplicateNames(list, ctx, 'reminder'));

/**
 * The scheduler's config keys, to spread into a host config schema so issues come out as
 * `schedules[0].cron: ...`, `heartbeat.everyMs: ...`, `timezone: ...`.
 *
 * @example
 * ```ts
 * const hostSchema = z.object({ name: z.string().optional(), ...schedulerConfigShape }).strict();
 * ```
 */
export const schedulerConfigShape = {
  timezone: timezoneSchema.optional(),
  schedules: schedulesSchema.optional(),
  heartbeat: heartbeatSchema.optional(),
  reminders: remindersSchema.optional(),
};

/**
 * The options of `scheduler(...)` (a Standard Schema, so the kernel validates them at
 * config check time): {@link schedulerConfigShape} plus `graceMs`, with defaults applied.
 *
 * @example
 * ```ts
 * const result = schedulerOptionsSchema.safeParse({ schedules: [{ name: 'x', cron: '61 * * * *', task: { input: 'x' } }] });
 * // result.error.issues[0].path: ['schedules', 0, 'cron']
 * ```
 */
export const schedulerOptionsSchema = z
  .object({
    ...schedulerConfigShape,
    graceMs: z
      .number()
      .int()
      .min(0)
      .max(24 * 3_600_000)
      .optional(),
  })
  .strict()
  .transform(
    (o): SchedulerOptions => ({
      ...(o.timezone === undefined ? {} : { timezone: o.timezone }),
      schedules: o.schedules ?? [],
      ...(o.heartbeat === undefined ? {} : { heartbeat: o.heartbeat }),
      reminders: o.reminders ?? [],
      ...(o.graceMs === undefined ? {} : { graceMs: o.graceMs }),
    }),
  );

// The hand-written config types must stay what the schema accepts.
type Accepts<A, B extends A> = B;
type _ScheduleConfigChecked = Accepts<z.input<typeof scheduleSchema>, ScheduleConfig>;
type _SchedulerConfigChecked = Accepts<z.input<typeof schedulerOptionsSchema>, SchedulerConfig>;
