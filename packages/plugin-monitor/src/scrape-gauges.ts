import { type PluginContext, SessionStoreToken, type TaskStore } from '@agentd/core';
import { BudgetGuardToken } from '@agentd/core/failover';
import { type SessionStatus, TASK_STATUSES, type TaskStats, taskStatsOf } from '@agentd/core/store';
import type { Registry } from 'prom-client';
import { METRICS_PREFIX } from './event-metrics.js';
import { readOnScrape, type Sample } from './exposition.js';
import type { ResolvedMetricsOptions } from './metrics-options.js';
import { SystemMonitorToken } from './plugin.js';

/** Session statuses counted (archived ones pile up for good and are left out). */
const OPEN_SESSION_STATUSES: readonly SessionStatus[] = ['live', 'idle', 'suspended'];
const PRIORITY_NAMES = ['critical', 'high', 'normal', 'low'] as const;

/** What the store says, read at most once per `storeCacheMs` whatever the number of scrapers. */
export interface StoreFigures {
  stats: TaskStats;
  owedReplies: number;
  openDeadLetters: number | undefined;
  sessions: Partial<Record<SessionStatus, number>> | undefined;
  /** When it was read (ms, the host's clock). */
  at: number;
  seconds: number;
}

/**
 * Gauges read on scrape: the store's figures (one read shared by every gauge of a scrape and by
 * concurrent scrapes, cached `storeCacheMs`), the budget guard's spend, and the system
 * monitor's last sample. Returns the shared read, for the history sampler.
 *
 * @example
 * ```ts
 * const figures = gaugesOnScrape(ctx, registry, store);
 * const f = await figures(); // undefined without a store, or when it cannot be read
 * ```
 */
export function gaugesOnScrape(
  ctx: PluginContext<ResolvedMetricsOptions>,
  registry: Registry,
  store: { tasks?: TaskStore },
): () => Promise<StoreFigures | undefined> {
  let cached:
    | { at: number; figures: Promise<StoreFigures | undefined>; pending: boolean }
    | undefined;
  let failing = false;
  const figures = (): Promise<StoreFigures | undefined> => {
    const tasks = store.tasks;
    if (!tasks) return Promise.resolve(undefined);
    const now = Date.now();
    if (cached && (cached.pending || now - cached.at < ctx.options.storeCacheMs)) {
      return cached.figures;
    }
    const started = performance.now();
    const at = ctx.clock.now();
    const sessionStore = ctx.tryResolve(SessionStoreToken);
    const read = Promise.all([
      taskStatsOf(tasks, at),
      tasks.countOwedReplies(),
      tasks.countOpenDeadLetters?.(),
      sessionStore?.listByStatus(OPEN_SESSION_STATUSES),
    ]).then(
      ([stats, owedReplies, openDeadLetters, sessions]) => {
        failing = false;
        let bySession: Partial<Record<SessionStatus, number>> | undefined;
        if (sessions) {
          const counts: Partial<Record<SessionStatus, number>> = Object.fromEntries(
            OPEN_SESSION_STATUSES.map((s) => [s, 0]),
          );
          for (const s of sessions) counts[s.status] = (counts[s.status] ?? 0) + 1;
          bySession = counts;
        }
        return {
          stats,
          owedReplies,
          openDeadLetters,
          sessions: bySession,
          at,
          seconds: (performance.now() - started) / 1000,
        };
      },
      (err: unknown) => {
        // Once per failing streak: a scrape every 15 s must not flood the log.
        if (!failing) ctx.logger.warn({ err }, 'metrics: could not read the store');
        failing = true;
        cached = undefined;
        return undefined;
      },
    );
    const entry = { at: now, figures: read, pending: true };
    cached = entry;
    void read.then(() => {
      entry.pending = false;
    });
    return read;
  };

  const gauge = (name: string, help: string, read: () => Sample[] | Promise<Sample[]>) =>
    registry.registerMetric(readOnScrape(`${METRICS_PREFIX}${name}`, help, read));
  const fromStore = (pick: (f: StoreFigures) => Sample[]) => async () => {
    const f = await figures();
    return f ? pick(f) : [];
  };
  gauge(
    'tasks',
    'Tasks in the store, by status (pending is the queue depth).',
    fromStore((f) =>
      TASK_STATUSES.map((status) => ({
        labels: { status },
        value: f.stats.byPriority[status].reduce((a, b) => a + b, 0),
      })),
    ),
  );
  gauge(
    'queue_depth',
    'Open tasks (pending, running) by status and priority.',
    fromStore((f) =>
      (['pending', 'running'] as const).flatMap((status) =>
        PRIORITY_NAMES.map((priority, i) => ({
          labels: { status, priority },
          value: f.stats.byPriority[status][i] ?? 0,
        })),
      ),
    ),
  );
  gauge(
    'queue_oldest_runnable_age_seconds',
    'How long the oldest task that could run now has been waiting (0 when none waits).',
    fromStore((f) => [
      {
        value:
          f.stats.oldestRunnableAt === null
            ? 0
            : Math.max(0, (f.at - f.stats.oldestRunnableAt) / 1000),
      },
    ]),
  );
  gauge(
    'replies_owed',
    'Replies the outbox still owes (finished tasks whose answer is not delivered yet).',
    fromStore((f) => [{ value: f.owedReplies }]),
  );
  gauge(
    'dead_letters_open',
    'Inputs a channel could not take, kept and not yet discarded or retried.',
    fromStore((f) => (f.openDeadLetters === undefined ? [] : [{ value: f.openDeadLetters }])),
  );
  gauge(
    'sessions',
    'Sessions by status (live, idle, suspended; archived ones are not counted).',
    fromStore((f) =>
      Object.entries(f.sessions ?? {}).map(([status, value]) => ({
        labels: { status },
        value: value ?? 0,
      })),
    ),
  );
  gauge(
    'metrics_store_read_seconds',
    'How long the last read of the store figures took.',
    fromStore((f) => [{ value: f.seconds }]),
  );

  budgetGauges(ctx, gauge);
  systemGauges(ctx, gauge);
  return figures;
}

