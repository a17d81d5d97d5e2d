import { randomUUID } from 'node:crypto';
import { type Alert, type EventBus, HttpError } from '@agentd/core';
import { type ApiRoute, answer, type DashboardDeps } from './routes.js';

/** An alert as the Alerts page lists it. */
export interface RecentAlert {
  id: string;
  severity: Alert['severity'];
  source: string;
  title: string;
  message: string | null;
  at: number;
  acknowledgedAt: number | null;
}

/** How many alerts the page keeps (the newest). */
export const RECENT_ALERTS = 200;

/**
 * The newest alerts (`alert` events), kept in memory in a bounded ring since the dashboard
 * started, with who has acknowledged them. Titles and messages are masked when kept.
 *
 * @example
 * ```ts
 * const alerts = new AlertRing(host.events, (text) => text, () => Date.now());
 * alerts.acknowledge(alerts.list()[0]!.id);
 * ```
 */
export class AlertRing {
  readonly #items: RecentAlert[] = [];
  readonly #off: () => void;

  constructor(
    events: EventBus,
    mask: (text: string) => string,
    private readonly now: () => number,
  ) {
    this.#off = events.on('alert', (alert) => {
      this.#items.push({
        id: randomUUID(),
        severity: alert.severity,
        source: mask(alert.source).slice(0, 100),
        title: mask(alert.title).slice(0, 300),
        message: alert.message === undefined ? null : mask(alert.message).slice(0, 2000),
        at: alert.at ?? now(),
        acknowledgedAt: null,
      });
      if (this.#items.length > RECENT_ALERTS) this.#items.shift();
    });
  }

  /** Newest first. */
  list(): RecentAlert[] {
    return this.#items.toReversed().map((a) => ({ ...a }));
  }

  /** Marks one acknowledged (once: a second time keeps the first time); undefined if unknown. */
  acknowledge(id: string): RecentAlert | undefined {
    const alert = this.#items.find((a) => a.id === id);
    if (!alert) return undefined;
    alert.acknowledgedAt ??= this.now();
    return { ...alert };
  }

  close(): void {
    this.#off();
  }
}

/** `GET /alerts` (newest first, with the open count) and `POST /alerts/:id/acknowledge`. */
export function mountAlertRoutes(route: ApiRoute, deps: DashboardDeps, alerts: AlertRing): void {
  route('GET', '/alerts', () => {
    const list = alerts.list();
    return answer(deps, {
      alerts: list,
      open: list.filter((a) => a.acknowledgedAt === null).length,
    });
  });
  route('POST', '/alerts/:id/acknowledge', (request) => {
    const acknowledged = alerts.acknowledge(request.params.id ?? '');
    if (!acknowledged) throw new HttpError(404, 'not_found', 'no such alert (or it is too old)');
    deps.live.publish({
      kind: 'alert',
      event: 'alert.acknowledged',
      id: acknowledged.id,
      at: deps.clock.now(),
    });
    return answer(deps, { alert: acknowledged });
  });
}
