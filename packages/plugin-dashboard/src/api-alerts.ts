import { randomUUID } from 'node:crypto';
import {
  type Alert,
  type EventBus,
  HttpError,
  type HttpRequest,
  type Logger,
  type StateStore,
} from '@agentd/core';
import { type ApiRoute, answer, type DashboardDeps, need } from './routes.js';

/** An alert as the Alerts page lists it. */
export interface RecentAlert {
  id: string;
  severity: Alert['severity'];
  source: string;
  title: string;
  message: string | null;
  at: number;
  acknowledgedAt: number | null;
  /** Who acknowledged it: `dashboard` and the caller's address, or null. */
  acknowledgedBy: string | null;
}

/** How many alerts the page keeps (the newest). */
export const RECENT_ALERTS = 200;

/** StateStore namespace of the dashboard's alert log (keys `alert:<at>:<id>`, oldest first). */
export const ALERTS_NAMESPACE = 'dashboard';

const ALERT_PREFIX = 'alert:';
const CAS_ATTEMPTS = 5;

/** Sorts by arrival as text: 15 digits cover epoch ms until the year 33658. */
const alertKey = (arrival: number, id: string) =>
  `${ALERT_PREFIX}${String(Math.max(0, Math.trunc(arrival))).padStart(15, '0')}:${id}`;

/**
 * The newest alerts (`alert` events), with who acknowledged them and when, kept in the host's
 * state store (bounded to {@link RECENT_ALERTS}), so they and their acknowledgements survive a
 * restart and every host sharing the store lists the same. Titles and messages are masked before
 * they are stored. Writes go one after another; a read waits for the writes before it.
 *
 * @example
 * ```ts
 * const alerts = new AlertLog(host.events, state, (text) => text, () => Date.now(), logger);
 * await alerts.acknowledge((await alerts.list())[0]!.id, 'dashboard');
 * ```
 */
export class AlertLog {
  #writes: Promise<unknown> = Promise.resolve();
  /** Arrival stamps rise by at least 1 ms, so alerts raised in one millisecond keep their order. */
  #lastArrival = 0;
  readonly #off: () => void;

  constructor(
    events: EventBus,
    private readonly state: StateStore,
    mask: (text: string) => string,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    this.#off = events.on('alert', (alert) => {
      const record: RecentAlert = {
        id: randomUUID(),
        severity: alert.severity,
        source: mask(alert.source).slice(0, 100),
        title: mask(alert.title).slice(0, 300),
        message: alert.message === undefined ? null : mask(alert.message).slice(0, 2000),
        at: alert.at ?? now(),
        acknowledgedAt: null,
        acknowledgedBy: null,
      };
      this.#lastArrival = Math.max(now(), this.#lastArrival + 1);
      const key = alertKey(this.#lastArrival, record.id);
      this.#write(() => this.#keep(key, record));
    });
  }

  /** Newest first. */
  async list(): Promise<RecentAlert[]> {
    await this.#writes;
    const entries = await this.state.list(ALERTS_NAMESPACE, ALERT_PREFIX);
    return entries.map((e) => e.value as unknown as RecentAlert).reverse();
  }

  /**
   * Marks one acknowledged (once: a second time keeps the first time and name); undefined if
   * unknown. Atomic across hosts sharing the store.
   */
  acknowledge(id: string, by: string): Promise<RecentAlert | undefined> {
    return this.#write(async () => {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const found = (await this.state.list(ALERTS_NAMESPACE, ALERT_PREFIX)).find(
          (e) => (e.value as { id?: unknown }).id === id,
        );
        if (!found) return undefined;
        const alert = found.value as unknown as RecentAlert;
        if (alert.acknowledgedAt !== null) return alert;
        const next: RecentAlert = { ...alert, acknowledgedAt: this.now(), acknowledgedBy: by };
        const changed = await this.state.compareAndSet(
          ALERTS_NAMESPACE,
          found.key,
          found.value,
          next as never,
        );
        if (changed) return next;
      }
      throw new HttpError(409, 'conflict', 'the alert kept changing; try again');
    });
  }

  close(): void {
    this.#off();
  }

  #write<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(work);
    this.#writes = result.catch((err: unknown) => {
      this.logger.warn({ err }, 'the dashboard could not update its alert log');
    });
    return result;
  }

  /** Stores one alert and drops the oldest beyond the bound. */
  async #keep(key: string, alert: RecentAlert): Promise<void> {
    await this.state.set(ALERTS_NAMESPACE, key, alert as never);
    const entries = await this.state.list(ALERTS_NAMESPACE, ALERT_PREFIX);
    for (const old of entries.slice(0, Math.max(0, entries.length - RECENT_ALERTS))) {
      await this.state.delete(ALERTS_NAMESPACE, old.key);
    }
  }
}

/** Who acknowledges: the dashboard has one token, so the caller's address tells people apart. */
const acknowledger = (request: HttpRequest) =>
  request.remoteAddress ? `dashboard (${request.remoteAddress})` : 'dashboard';

/** `GET /alerts` (newest first, with the open count) and `POST /alerts/:id/acknowledge`. */
export function mountAlertRoutes(
  route: ApiRoute,
  deps: DashboardDeps,
  alerts: AlertLog | undefined,
): void {
  route('GET', '/alerts', async () => {
    const list = await need(alerts, 'state store to keep alerts in').list();
    return answer(deps, {
      alerts: list,
      open: list.filter((a) => a.acknowledgedAt === null).length,
    });
  });
  route('POST', '/alerts/:id/acknowledge', async (request) => {
    const log = need(alerts, 'state store to keep alerts in');
    const acknowledged = await log.acknowledge(request.params.id ?? '', acknowledger(request));
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
