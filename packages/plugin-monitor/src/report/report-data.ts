import type { Task, TaskStatus, TaskStore } from '@agentd/core';
import type { ScheduleStatus } from '@agentd/core/scheduler';
import type { SessionStatus } from '@agentd/core/store';
import type { MetricsHistory } from '../history.js';

/**
 * The daily report's figures over `[from, to]` (epoch ms): what `GET /api/report` answers,
 * `agentd report --json` prints and the scheduled report formats as text. A documented JSON
 * format (docs/monitor.md), so core's CLI reads it without this package.
 */
export interface DailyReport {
  host: string;
  from: number;
  to: number;
  tasks: {
    /** Tasks created in the window (scanned newest first, at most `scanLimit`). */
    total: number;
    byStatus: Partial<Record<TaskStatus, number>>;
    byAgent: { agent: string; byStatus: Partial<Record<TaskStatus, number>> }[];
    /** True when more tasks were created in the window than the scan reads. */
    truncated: boolean;
  };
  /** The most frequent causes of failed tasks, most frequent first (at most 5). */
  failures: { cause: string; count: number; agents: string[]; example: string }[];
  /** Seconds, over the tasks of the window; `worstMinuteP99` from the metrics history. */
  waitSeconds: Percentiles;
  runSeconds: Percentiles;
  schedules: { name: string; fired: number; missed: number }[];
  alerts: { raised: number; resolved: number; bySeverity: Record<string, number>; top: string[] };
  sessions: Partial<Record<SessionStatus, number>> | null;
  /** Spend so far today and this month (UTC) against the caps; null without a budget guard. */
  budget: { dayUsd: number; dailyCapUsd?: number; monthUsd: number; monthlyCapUsd?: number } | null;
  /** Peaks of the window, 0 to 1, from the metrics history (null without one). */
  system: { cpu: number | null; memory: number | null; disk: number | null } | null;
  uptimeSeconds: number;
  /** Boots of this host in the window, this one included when it falls inside. */
  boots: number;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  worstMinuteP99: number | null;
}

/** One remembered event of the report journal (alerts, boots, schedule fires and misses). */
export type JournalEntry =
  | { kind: 'alert'; at: number; severity: string; title: string; resolved: boolean }
  | { kind: 'boot'; at: number }
  | { kind: 'fired'; at: number; schedule: string }
  | { kind: 'missed'; at: number; schedule: string; count: number };

/** What {@link buildReport} reads; everything but the task store is optional. */
export interface ReportSources {
  host: string;
  tasks: TaskStore;
  journal: readonly JournalEntry[];
  startedAt: number;
  history?: MetricsHistory;
  schedules?: () => Promise<ScheduleStatus[]>;
  sessions?: () => Promise<{ status: SessionStatus }[]>;
  budget?: () => DailyReport['budget'];
  /** Most tasks read from the store (default 50,000). */
  scanLimit?: number;
}

const PAGE = 1000;

/** Exact nearest-rank percentile of sorted values. */
function pick(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

function percentiles(values: number[], worst: number | null): Percentiles {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: pick(sorted, 0.5),
    p95: pick(sorted, 0.95),
    p99: pick(sorted, 0.99),
    worstMinuteP99: worst,
  };
}

async function tasksCreatedIn(tasks: TaskStore, from: number, to: number, limit: number) {
  const out: Task[] = [];
  for (let offset = 0; offset < limit; offset += PAGE) {
    const page = await tasks.list({ order: 'newest', limit: PAGE, offset });
    for (const t of page) {
      if (t.createdAt < from) return { found: out, truncated: false };
      if (t.createdAt <= to) out.push(t);
    }
    if (page.length < PAGE) return { found: out, truncated: false };
  }
  return { found: out, truncated: true };
}

async function peak(history: MetricsHistory | undefined, name: string, from: number, to: number) {
  if (!history) return null;
  try {
    const series = await history.series(name, { from, to, step: 3_600_000 });
    const values = series.points.map((p) => p.v);
    return values.length ? Math.max(...values) : null;
  } catch {
    return null;
  }
}

/** The first line of an error, as a failure's cause: `Name: message`. */
function causeOf(task: Task): string {
  const e = task.error;
  if (!e) return 'unknown error';
  const first = (e.message.split('\n')[0] ?? '').slice(0, 160);
  return e.name && e.name !== 'Error' ? `${e.name}: ${first}` : first;
}

