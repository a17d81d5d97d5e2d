import type { InboundMessage } from './channel.js';
import type { Alert } from './notifier.js';
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
  alert: Alert;
}
