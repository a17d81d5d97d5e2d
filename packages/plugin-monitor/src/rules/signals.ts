import type { Clock, EventBus, HealthRegistry, Logger, StateStore, TaskStore } from '@agentd/core';
import type { BudgetGuard } from '@agentd/core/failover';
import type { ChannelRegistry } from '@agentd/core/host';
import { taskStatsOf } from '@agentd/core/store';
import { formatBytes } from '../format.js';
import type { SystemSample } from '../sample.js';
import type { SignalName } from './rule-schema.js';

/** One series of a signal (or of a metric): what identifies it, and its current value. */
export interface RuleSeries {
  /** Stable within the rule: `/var`, `agent=echo`; empty for a single series. */
  key: string;
  labels: Record<string, string>;
  value: number;
  /** Words for the alert's body: `12.3 GB free of 250 GB`. */
  detail?: string;
}

/** How a signal's values read in an alert. */
export type SignalUnit = 'percent' | 'ratio' | 'seconds' | 'count';

/** The unit of each built-in signal. */
export const SIGNAL_UNITS: Readonly<Record<SignalName, SignalUnit>> = {
  runner_stalled_seconds: 'seconds',
  task_error_ratio: 'ratio',
  queue_depth: 'count',
  queue_oldest_runnable_seconds: 'seconds',
  budget_used_ratio: 'ratio',
  circuit_open_seconds: 'seconds',
  channel_failing_seconds: 'seconds',
  system_cpu_percent: 'percent',
  system_memory_percent: 'percent',
  system_disk_percent: 'percent',
  host_restarts: 'count',
};

/** The window over which `task_error_ratio` counts attempts. */
export const ERROR_RATIO_WINDOW_MS = 15 * 60_000;
/** Fewer finished attempts than this in the window give no `task_error_ratio` (one failure is not a rate). */
export const ERROR_RATIO_MIN_ATTEMPTS = 10;
/** The window over which `host_restarts` counts boots. */
export const RESTART_WINDOW_MS = 30 * 60_000;
const STATE_NAMESPACE = 'monitor';

/** Where the signals read from; each part is optional (a host without a store has no queue). */
export interface SignalSources {
  clock: Clock;
  events: EventBus;
  logger: Logger;
  hostName: string;
  tasks?: () => TaskStore | undefined;
  state?: () => StateStore | undefined;
  budgets?: () => BudgetGuard | undefined;
  channels?: () => ChannelRegistry | undefined;
  health?: () => HealthRegistry | undefined;
  system?: () => SystemSample | undefined;
}

/**
 * The built-in signals: values the monitor computes from the event bus, the store and the
 * system sample, for conditions no single metric expresses (a runner that stopped finishing
 * work, a circuit open for long, a host that keeps restarting). Events are counted as they come;
 * the store is read only when an enabled rule needs it, once per evaluation.
 *
 * @example
 * ```ts
 * const signals = new BuiltinSignals({ clock, events, logger, hostName: 'box', tasks: () => store });
 * signals.start();
 * const values = await signals.read(new Set(['queue_depth']));
 * ```
 */
export class BuiltinSignals {
  readonly #offs: (() => void)[] = [];
  /** Finished attempts in the error-ratio window: [time, failed]. */
  #attempts: [number, boolean][] = [];
  #lastFinishedAt: number;
  /** Agents whose circuit is not closed, since when. */
  readonly #circuits = new Map<string, number | undefined>();
  /** Channels whose health check is not passing, since when. */
  readonly #channelsFailing = new Map<string, number>();
  /** Boot times of this host in the restart window, this boot included. */
  #boots: number[] = [];

  constructor(private readonly sources: SignalSources) {
    this.#lastFinishedAt = sources.clock.now();
  }

