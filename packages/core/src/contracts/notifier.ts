import type { EventBus } from '../kernel/events.js';
import { createToken } from '../kernel/token.js';

/** How bad it is. Routes pick channels by minimum severity. */
export type AlertSeverity = 'info' | 'warning' | 'error' | 'critical';

/** Severities in increasing order. */
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'error', 'critical'];

/** Something an operator should hear about. */
export interface Alert {
  severity: AlertSeverity;
  title: string;
  /** Details; never include secrets. */
  message?: string;
  /** Who raised it: a plugin name, `runner`, `scheduler`. */
  source: string;
  /** Alerts with the same key within the cooldown are sent once. Defaults to source + title. */
  dedupeKey?: string;
  at?: number;
}

/**
 * Delivers alerts to the channels configured for them (for example critical ones to Telegram,
 * everything to the log). Emitting an `alert` event reaches the notifier too.
 *
 * @example
 * ```ts
 * await ctx.resolve(NotifierToken).notify({
 *   severity: 'critical', source: 'monitor', title: 'Disk 96% full', message: '/ has 2 GB left',
 * });
 * ```
 */
export interface Notifier {
  /** Resolves once delivered (or suppressed as a duplicate); never rejects for one failed channel. */
  notify(alert: Alert): Promise<void>;
}

export const NotifierToken = createToken<Notifier>('agentd.notifier');

/**
 * Raises an alert through the host's notifier (its cooldown and de-duplication apply), or, in
 * a host without one, as a bare `alert` event. Never rejects: an alert that cannot be raised
 * must not fail the work that noticed the problem.
 *
 * @example
 * ```ts
 * void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, {
 *   severity: 'warning',
 *   title: 'Disk / at 91% (threshold 90%)',
 *   source: 'monitor',
 * });
 * ```
 */
export async function raiseAlert(
  notifier: Notifier | undefined,
  events: EventBus,
  alert: Alert,
): Promise<void> {
  if (notifier) await notifier.notify(alert).catch(() => {});
  else events.emit('alert', alert);
}
