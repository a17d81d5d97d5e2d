import type { AlertSeverity } from '@agentd/core';
import { ALERT_SEVERITIES } from '@agentd/core/host';
import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { parseSelector } from './metric-selector.js';

/** How a value is compared with a rule's threshold. */
export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/**
 * The values the monitor computes itself, for what no metric measures (or without `metrics()`).
 * Each is documented in docs/monitor.md ("Built-in signals").
 */
export const SIGNALS = [
  'runner_stalled_seconds',
  'task_error_ratio',
  'queue_depth',
  'queue_oldest_runnable_seconds',
  'budget_used_ratio',
  'circuit_open_seconds',
  'channel_failing_seconds',
  'system_cpu_percent',
  'system_memory_percent',
  'system_disk_percent',
  'host_restarts',
] as const;
export type SignalName = (typeof SIGNALS)[number];

/** How the series of a metric rule combine: each on its own (one alert per series), or one. */
export const AGGREGATES = ['each', 'sum', 'max', 'min'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

const RULE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/**
 * One rule as written in a config. Every field but `name` is optional here: an entry named
 * like a default rule overrides only the fields it gives; any other entry must say what it
 * watches (`metric` or `signal`), `comparison` and `threshold` (checked by the options schema).
 */
export const ruleEntrySchema = z
  .object({
    /** Unique; names a default rule to override or disable it. */
    name: z
      .string()
      .regex(RULE_NAME, 'a rule name is 1 to 63 characters: a-z, 0-9, "_", "." and "-"'),
    /** A Prometheus family of the host's registry, with optional matchers: `agentd_tasks{status="pending"}`. */
    metric: z
      .string()
      .superRefine((text, ctx) => {
        const parsed = parseSelector(text);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      })
      .optional(),
    /** A built-in signal (see SIGNALS). */
    signal: z.enum(SIGNALS).optional(),
    /** For metric rules: `each` series alerts on its own (default), or `sum`/`max`/`min` as one. */
    aggregate: z.enum(AGGREGATES).optional(),
    comparison: z.enum(COMPARISONS).optional(),
    threshold: z.number().finite().optional(),
    /** Past this value (same comparison) the alert is `critical` whatever `severity` says. */
    criticalAt: z.number().finite().optional(),
    /**
     * While firing, the value must cross back past this (not just the threshold) to resolve:
     * a value wavering around its threshold does not page on every sample.
     */
    recoverAt: z.number().finite().optional(),
    /** How long the condition must hold before the rule fires (`'5m'`; default 0: at once). */
    for: durationSchema().optional(),
    severity: z.enum(ALERT_SEVERITIES).optional(),
    /** The alert's title; `{value}`, `{threshold}`, `{rule}` and the series' labels (`{agent}`) are filled in. */
    message: z.string().min(1).max(500).optional(),
    /** The recovery notice's title (same placeholders). */
    recoveryMessage: z.string().min(1).max(500).optional(),
    /** Repeat a firing alert this often (`'30m'`), or `false` for once per episode. */
    repeatEvery: z.union([z.literal(false), durationSchema({ minMs: 1000 })]).optional(),
    /** Send an `info` notice when a fired rule resolves (default true). */
    recovery: z.boolean().optional(),
    /** `false` turns the rule off (the way to disable a default rule). */
    enabled: z.boolean().optional(),
  })
  .strict();

/** A rule entry as written in a config. */
export type RuleEntry = z.input<typeof ruleEntrySchema>;
/** A rule entry after parsing (durations in ms). */
export type ParsedRuleEntry = z.output<typeof ruleEntrySchema>;

/** A complete rule, defaults applied: what the engine evaluates. */
export interface AlertRule {
  name: string;
  /** Exactly one of `metric` and `signal`. */
  metric?: string;
  signal?: SignalName;
  aggregate: Aggregate;
  comparison: Comparison;
  threshold: number;
  criticalAt?: number;
  recoverAt?: number;
  forMs: number;
  severity: AlertSeverity;
  message: string;
  recoveryMessage: string;
  /** Undefined: never repeated. */
  repeatEveryMs?: number;
  recovery: boolean;
}

/** The title of an alert that names no `message`. */
export const DEFAULT_MESSAGE = '{rule}: {value} (threshold {threshold})';
/** The title of a recovery notice that names no `recoveryMessage`. */
export const DEFAULT_RECOVERY_MESSAGE = '{rule} resolved: {value}';

/**
 * Completes a parsed entry over a base (a default rule, or nothing), or says what is missing.
 *
 * @example
 * ```ts
 * completeRule({ name: 'x', signal: 'queue_depth', comparison: '>', threshold: 10 }, undefined, 1_800_000);
 * ```
 */
export function completeRule(
  entry: ParsedRuleEntry,
  base: AlertRule | undefined,
  repeatEveryMs: number,
): AlertRule | string {
  const watches = entry.metric !== undefined || entry.signal !== undefined;
  if (entry.metric !== undefined && entry.signal !== undefined) {
    return 'a rule watches a metric or a signal, not both';
  }
  const metric = watches ? entry.metric : base?.metric;
  const signal = watches ? entry.signal : base?.signal;
  if (metric === undefined && signal === undefined) {
    return `rule "${entry.name}" needs a metric (a Prometheus family) or a signal (${SIGNALS.join(', ')})`;
  }
  const comparison = entry.comparison ?? base?.comparison;
  if (comparison === undefined)
    return `rule "${entry.name}" needs a comparison (${COMPARISONS.join(' ')})`;
  const threshold = entry.threshold ?? base?.threshold;
  if (threshold === undefined) return `rule "${entry.name}" needs a threshold`;
  if (entry.aggregate !== undefined && metric === undefined) {
    return '`aggregate` applies to metric rules only';
  }
  const repeat =
    entry.repeatEvery === false
      ? undefined
      : (entry.repeatEvery ?? (base ? base.repeatEveryMs : repeatEveryMs));
  // A base's hysteresis follows its threshold unless the entry moves it.
  const recoverAt =
    entry.recoverAt ??
    (base?.recoverAt !== undefined && entry.threshold !== undefined
      ? entry.threshold + (base.recoverAt - base.threshold)
      : base?.recoverAt);
  return {
    name: entry.name,
    ...(metric !== undefined ? { metric } : {}),
    ...(signal !== undefined ? { signal } : {}),
    aggregate: entry.aggregate ?? base?.aggregate ?? 'each',
    comparison,
    threshold,
    ...(entry.criticalAt !== undefined || base?.criticalAt !== undefined
      ? { criticalAt: entry.criticalAt ?? base?.criticalAt }
      : {}),
    ...(recoverAt !== undefined ? { recoverAt } : {}),
    forMs: entry.for ?? base?.forMs ?? 0,
    severity: entry.severity ?? base?.severity ?? 'warning',
    message: entry.message ?? base?.message ?? DEFAULT_MESSAGE,
    recoveryMessage: entry.recoveryMessage ?? base?.recoveryMessage ?? DEFAULT_RECOVERY_MESSAGE,
    ...(repeat !== undefined ? { repeatEveryMs: repeat } : {}),
    recovery: entry.recovery ?? base?.recovery ?? true,
  };
}
