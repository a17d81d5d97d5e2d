import type { Alert, AlertSeverity, Channel, EventBus, Logger } from '@agentd/core';
import { ALERT_SEVERITIES } from '@agentd/core/host';

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
 * alertText({ severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
 * // '⚠️ Disk 91% full\n— monitor'
 * ```
 */
export function alertText(alert: Alert): string {
  const lines = [`${ICONS[alert.severity]} ${alert.title}`];
  if (alert.message) lines.push(alert.message);
  lines.push(`— ${alert.source}`);
  return lines.join('\n');
}

/**
 * What {@link forwardAlerts} needs.
 *
 * @example
 * ```ts
 * forwardAlerts({ events, channel, chats: ['111222333'], minSeverity: 'warning', send, logger });
 * ```
 */
export interface AlertForwarding {
  events: EventBus;
  channel: Pick<Channel, 'name'>;
  chats: readonly string[];
  minSeverity: AlertSeverity;
  /** Sends one message in the background (the plugin tracks it, to finish or abort at stop). */
  send: (chat: string, text: string) => Promise<unknown>;
  logger: Logger;
}

/**
 * Sends the host's `alert` events (which the notifier emits after its de-duplication and
 * cooldown) of `minSeverity` or worse to the given chats. A failure to deliver one is logged,
 * never raised as another alert, so a Telegram outage cannot feed on itself. Returns the
 * function that stops forwarding.
 *
 * @example
 * ```ts
 * const stop = forwardAlerts(forwarding);
 * ```
 */
export function forwardAlerts(forwarding: AlertForwarding): () => void {
  const min = ALERT_SEVERITIES.indexOf(forwarding.minSeverity);
  return forwarding.events.on('alert', (alert) => {
    if (ALERT_SEVERITIES.indexOf(alert.severity) < min) return;
    const text = alertText(alert);
    for (const chat of forwarding.chats) {
      forwarding
        .send(chat, text)
        .catch((err: unknown) =>
          forwarding.logger.warn(
            { err, chat, alert: alert.title },
            `could not send an alert to Telegram chat ${chat}`,
          ),
        );
    }
  });
}
