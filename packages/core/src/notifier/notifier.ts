import { AnswersToken, ChannelRegistryToken } from '../contracts/channel.js';
import type { Logger } from '../contracts/logger.js';
import type { Alert, Notifier } from '../contracts/notifier.js';
import { NotifierToken } from '../contracts/notifier.js';
import { StateStoreToken } from '../contracts/state.js';
import type { EventBus } from '../kernel/events.js';
import type { Plugin } from '../kernel/plugin.js';
import { type SecretMasker, SecretMaskerToken } from '../logging/secret-masker.js';
import { systemTimezone } from '../scheduler/time-zone.js';
import { NotificationRouter, NotificationRoutesToken } from './router.js';
import type { NotificationRouteInput } from './routes-schema.js';

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
 * Options of the built-in {@link notifier}.
 *
 * @example
 * ```ts
 * const options: NotifierOptions = { cooldownMs: 60_000, routes: [{ minSeverity: 'error', targets: [{ log: true }] }] };
 * ```
 */
export interface NotifierOptions {
  /** Alerts with the same dedupe key within this time are sent once (default 5 minutes). */
  cooldownMs?: number;
  /** Notification routes (the config's `notifications.routes`, see docs/notifications.md). */
  routes?: readonly NotificationRouteInput[];
  /** Zone of quiet hours that name none (default: the machine's). */
  timezone?: string;
}

/**
 * The default notifier as a plugin: provides {@link NotifierToken} with a {@link LogNotifier},
 * and {@link NotificationRoutesToken} with the router that sends each alert along its routes.
 * The built-in preset adds it when no other plugin provides a notifier, with the config's
 * `notifications.routes`.
 *
 * @example
 * ```ts
 * createHost({ plugins: [sqlite(), notifier({ cooldownMs: 60_000 })] });
 * ```
 */
export function notifier(options: NotifierOptions = {}): Plugin {
  let logNotifier: LogNotifier | undefined;
  let router: NotificationRouter | undefined;
  return {
    name: NOTIFIER_PLUGIN_NAME,
    provides: [NotifierToken, NotificationRoutesToken],
    // Held quiet-hours alerts are read from the state store at start.
    after: [StateStoreToken],
    register(ctx) {
      logNotifier = new LogNotifier(
        ctx.events,
        ctx.logger,
        () => ctx.clock.now(),
        options.cooldownMs,
        ctx.tryResolve(SecretMaskerToken),
      );
      router = new NotificationRouter({
        events: ctx.events,
        logger: ctx.logger,
        clock: ctx.clock,
        timezone: options.timezone ?? systemTimezone(),
        state: () => ctx.tryResolve(StateStoreToken),
        channels: () => ctx.tryResolve(ChannelRegistryToken),
        answers: () => ctx.tryResolve(AnswersToken),
      });
      for (const route of options.routes ?? []) router.add(route);
      ctx.provide(NotifierToken, logNotifier);
      ctx.provide(NotificationRoutesToken, router);
    },
    start() {
      router?.start();
    },
    async stop() {
      logNotifier?.close();
      router?.stop();
      // Sends under way get a moment to finish (durable ones are retried by the outbox anyway).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        router?.idle(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 2_000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
