import { randomUUID } from 'node:crypto';
import type { AnswerSender, ChannelRegistry } from '../contracts/channel.js';
import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { JsonValue } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import { ALERT_SEVERITIES, type Alert } from '../contracts/notifier.js';
import type { StateStore } from '../contracts/state.js';
import type { EventBus } from '../kernel/events.js';
import { createToken } from '../kernel/token.js';
import { wallTimeAt } from '../scheduler/time-zone.js';
import { digestOf, notificationText } from './alert-text.js';
import {
  type NotificationRoute,
  type NotificationRouteInput,
  type NotificationTarget,
  parseRoute,
} from './routes-schema.js';
import { postSignedWebhook } from './webhook-delivery.js';

/** State store namespace of held (quiet-hours) alerts. */
const STATE_NAMESPACE = 'notifier';
/** How often quiet hours are checked for their end. */
const TICK_MS = 60_000;

/**
 * Adds routes from code: the Telegram plugin's `alerts: { chats }` is one. Provided by the
 * built-in notifier.
 *
 * @example
 * ```ts
 * const remove = ctx.tryResolve(NotificationRoutesToken)?.add({
 *   name: 'telegram-alerts', minSeverity: 'warning', targets: [{ channel: 'telegram', id: '42' }],
 * });
 * ```
 */
export interface NotificationRoutes {
  /** Validates and adds a route; returns the function that removes it. */
  add(route: NotificationRouteInput): () => void;
}

export const NotificationRoutesToken = createToken<NotificationRoutes>('agentd.notifier.routes');

/**
 * What the router needs; services are looked up when used, so the ones other plugins provide
 * later (the reply outbox, channels) are found.
 *
 * @example
 * ```ts
 * const deps: NotificationRouterDeps = { events, logger, clock, timezone: 'UTC', state: () => undefined, channels: () => registry, answers: () => undefined };
 * ```
 */
export interface NotificationRouterDeps {
  events: EventBus;
  logger: Logger;
  clock: Clock;
  /** Default zone of quiet hours without their own. */
  timezone: string;
  state: () => StateStore | undefined;
  channels: () => ChannelRegistry | undefined;
  answers: () => AnswerSender | undefined;
  /** First retry delay of webhooks (tests make it short). */
  webhookInitialDelayMs?: number;
}

/**
 * Sends every `alert` event (the notifier emits each after its own de-duplication) along the
 * routes it matches: to channel addresses (through the reply outbox when the host has one, so
 * a failed send is retried durably), to signed webhooks, to the log. Each route has its own
 * cooldown per dedupe key and its own quiet hours: non-critical alerts are held in the state
 * store (in memory without one) and sent as one digest when quiet hours end, also after a
 * restart. Deliveries run in the background: a receiver that is down or hangs never blocks
 * the alert's raiser, and its failure is logged, never raised as another alert.
 *
 * @example
 * ```ts
 * const router = new NotificationRouter(deps);
 * router.add({ name: 'ops', minSeverity: 'error', targets: [{ log: true }] });
 * router.start();
 * ```
 */
export class NotificationRouter implements NotificationRoutes {
  readonly #deps: NotificationRouterDeps;
  readonly #routes: NotificationRoute[] = [];
  readonly #lastSent = new Map<string, number>();
  readonly #memoryHeld = new Map<string, Alert[]>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #lifetime = new AbortController();
  #off: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #flushing: Promise<void> | undefined;
  #unnamed = 0;
  #heldSeq = 0;

  constructor(deps: NotificationRouterDeps) {
    this.#deps = deps;
    this.#off = deps.events.on('alert', (alert) => this.route(alert));
  }

  add(input: NotificationRouteInput): () => void {
    const route = parseRoute(input);
    if (!route.name) route.name = `route-${++this.#unnamed}`;
    this.#routes.push(route);
    return () => {
      const at = this.#routes.indexOf(route);
      if (at >= 0) this.#routes.splice(at, 1);
    };
  }

