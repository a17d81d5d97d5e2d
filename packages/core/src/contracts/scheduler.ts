import { createToken } from '../kernel/token.js';
import type { EnqueueResult, NewTask } from './task.js';

/**
 * What happens to slots missed while the host was down: `skip` fires none, `latest` fires the
 * newest once, `all` fires each within `windowMs` (oldest first). Missed slots are always recorded.
 */
export type MissedRunPolicy = 'skip' | 'latest' | { policy: 'all'; windowMs: number };

/** Whether a slot fires while the previous run of the same schedule is still running. */
export type OverlapPolicy = 'skip' | 'queue';

/** One fire of a schedule. */
export interface ScheduleFire {
  schedule: string;
  /** The slot's nominal time (epoch ms); with the name, the fire's idempotency key. */
  slot: number;
  /** True when fired during catch-up after downtime. */
  late: boolean;
}

/**
 * A recurring job. Give `cron` (with an IANA `timezone`) or `every` (ms), and `task` (enqueued
 * as a durable task keyed by name and slot) or `handler` (run in-process).
 *
 * @example
 * ```ts
 * scheduler.add({
 *   name: 'daily-report',
 *   cron: '0 8 * * *',
 *   timezone: 'Europe/Berlin',
 *   task: { agent: 'writer', input: 'Write the daily report', priority: 2 },
 *   missed: 'latest',
 * });
 * ```
 */
export interface ScheduleDefinition {
  name: string;
  cron?: string;
  every?: number;
  timezone?: string;
  task?: Omit<NewTask, 'idempotencyKey' | 'runAt'>;
  handler?: (fire: ScheduleFire) => Promise<void> | void;
  missed?: MissedRunPolicy;
  overlap?: OverlapPolicy;
  enabled?: boolean;
}

/** A schedule as `agentd schedules` shows it. */
export interface ScheduleStatus {
  name: string;
  expression: string;
  timezone: string;
  enabled: boolean;
  /** When the schedule was paused (it fires nothing until resumed), or null. */
  pausedAt: number | null;
  /** Who paused it (`dashboard`, `cli`, ...), or null. */
  pausedBy: string | null;
  /** Null while disabled or paused. */
  nextRunAt: number | null;
  lastSlot: number | null;
  /** When `lastSlot` was fired (later than the slot for a late fire), or null. */
  lastFiredAt: number | null;
  /** Slots missed (not fired) since the host's first start, newest last, bounded. */
  missedSlots: number[];
  /** All slots missed so far, including those no longer in `missedSlots` (a lower bound after very long downtime). */
  missedTotal: number;
}

/** Runs schedules; fires each slot at most once across restarts and hosts sharing a store. */
export interface Scheduler {
  add(definition: ScheduleDefinition): void;
  remove(name: string): boolean;
  list(): Promise<ScheduleStatus[]>;
  /** Fires a schedule now, outside its slots (also while it is paused). */
  trigger(name: string): Promise<void>;
  /**
   * Pauses a schedule in the store: no host sharing it fires its slots, across restarts, until
   * `resume`. `E_UNKNOWN_SCHEDULE` for an unknown name.
   */
  pause(name: string, by?: string): Promise<ScheduleStatus>;
  /** Resumes a paused schedule from its next slot; slots due while it was paused are not caught up. */
  resume(name: string): Promise<ScheduleStatus>;
  /**
   * Enqueues a one-off task that runs at `when`: epoch ms, or text such as `08:30`,
   * `2026-05-01T09:00` or `in 10m` read in the scheduler's time zone (`E_BAD_TIME` otherwise).
   */
  remind(when: string | number, task: Omit<NewTask, 'runAt'>): Promise<EnqueueResult>;
}

export const SchedulerToken = createToken<Scheduler>('agentd.scheduler');