type AddGauge = (name: string, help: string, read: () => Sample[] | Promise<Sample[]>) => void;

/** Spend against each cost cap, from the budget guard (the failover plugin's), per period. */
function budgetGauges(ctx: PluginContext, gauge: AddGauge): void {
  const spend = () => {
    const report = ctx.tryResolve(BudgetGuardToken)?.report(ctx.clock.now());
    if (!report) return [];
    return [
      { period: 'day', spent: report.dayUsd, cap: report.dailyCapUsd },
      { period: 'month', spent: report.monthUsd, cap: report.monthlyCapUsd },
    ];
  };
  gauge('budget_spent_usd', 'Agent spend so far this UTC day and month, in US dollars.', () =>
    spend().map((s) => ({ labels: { period: s.period }, value: s.spent })),
  );
  gauge('budget_cap_usd', 'The configured cost cap per period, in US dollars.', () =>
    spend().flatMap((s) =>
      s.cap === undefined ? [] : [{ labels: { period: s.period }, value: s.cap }],
    ),
  );
  gauge(
    'budget_used_ratio',
    'Spend against its cap per period, 0 to 1 (1: new work refused).',
    () =>
      spend().flatMap((s) =>
        s.cap === undefined || s.cap <= 0
          ? []
          : [{ labels: { period: s.period }, value: s.spent / s.cap }],
      ),
  );
}

/** The monitor's last sample; absent (no series) without monitor() or before its first sample. */
function systemGauges(ctx: PluginContext, gauge: AddGauge): void {
  const system = () => ctx.tryResolve(SystemMonitorToken)?.latest();
  const one = (value: number | undefined): Sample[] => (value === undefined ? [] : [{ value }]);
  gauge(
    'system_cpu_usage_ratio',
    "The machine's CPU load, all cores, 0 to 1, at the monitor's last sample.",
    () => {
      const s = system();
      return one(s && s.cpuPercent / 100);
    },
  );
  gauge(
    'system_memory_usage_ratio',
    "The machine's memory in use (not available), 0 to 1, at the monitor's last sample.",
    () => {
      const s = system();
      return one(s && s.memory.usedPercent / 100);
    },
  );
  gauge(
    'system_memory_available_bytes',
    "The machine's available memory at the monitor's last sample.",
    () => one(system()?.memory.availableBytes),
  );
  gauge(
    'system_disk_usage_ratio',
    'Use of the file system holding each watched path, 0 to 1 (as df shows it).',
    () =>
      (system()?.disks ?? []).map((d) => ({
        labels: { path: d.path },
        value: d.usedPercent / 100,
      })),
  );
  gauge(
    'system_disk_available_bytes',
    'Space available to users on the file system holding each watched path.',
    () =>
      (system()?.disks ?? []).map((d) => ({ labels: { path: d.path }, value: d.availableBytes })),
  );
  gauge(
    'system_sample_timestamp_seconds',
    "When the monitor's last sample was taken (Unix seconds): stale figures show here.",
    () => {
      const s = system();
      return one(s && s.at / 1000);
    },
  );
}