  /** Starts checking for the end of quiet hours (at once, then every minute). */
  start(): void {
    void this.flushQuiet();
    const tick = () => {
      this.#timer = this.#deps.clock.setTimeout(() => {
        void this.flushQuiet();
        tick();
      }, TICK_MS);
    };
    tick();
  }

  /** Routes one alert; delivery happens in the background (see {@link idle}). */
  route(alert: Alert): void {
    const now = this.#deps.clock.now();
    const stamped: Alert = { ...alert, at: alert.at ?? now };
    const key = stamped.dedupeKey ?? `${stamped.source}:${stamped.title}`;
    for (const route of this.#routes) {
      if (!matches(route, stamped)) continue;
      if (route.cooldown) {
        if (this.#lastSent.size > 10_000) this.#forgetCooldownsBefore(now - route.cooldown);
        const last = this.#lastSent.get(`${route.name}\u0000${key}`);
        if (last !== undefined && now - last < route.cooldown) continue;
        this.#lastSent.set(`${route.name}\u0000${key}`, now);
      }
      if (route.quiet && stamped.severity !== 'critical' && this.#quietNow(route, now)) {
        this.#track(this.#hold(route, stamped));
        continue;
      }
      this.#deliver(route, stamped, `${key}:${stamped.at}`, 'notification.alert');
    }
  }

  /** Sends the digest of every route whose quiet hours are over and that holds alerts. */
  flushQuiet(): Promise<void> {
    this.#flushing ??= this.#flushQuiet().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Resolves once every delivery started so far has ended (delivered or given up). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops routing and checking; webhook retries in flight are aborted. */
  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#timer?.cancel();
    this.#lifetime.abort();
  }

  async #flushQuiet(): Promise<void> {
    const now = this.#deps.clock.now();
    for (const route of this.#routes) {
      if (!route.quiet || this.#quietNow(route, now)) continue;
      try {
        const held = await this.#takeHeld(route);
        if (held.length === 0) continue;
        const digest = { ...digestOf(held, this.#zone(route), route.name!), at: now };
        this.#deliver(route, digest, `digest:${route.name}:${now}`, 'notification.digest');
      } catch (err) {
        this.#deps.logger.warn({ err, route: route.name }, 'could not read held notifications');
      }
    }
  }

  /** Bounds the cooldown map: keys enough older than every cooldown can go. */
  #forgetCooldownsBefore(before: number): void {
    const longest = Math.max(0, ...this.#routes.map((r) => r.cooldown ?? 0));
    for (const [key, at] of this.#lastSent) {
      if (at < before && at < this.#deps.clock.now() - longest) this.#lastSent.delete(key);
    }
  }

  #zone(route: NotificationRoute): string {
    return route.quiet?.timezone ?? this.#deps.timezone;
  }

  #quietNow(route: NotificationRoute, now: number): boolean {
    const quiet = route.quiet!;
    const wall = wallTimeAt(now, this.#zone(route));
    const minute = wall.hour * 60 + wall.minute;
    const from = minutesOf(quiet.from);
    const to = minutesOf(quiet.to);
    return from < to ? minute >= from && minute < to : minute >= from || minute < to;
  }

  async #hold(route: NotificationRoute, alert: Alert): Promise<void> {
    const state = this.#deps.state();
    if (!state) {
      const list = this.#memoryHeld.get(route.name!) ?? [];
      list.push(alert);
      this.#memoryHeld.set(route.name!, list);
      return;
    }
    // By time, then in raising order within one millisecond (the state store lists by key).
    const seq = String(++this.#heldSeq).padStart(6, '0');
    const key = `held:${route.name}:${String(alert.at).padStart(15, '0')}:${seq}:${randomUUID()}`;
    // Held for at most a week: a route removed from the config must not leave them forever.
    await state.set(STATE_NAMESPACE, key, alert as unknown as JsonValue, {
      ttlMs: 7 * 24 * 3_600_000,
    });
  }

  async #takeHeld(route: NotificationRoute): Promise<Alert[]> {
    const memory = this.#memoryHeld.get(route.name!) ?? [];
    this.#memoryHeld.delete(route.name!);
    const state = this.#deps.state();
    if (!state) return memory;
    const entries = await state.list(STATE_NAMESPACE, `held:${route.name}:`);
    const held: Alert[] = [...memory];
    for (const { key, value } of entries) {
      // Deleted first: of two hosts sharing the store, only the one that deletes it sends it.
      if (await state.delete(STATE_NAMESPACE, key)) held.push(value as unknown as Alert);
    }
    return held.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  }

  #deliver(route: NotificationRoute, alert: Alert, id: string, kind: string): void {
    for (const target of route.targets) {
      this.#track(
        this.#send(route, target, alert, id, kind).catch((err: unknown) =>
          this.#deps.logger.warn(
            { reason: err instanceof Error ? err.message : String(err), route: route.name },
            `could not deliver a notification to ${describeTarget(target)}`,
          ),
        ),
      );
    }
  }

  async #send(
    route: NotificationRoute,
    target: NotificationTarget,
    alert: Alert,
    id: string,
    kind: string,
  ): Promise<void> {
    if ('log' in target) {
      const line = {
        notification: { route: route.name, source: alert.source, message: alert.message },
      };
      const text = `NOTIFY: ${alert.title}`;
      if (alert.severity === 'info') this.#deps.logger.info(line, text);
      else if (alert.severity === 'warning') this.#deps.logger.warn(line, text);
      else this.#deps.logger.error(line, text);
      return;
    }
    if ('webhook' in target) {
      const hook = target.webhook;
      await postSignedWebhook(
        { url: hook.url, secret: hook.secret, timeoutMs: hook.timeout, retries: hook.retries },
        `msg_${route.name}_${Buffer.from(id).toString('base64url')}`.slice(0, 200),
        {
          type: kind,
          timestamp: new Date(alert.at ?? this.#deps.clock.now()).toISOString(),
          data: { route: route.name, ...alert },
        },
        {
          signal: this.#lifetime.signal,
          now: () => this.#deps.clock.now(),
          ...(this.#deps.webhookInitialDelayMs !== undefined && {
            initialDelayMs: this.#deps.webhookInitialDelayMs,
          }),
        },
      );
      return;
    }
    const to = {
      channel: target.channel,
      id: target.id,
      ...(target.thread && { thread: target.thread }),
    };
    const text = notificationText(alert);
    const answers = this.#deps.answers();
    if (answers) {
      await answers.answer(to, text, { key: `notify:${route.name}:${to.channel}:${to.id}:${id}` });
      return;
    }
    const channels = this.#deps.channels();
    if (!channels) throw new Error('the host has no channels');
    await channels.send(to, { text });
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    const forget = () => void this.#inFlight.delete(work);
    work.then(forget, forget);
  }
}

function matches(route: NotificationRoute, alert: Alert): boolean {
  if (route.sources && !route.sources.includes(alert.source)) return false;
  if (route.severities) return route.severities.includes(alert.severity);
  const min = ALERT_SEVERITIES.indexOf(route.minSeverity ?? 'info');
  return ALERT_SEVERITIES.indexOf(alert.severity) >= min;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function describeTarget(target: NotificationTarget): string {
  if ('log' in target) return 'the log';
  if ('webhook' in target) return `the webhook ${new URL(target.webhook.url).host}`;
  return `${target.channel} ${target.id}`;
}
