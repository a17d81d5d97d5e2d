import type { InboundMessage } from './channel.js';
import type { AttemptRecord } from './failover.js';
import type { Alert } from './notifier.js';
import type { RoleAcquiredReason, RoleLostReason } from './roles.js';
import type { ScheduleFire } from './scheduler.js';
import type { Session } from './session.js';
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
  /** A pending task was put on hold: it is not claimed until released. */
  'task.held': { task: Task };
  /** A held task went back to pending. */
  'task.released': { task: Task };
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
  /**
   * A channel delivered one outbound message (`parts`: the pieces it was split into). Channels
   * emit these three so metrics count every channel alike.
   */
  'channel.sent': { channel: string; parts: number };
  /** A channel could not deliver an outbound message (its caller may retry). */
  'channel.send_failed': { channel: string; code: string };
  /** The channel's service asked it to slow down (an HTTP 429); `retryAfterSeconds` if told. */
  'channel.rate_limited': { channel: string; retryAfterSeconds?: number };
  /** One agent attempt of a task ended (failover records every one). */
  'agent.attempt': { taskId: string; attempt: AttemptRecord };
  /** An agent's circuit breaker changed state. */
  'circuit.changed': { agent: string; state: CircuitStateName };
  /** A session was created, suspended (idle), resumed or archived. */
  'session.created': { session: Session };
  'session.suspended': {
    session: Session;
    /** `manual`: an operator suspended it (dashboard, API). */
    reason: 'idle' | 'shutdown' | 'crash-recovery' | 'manual';
  };
  'session.resumed': { session: Session; idleMs: number };
  'session.archived': { session: Session };
  /**
   * The host's HTTP server answered a request: `route` is the mounted path pattern
   * (`/api/tasks/:id`), or `unmatched`, never the raw URL, so it stays a bounded label.
   */
  'http.request': { method: string; route: string; status: number; durationMs: number };
  /** A configured webhook route answered a delivery with `status` (202, 401, 400, 503...). */
  'webhook.delivery': { route: string; status: number };
  /** Work was refused by a rate limit or a cost cap. */
  'budget.exceeded': { userKey: string | null; limit: string; message: string };
  /** This host took a role (see docs/roles.md); `previous` held it before, if anyone. */
  'role.acquired': {
    role: string;
    holder: string;
    epoch: number;
    reason: RoleAcquiredReason;
    previous?: string;
  };
  /**
   * This host lost a role without releasing it: another host took it (`taken`, with `by`), or
   * its lease ran out before a renewal got through (`expired`: the store was out of reach).
   */
  'role.lost': { role: string; holder: string; epoch: number; reason: RoleLostReason; by?: string };
  /** This host handed a role over: it released it (at stop), so another host takes it at once. */
  'role.released': { role: string; holder: string; epoch: number };
}

/** A circuit breaker's state, as shown in status output. */
export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';
