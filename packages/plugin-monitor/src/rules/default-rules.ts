import { type DefaultRuleSettings, systemRules } from '../thresholds.js';
import type { AlertRule, ParsedRuleEntry } from './rule-schema.js';
import { completeRule } from './rule-schema.js';

export type { DefaultRuleSettings } from '../thresholds.js';

/**
 * The rules every monitor runs unless told otherwise, in the order they are documented. The
 * system rules take their thresholds from the `thresholds`, `cpuSamples` and `repeatMinutes`
 * options, so configs written before rules existed keep working.
 *
 * @example
 * ```ts
 * defaultRules({ thresholds: { cpu: 85, memory: 85, disk: 90 }, cpuSamples: 3, intervalSeconds: 60, repeatMinutes: 30 })
 *   .map((r) => r.name); // ['runner-stalled', 'error-rate', ...]
 * ```
 */
export function defaultRules(s: DefaultRuleSettings): AlertRule[] {
  const repeatEveryMs = s.repeatMinutes * 60_000;
  const rule = (
    r: Omit<AlertRule, 'aggregate' | 'recovery' | 'repeatEveryMs'> & Partial<AlertRule>,
  ) => ({ aggregate: 'each', recovery: true, repeatEveryMs, ...r }) as AlertRule;
  return [
    rule({
      name: 'runner-stalled',
      signal: 'runner_stalled_seconds',
      comparison: '>=',
      threshold: 600,
      forMs: 0,
      severity: 'error',
      message: 'Runner stalled: tasks are waiting and none finished for {value}',
      recoveryMessage: 'Runner finishing tasks again',
    }),
    rule({
      name: 'error-rate',
      signal: 'task_error_ratio',
      comparison: '>=',
      threshold: 0.5,
      forMs: 5 * 60_000,
      severity: 'warning',
      message: 'Task error rate at {value} (threshold {threshold})',
      recoveryMessage: 'Task error rate back to {value}',
    }),
    rule({
      name: 'queue-depth',
      signal: 'queue_depth',
      comparison: '>=',
      threshold: 1000,
      forMs: 10 * 60_000,
      severity: 'warning',
      message: 'Queue depth at {value} tasks (threshold {threshold})',
      recoveryMessage: 'Queue depth back to {value} tasks',
    }),
    rule({
      name: 'queue-oldest',
      signal: 'queue_oldest_runnable_seconds',
      comparison: '>=',
      threshold: 1800,
      forMs: 0,
      severity: 'warning',
      message: 'Oldest runnable task waiting for {value} (threshold {threshold})',
      recoveryMessage: 'Oldest runnable task waiting {value}',
    }),
    rule({
      name: 'budget-80',
      signal: 'budget_used_ratio',
      comparison: '>=',
      threshold: 0.8,
      forMs: 0,
      severity: 'warning',
      message: 'Cost budget ({period}) at {value} of its cap',
      recoveryMessage: 'Cost budget ({period}) back to {value} of its cap',
      repeatEveryMs: undefined,
    }),
    rule({
      name: 'budget-100',
      signal: 'budget_used_ratio',
      comparison: '>=',
      threshold: 1,
      forMs: 0,
      severity: 'critical',
      message: 'Cost cap ({period}) reached: {value}; new work is refused',
      recoveryMessage: 'Cost budget ({period}) below its cap again: {value}',
      repeatEveryMs: undefined,
    }),
    rule({
      name: 'circuit-open',
      signal: 'circuit_open_seconds',
      comparison: '>=',
      threshold: 900,
      forMs: 0,
      severity: 'warning',
      message: 'Circuit of agent {agent} open for {value}',
      recoveryMessage: 'Circuit of agent {agent} closed again',
    }),
    rule({
      name: 'channel-failing',
      signal: 'channel_failing_seconds',
      comparison: '>=',
      threshold: 300,
      forMs: 0,
      severity: 'error',
      message: 'Channel {channel} failing for {value}',
      recoveryMessage: 'Channel {channel} healthy again',
    }),
    ...systemRules(s),
    rule({
      name: 'restart-loop',
      signal: 'host_restarts',
      comparison: '>=',
      threshold: 3,
      forMs: 0,
      severity: 'critical',
      message: 'Host restarting in a loop: {value} restarts in 30 minutes',
      recoveryMessage: 'Host restarts back to {value} in 30 minutes',
    }),
  ];
}

/** A problem with one rule entry, at its index in `rules`. */
export interface RuleIssue {
  index: number;
  message: string;
}

/**
 * The rules a monitor runs: the defaults (unless `defaultRules` is false), each overridden by
 * the entry of the same name (only the fields it gives) or removed by `enabled: false`, then
 * the custom entries in order.
 *
 * @example
 * ```ts
 * resolveRules({ ...settings, defaultRules: true, rules: [{ name: 'cpu', enabled: false }] }).rules;
 * ```
 */
export function resolveRules(
  s: DefaultRuleSettings & { defaultRules: boolean; rules: readonly ParsedRuleEntry[] },
): { rules: AlertRule[]; issues: RuleIssue[] } {
  const defaults = s.defaultRules ? defaultRules(s) : [];
  const byName = new Map(defaults.map((r) => [r.name, r]));
  const builtin = new Set(defaultRules(s).map((r) => r.name));
  const issues: RuleIssue[] = [];
  const custom: AlertRule[] = [];
  const named = new Set<string>();
  s.rules.forEach((entry, index) => {
    if (named.has(entry.name)) {
      issues.push({ index, message: `rule "${entry.name}" is given twice` });
      return;
    }
    named.add(entry.name);
    if (entry.enabled === false) {
      byName.delete(entry.name);
      return;
    }
    // With defaultRules: false, naming a default rule brings it back (with the overrides).
    const base = builtin.has(entry.name)
      ? defaultRules(s).find((r) => r.name === entry.name)
      : undefined;
    const rule = completeRule(entry, base, s.repeatMinutes * 60_000);
    if (typeof rule === 'string') {
      issues.push({ index, message: rule });
      return;
    }
    if (base) byName.set(entry.name, rule);
    else custom.push(rule);
  });
  const rules = [...defaults.map((r) => byName.get(r.name)).filter((r) => r !== undefined)];
  // Defaults brought back with defaultRules: false come after the enabled ones.
  for (const [name, rule] of byName) if (!defaults.some((d) => d.name === name)) rules.push(rule);
  return { rules: [...rules, ...custom], issues };
}
