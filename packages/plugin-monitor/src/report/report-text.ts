import type { DailyReport, Percentiles } from './report-data.js';

const pct = (ratio: number | null) => (ratio === null ? '-' : `${Math.round(ratio * 100)}%`);
const usd = (n: number) => `$${n.toFixed(2)}`;

function seconds(s: number | null): string {
  if (s === null) return '-';
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 120) return `${Number(s.toPrecision(3))}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Number((s / 3600).toPrecision(3))}h`;
}

function duration(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

/** Task statuses in life order, then severities, then anything else. */
const ORDER = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'live',
  'idle',
  'suspended',
  'info',
  'warning',
  'error',
  'critical',
];
const rank = (k: string) => (ORDER.indexOf(k) + ORDER.length + 1) % (ORDER.length + 1);

const statuses = (s: Record<string, number | undefined>) =>
  Object.entries(s)
    .sort((a, b) => rank(a[0]) - rank(b[0]))
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

const latency = (p: Percentiles) =>
  p.count === 0
    ? 'none'
    : `p50 ${seconds(p.p50)} / p95 ${seconds(p.p95)} / p99 ${seconds(p.p99)}` +
      (p.worstMinuteP99 === null ? '' : ` (worst minute p99 ${seconds(p.worstMinuteP99)})`);

function window(r: DailyReport): string {
  const iso = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  return `${iso(r.from)} to ${iso(r.to)} UTC`;
}

/**
 * The report as plain text for a chat message (Telegram splits long ones): one heading per
 * part, short lines, no markup.
 *
 * @example
 * ```ts
 * await notifier.notify({ severity: 'info', source: 'report', title: 'Daily report', message: reportText(report) });
 * ```
 */
export function reportText(r: DailyReport): string {
  const lines: string[] = [`Host ${r.host}, ${window(r)}`, ''];
  lines.push(
    `Tasks: ${r.tasks.total}${r.tasks.truncated ? '+' : ''} (${statuses(r.tasks.byStatus)})`,
  );
  for (const a of r.tasks.byAgent) lines.push(`  ${a.agent}: ${statuses(a.byStatus)}`);
  if (r.failures.length > 0) {
    lines.push('', 'Top failures:');
    for (const f of r.failures) {
      lines.push(`  ${f.count}x ${f.cause} [${f.agents.join(', ')}] e.g. ${f.example}`);
    }
  }
  lines.push('', `Wait: ${latency(r.waitSeconds)}`, `Run: ${latency(r.runSeconds)}`);
  if (r.schedules.length > 0) {
    lines.push('', 'Schedules:');
    for (const s of r.schedules) {
      lines.push(`  ${s.name}: fired ${s.fired}${s.missed ? `, missed ${s.missed}` : ''}`);
    }
  }
  const sev = statuses(r.alerts.bySeverity);
  lines.push(
    '',
    `Alerts: ${r.alerts.raised} raised${r.alerts.raised ? ` (${sev})` : ''}, ${r.alerts.resolved} resolved`,
  );
  for (const t of r.alerts.top) lines.push(`  ${t}`);
  if (r.sessions) lines.push(`Sessions: ${statuses(r.sessions)}`);
  if (r.budget) {
    const cap = (n: number | undefined) => (n === undefined ? 'no cap' : `of ${usd(n)}`);
    lines.push(
      `Cost: ${usd(r.budget.dayUsd)} today ${cap(r.budget.dailyCapUsd)}, ${usd(r.budget.monthUsd)} this month ${cap(r.budget.monthlyCapUsd)}`,
    );
  }
  if (r.system && Object.values(r.system).some((v) => v !== null)) {
    lines.push(
      `System peaks: CPU ${pct(r.system.cpu)}, memory ${pct(r.system.memory)}, disk ${pct(r.system.disk)}`,
    );
  }
  lines.push(`Uptime: ${duration(r.uptimeSeconds)}, boots in window: ${r.boots}`);
  return lines.join('\n');
}