  /** Starts counting events, and records this boot (for `host_restarts`). */
  async start(): Promise<void> {
    const { events, clock } = this.sources;
    const finished = (failed: boolean) => {
      const now = clock.now();
      this.#lastFinishedAt = now;
      this.#attempts.push([now, failed]);
      // Bounded whatever the rate: older entries are pruned as new ones come.
      if (this.#attempts.length > 10_000) this.#prune(now);
    };
    this.#offs.push(
      events.on('task.completed', () => finished(false)),
      events.on('task.failed', () => finished(true)),
      events.on('circuit.changed', ({ agent, state }) => {
        if (state === 'closed') this.#circuits.set(agent, undefined);
        else if (this.#circuits.get(agent) === undefined) this.#circuits.set(agent, clock.now());
      }),
    );
    await this.#recordBoot();
  }

  stop(): void {
    for (const off of this.#offs.splice(0)) off();
  }

  /** The current series of each signal asked for; a signal with no source has none. */
  async read(needed: ReadonlySet<SignalName>): Promise<Map<SignalName, RuleSeries[]>> {
    const now = this.sources.clock.now();
    const out = new Map<SignalName, RuleSeries[]>();
    const wants = (...names: SignalName[]) => names.some((n) => needed.has(n));
    const tasks = this.sources.tasks?.();
    if (tasks && wants('runner_stalled_seconds', 'queue_oldest_runnable_seconds')) {
      // The earliest run-at of all pending tasks (an index seek in the stores): when it has
      // come, that task is the oldest runnable one; when it has not, nothing is runnable.
      const earliest = await tasks.nextRunAt(-1);
      const oldestRunnableAt = earliest !== undefined && earliest <= now ? earliest : undefined;
      const stalled =
        oldestRunnableAt === undefined ? 0 : now - Math.max(this.#lastFinishedAt, oldestRunnableAt);
      const age = oldestRunnableAt === undefined ? 0 : now - oldestRunnableAt;
      out.set('runner_stalled_seconds', [one(stalled / 1000)]);
      out.set('queue_oldest_runnable_seconds', [one(age / 1000)]);
    }
    if (tasks && wants('queue_depth')) {
      // The store's cheap counters where it keeps them, not a count of every row each minute.
      const stats = await taskStatsOf(tasks, now);
      out.set('queue_depth', [one(stats.byPriority.pending.reduce((sum, n) => sum + n, 0))]);
    }
    if (wants('task_error_ratio')) {
      this.#prune(now);
      const total = this.#attempts.length;
      if (total >= ERROR_RATIO_MIN_ATTEMPTS) {
        const failed = this.#attempts.filter(([, f]) => f).length;
        out.set('task_error_ratio', [
          one(failed / total, `${failed} of ${total} attempts failed in the last 15 minutes`),
        ]);
      } else out.set('task_error_ratio', []);
    }
    if (wants('budget_used_ratio')) out.set('budget_used_ratio', this.#budget(now));
    if (wants('circuit_open_seconds')) {
      out.set(
        'circuit_open_seconds',
        [...this.#circuits].map(([agent, since]) => ({
          key: agent,
          labels: { agent },
          value: since === undefined ? 0 : (now - since) / 1000,
        })),
      );
    }
    if (wants('channel_failing_seconds'))
      out.set('channel_failing_seconds', await this.#channels(now));
    if (wants('system_cpu_percent', 'system_memory_percent', 'system_disk_percent')) {
      const sample = this.sources.system?.();
      out.set(
        'system_cpu_percent',
        sample ? [one(sample.cpuPercent, `load ${sample.cpuPercent}%`)] : [],
      );
      out.set(
        'system_memory_percent',
        sample
          ? [
              one(
                sample.memory.usedPercent,
                `${formatBytes(sample.memory.availableBytes)} available of ${formatBytes(sample.memory.totalBytes)}`,
              ),
            ]
          : [],
      );
      out.set(
        'system_disk_percent',
        (sample?.disks ?? []).map((d) => ({
          key: d.path,
          labels: { path: d.path },
          value: d.usedPercent,
          detail: `${formatBytes(d.availableBytes)} free of ${formatBytes(d.sizeBytes)}`,
        })),
      );
    }
    if (wants('host_restarts')) {
      const recent = this.#boots.filter((t) => now - t < RESTART_WINDOW_MS);
      out.set(
        'host_restarts',
        this.sources.state?.()
          ? [one(Math.max(0, recent.length - 1), `${recent.length} boots in the last 30 minutes`)]
          : [],
      );
    }
    return out;
  }

  #prune(now: number): void {
    const from = now - ERROR_RATIO_WINDOW_MS;
    let i = 0;
    while (i < this.#attempts.length && (this.#attempts[i]?.[0] ?? 0) <= from) i++;
    if (i > 0) this.#attempts = this.#attempts.slice(i);
  }

  #budget(now: number): RuleSeries[] {
    const budgets = this.sources.budgets?.();
    if (!budgets) return [];
    const spend = budgets.report(now);
    const out: RuleSeries[] = [];
    const usd = (n: number) => `$${n.toFixed(2)}`;
    if (spend.dailyCapUsd) {
      out.push({
        key: 'day',
        labels: { period: 'day' },
        value: spend.dayUsd / spend.dailyCapUsd,
        detail: `${usd(spend.dayUsd)} of ${usd(spend.dailyCapUsd)} spent today (UTC)`,
      });
    }
    if (spend.monthlyCapUsd) {
      out.push({
        key: 'month',
        labels: { period: 'month' },
        value: spend.monthUsd / spend.monthlyCapUsd,
        detail: `${usd(spend.monthUsd)} of ${usd(spend.monthlyCapUsd)} spent this month (UTC)`,
      });
    }
    return out;
  }

  async #channels(now: number): Promise<RuleSeries[]> {
    const channels = this.sources.channels?.()?.list() ?? [];
    const health = this.sources.health?.();
    if (channels.length === 0 || !health) return [];
    const report = await health.run();
    const out: RuleSeries[] = [];
    for (const { name } of channels) {
      const check = report.checks[name];
      if (!check) continue;
      if (check.status === 'pass') this.#channelsFailing.delete(name);
      else if (!this.#channelsFailing.has(name)) this.#channelsFailing.set(name, now);
      const since = this.#channelsFailing.get(name);
      out.push({
        key: name,
        labels: { channel: name },
        value: since === undefined ? 0 : (now - since) / 1000,
        ...(check.output ? { detail: check.output } : {}),
      });
    }
    return out;
  }

  /** Adds this boot to the boots kept in the state store (shared with the host's next lives). */
  async #recordBoot(): Promise<void> {
    const state = this.sources.state?.();
    if (!state) return;
    const now = this.sources.clock.now();
    const key = `boots:${this.sources.hostName}`;
    try {
      const stored = await state.get<number[]>(STATE_NAMESPACE, key);
      const earlier = Array.isArray(stored) ? stored.filter((t) => typeof t === 'number') : [];
      this.#boots = [...earlier.filter((t) => now - t < RESTART_WINDOW_MS), now].slice(-100);
      await state.set(STATE_NAMESPACE, key, this.#boots, { ttlMs: RESTART_WINDOW_MS });
    } catch (err) {
      this.sources.logger.warn({ err }, 'could not record this boot for the restart-loop rule');
      this.#boots = [now];
    }
  }
}

function one(value: number, detail?: string): RuleSeries {
  return { key: '', labels: {}, value, ...(detail ? { detail } : {}) };
}
