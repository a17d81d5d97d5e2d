import type { Logger } from '../contracts/logger.js';
import type { Alert, Notifier } from '../contracts/notifier.js';
import { NotifierToken } from '../contracts/notifier.js';
import type { EventBus } from '../kernel/events.js';
import type { Plugin } from '../kernel/plugin.js';
import { type SecretMasker, SecretMaskerToken } from '../logging/secret-masker.js';

/**
 * Name of the built-in default notifier plugin (reserved).
 *
 * @example
 * ```ts
 * host.plugins.includes(NOTIFIER_PLUGIN_NAME);
 * ```
 */
export const NOTIFIER_PLUGIN_NAME = 'notifier';

/**
 * The notifier a host has when no alerting plugin provides one: writes each alert to the log
 * (by severity) and emits the `alert` event, so channels that listen to alerts deliver them.
 * Alerts with the same `dedupeKey` (default source + title) within the cooldown are sent once.
 * An `alert` event emitted by anyone else is logged too.
 *
 * @example
 * ```ts
 * const notifier = new LogNotifier(ctx.events, ctx.logger, () => ctx.clock.now());
 * await notifier.notify({ severity: 'critical', source: 'failover', title: 'All agents failed' });
 * ```
 */
export class LogNotifier implements Notifier {
  readonly #sent = new Map<string, number>();
  readonly #own = new WeakSet<Alert>();
  readonly #off: () => void;

  constructor(
    private readonly events: EventBus,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly cooldownMs = 5 * 60_000,
    /** Masks secrets in each alert's title and message before anyone sees it. */
    private readonly masker?: SecretMasker,
  ) {
    this.#off = events.on('alert', (alert) => {
      if (!this.#own.has(alert)) this.#log(alert);
    });
  }

  async notify(alert: Alert): Promise<void> {
    const now = this.now();
    const key = alert.dedupeKey ?? `${alert.source}:${alert.title}`;
    const last = this.#sent.get(key);
    if (last !== undefined && now - last < this.cooldownMs) return;
    this.#sent.set(key, now);
    const stamped: Alert = { ...alert, at: alert.at ?? now };
    // Alerts carry error text (a provider's answer, a URL): channels forward them as they are.
    if (this.masker) {
      stamped.title = this.masker.mask(stamped.title);
      if (stamped.message !== undefined) stamped.message = this.masker.mask(stamped.message);
    }
    this.#own.add(stamped);
    this.#log(stamped);
    this.events.emit('alert', stamped);
  }

  /** Stops listening to `alert` events. */
  close(): void {
    this.#off();
  }

  #log(alert: Alert): void {
    const line = {
      alert: { source: alert.source, severity: alert.severity, message: alert.message },
    };
    const text = `ALERT: ${alert.title}`;
    if (alert.severity === 'info') this.logger.info(line, text);
    else if (alert.severity === 'warning') this.logger.warn(line, text);
    else this.logger.error(line, text);
  }
}

/**
 * The default notifier as a plugin: provides {@link NotifierToken} with a {@link LogNotifier}.
 * The built-in preset adds it when no other plugin provides a notifier.
 *
 * @example
 * ```ts
 * createHost({ plugins: [sqlite(), notifier({ cooldownMs: 60_000 })] });
 * ```
 */
export function notifier(options: { cooldownMs?: number } = {}): Plugin {
  let logNotifier: LogNotifier | undefined;
  return {
    name: NOTIFIER_PLUGIN_NAME,
    provides: [NotifierToken],
    register(ctx) {
      logNotifier = new LogNotifier(
        ctx.events,
        ctx.logger,
        () => ctx.clock.now(),
        options.cooldownMs,
        ctx.tryResolve(SecretMaskerToken),
      );
      ctx.provide(NotifierToken, logNotifier);
    },
    stop() {
      logNotifier?.close();
    },
  };
}
