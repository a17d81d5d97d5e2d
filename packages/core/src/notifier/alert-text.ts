import type { Alert, AlertSeverity } from '../contracts/notifier.js';

const ICONS: Record<AlertSeverity, string> = {
  info: 'ℹ️',
  warning: '⚠️',
  error: '❗',
  critical: '🚨',
};

/**
 * An alert as a chat message: icon and title, the message, and where it came from.
 *
 * @example
 * ```ts
 * notificationText({ severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
 * // '⚠️ Disk 91% full\n— monitor'
 * ```
 */
export function notificationText(alert: Alert): string {
  const lines = [`${ICONS[alert.severity]} ${alert.title}`];
  if (alert.message) lines.push(alert.message);
  lines.push(`— ${alert.source}`);
  return lines.join('\n');
}

/**
 * Alerts held during quiet hours as one notice: the worst severity, a count in the title, one
 * line per alert (time in `timezone`, icon, title).
 *
 * @example
 * ```ts
 * digestOf(held, 'Europe/Berlin'); // { severity: 'error', title: '3 alerts during quiet hours', ... }
 * ```
 */
export function digestOf(held: readonly Alert[], timezone: string, route: string): Alert {
  const order: AlertSeverity[] = ['info', 'warning', 'error', 'critical'];
  let worst = 0;
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const lines = held.map((a) => {
    worst = Math.max(worst, order.indexOf(a.severity));
    const when = a.at !== undefined ? `${time.format(a.at)} ` : '';
    return `${when}${ICONS[a.severity]} ${a.title} (${a.source})`;
  });
  return {
    severity: order[worst] ?? 'info',
    title: `${held.length} alert${held.length === 1 ? '' : 's'} during quiet hours`,
    message: lines.join('\n'),
    source: 'notifier',
    dedupeKey: `notifier:digest:${route}`,
  };
}