/**
 * Gathers the report's figures over `[from, to]` from the store, the report journal, the
 * metrics history, the scheduler, the sessions and the budget guard.
 *
 * @example
 * ```ts
 * const report = await buildReport({ host: 'box', tasks, journal: [], startedAt }, now - 86_400_000, now);
 * console.log(report.tasks.byStatus.failed ?? 0);
 * ```
 */
export async function buildReport(
  sources: ReportSources,
  from: number,
  to: number,
): Promise<DailyReport> {
  const { found, truncated } = await tasksCreatedIn(
    sources.tasks,
    from,
    to,
    sources.scanLimit ?? 50_000,
  );
  const byStatus: Partial<Record<TaskStatus, number>> = {};
  const agents = new Map<string, Partial<Record<TaskStatus, number>>>();
  const causes = new Map<string, { count: number; agents: Set<string>; example: string }>();
  const waits: number[] = [];
  const runs: number[] = [];
  for (const t of found) {
    byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
    const agent = t.agent ?? '(any)';
    const row = agents.get(agent) ?? {};
    agents.set(agent, row);
    row[t.status] = (row[t.status] ?? 0) + 1;
    if (t.status === 'failed') {
      const cause = causeOf(t);
      const c = causes.get(cause) ?? { count: 0, agents: new Set<string>(), example: t.id };
      causes.set(cause, c);
      c.count++;
      c.agents.add(agent);
    }
    if (t.startedAt !== null) waits.push((t.startedAt - t.runAt) / 1000);
    if (t.startedAt !== null && t.finishedAt !== null)
      runs.push((t.finishedAt - t.startedAt) / 1000);
  }
  const h = sources.history;
  const [waitWorst, runWorst, cpu, memory, disk] = await Promise.all([
    peak(h, 'task_wait_seconds_p99', from, to),
    peak(h, 'task_run_seconds_p99', from, to),
    peak(h, 'system_cpu_usage_ratio', from, to),
    peak(h, 'system_memory_usage_ratio', from, to),
    peak(h, 'system_disk_usage_ratio', from, to),
  ]);
  const inWindow = sources.journal.filter((e) => e.at >= from && e.at <= to);
  const schedules = new Map<string, { fired: number; missed: number }>();
  const scheduleRow = (name: string) => {
    const row = schedules.get(name) ?? { fired: 0, missed: 0 };
    schedules.set(name, row);
    return row;
  };
  for (const s of (await sources.schedules?.()) ?? []) {
    const row = scheduleRow(s.name);
    // The scheduler keeps missed slots in the store: they count even from before this boot.
    row.missed = s.missedSlots.filter((slot) => slot >= from && slot <= to).length;
  }
  const alerts: DailyReport['alerts'] = { raised: 0, resolved: 0, bySeverity: {}, top: [] };
  const titles = new Map<string, number>();
  let boots = 0;
  for (const e of inWindow) {
    if (e.kind === 'fired') scheduleRow(e.schedule).fired++;
    else if (e.kind === 'missed') {
      const row = scheduleRow(e.schedule);
      row.missed = Math.max(row.missed, e.count);
    } else if (e.kind === 'boot') boots++;
    else if (e.resolved) alerts.resolved++;
    else {
      alerts.raised++;
      alerts.bySeverity[e.severity] = (alerts.bySeverity[e.severity] ?? 0) + 1;
      titles.set(e.title, (titles.get(e.title) ?? 0) + 1);
    }
  }
  alerts.top = [...titles.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([title, n]) => (n > 1 ? `${title} (x${n})` : title));
  let sessions: DailyReport['sessions'] = null;
  if (sources.sessions) {
    sessions = {};
    for (const s of await sources.sessions()) sessions[s.status] = (sessions[s.status] ?? 0) + 1;
  }
  return {
    host: sources.host,
    from,
    to,
    tasks: {
      total: found.length,
      byStatus,
      byAgent: [...agents.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([agent, s]) => ({ agent, byStatus: s })),
      truncated,
    },
    failures: [...causes.entries()]
      .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
      .slice(0, 5)
      .map(([cause, c]) => ({
        cause,
        count: c.count,
        agents: [...c.agents].sort(),
        example: c.example,
      })),
    waitSeconds: percentiles(waits, waitWorst),
    runSeconds: percentiles(runs, runWorst),
    schedules: [...schedules.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, r]) => ({ name, ...r })),
    alerts,
    sessions,
    budget: sources.budget?.() ?? null,
    system: h ? { cpu, memory, disk } : null,
    uptimeSeconds: Math.max(0, Math.round((to - sources.startedAt) / 1000)),
    boots,
  };
}
