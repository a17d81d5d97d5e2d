import type { InboundMessage } from './channel.js';
import type { Alert } from './notifier.js';
import type { ScheduleFire } from './scheduler.js';
import type { Task } from './task.js';

/**
 * The events of a host, by name. Plugins add their own by declaration merging:
 *
 * @example
 * ```ts
 * declare module '@agentd/core' {
 *   interface AgentdEvents {
 *     'backup.created': { path: string; bytes: number };
 *   }
 * }
 * ```
 */
export interface AgentdEvents {
  /** Every plugin has started; intake is open. */
  'host.ready': { name: string; startedInMs: number; plugins: string[] };
  /** A stop began; intake is closed. */
  'host.stopping': { reason: string };
  'host.stopped': { reason: string; ok: boolean };
  'plugin.started': { plugin: string; durationMs: number };
  'plugin.stopped': { plugin: string; durationMs: number; error?: string };
  'message.received': { message: InboundMessage };
  'task.enqueued': { task: Task };
  'task.started': { task: Task };
  'task.completed': { task: Task };
  /** An attempt failed; `willRetry` tells whether the task goes back to pending. */
  'task.failed': { task: Task; willRetry: boolean };
  'task.cancelled': { task: Task };
  /** Running tasks whose lease expired were recovered (a crash, a kill). */
  'task.recovered': { requeued: string[]; failed: string[] };
  /** The runner's periodic wake-up. */
  heartbeat: { at: number };
  /** A schedule slot fired here (once across hosts); `taskId` when it enqueued a task. */
  'schedule.fired': ScheduleFire & { taskId?: string };
  /**
   * Slots of a schedule that did not fire: the host was down (`downtime`, per the missed-run
   * policy) or the previous run was still going (`overlap`). `count` may exceed `slots.length`
   * after very long downtime; `caughtUp` lists slots that fired late instead.
   */
  'schedule.missed': {
    schedule: string;
    reason: 'downtime' | 'overlap';
    slots: number[];
    count: number;
    caughtUp: number[];
  };
  alert: Alert;
}
