/**
 * @module @agentd/core/scheduler
 * The scheduler built-in: its factory `scheduler()`, the scheduler contract and token, config
 * schemas (schedules, heartbeat, reminders), cron and interval slots, catch-up planning,
 * reminder time parsing and time-zone helpers.
 */

export type {
  MissedRunPolicy,
  OverlapPolicy,
  ScheduleDefinition,
  ScheduleFire,
  Scheduler,
  ScheduleStatus,
} from '../contracts/scheduler.js';
export { SchedulerToken } from '../contracts/scheduler.js';
export type { CatchUpInput, CatchUpPlan, PlannedFire } from '../scheduler/catch-up.js';
export { dueSlots, MAX_CATCH_UP_SLOTS, planCatchUp } from '../scheduler/catch-up.js';
export type { SlotSource } from '../scheduler/cron.js';
export {
  cronProblem,
  cronSlots,
  formatDuration,
  intervalSlots,
  slotSourceFor,
} from '../scheduler/cron.js';
export type { ParseTimeOptions, ReminderTimeForm } from '../scheduler/reminders.js';
export {
  parseDuration,
  parseReminderTime,
  REMINDER_TIME_FORMS,
  reminderTimeForm,
} from '../scheduler/reminders.js';
export type { SchedulerDeps, SchedulerSettings, ScheduleState } from '../scheduler/scheduler.js';
export {
  DEFAULT_GRACE_MS,
  DefaultScheduler,
  fireKey,
  MISSED_SLOTS_KEPT,
  SCHEDULER_NAMESPACE,
  scheduleStateKey,
  scheduleStatus,
  setSchedulePaused,
  slotSourceFromIdentity,
} from '../scheduler/scheduler.js';
export { SCHEDULER_PLUGIN_NAME, scheduler } from '../scheduler/scheduler-plugin.js';
export type {
  HeartbeatConfig,
  HeartbeatOptions,
  ReminderConfig,
  ReminderOptions,
  ScheduleConfig,
  SchedulerConfig,
  SchedulerOptions,
  ScheduleTask,
  ScheduleTaskConfig,
} from '../scheduler/schema.js';
export {
  DEFAULT_CATCH_UP_WINDOW_MS,
  HEARTBEAT_SCHEDULE,
  heartbeatSchema,
  remindersSchema,
  schedulerConfigShape,
  schedulerOptionsSchema,
  scheduleSchema,
  schedulesSchema,
  scheduleTaskSchema,
} from '../scheduler/schema.js';
export type { WallTime } from '../scheduler/time-zone.js';
export {
  formatInZone,
  systemTimezone,
  timezoneProblem,
  wallTimeAt,
  wallTimeToEpoch,
} from '../scheduler/time-zone.js';
