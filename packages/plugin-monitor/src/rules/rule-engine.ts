import type { Alert, AlertSeverity } from '@agentd/core';
import { formatDuration } from '../duration.js';
import type { AlertRule, Comparison } from './rule-schema.js';
import type { RuleSeries, SignalUnit } from './signals.js';

/** An alert the engine wants raised, without a source (the plugin adds its name). */
export type RuleAlert = Omit<Alert, 'source' | 'at'>;

/** Where one rule's series stands: `pending` (condition true, waiting out `for`) or `firing`. */
export interface RuleInstance {
  rule: string;
  /** The series' key within its rule (empty for a single series). */
  series: string;
  state: 'pending' | 'firing';
  /** When the condition became true. */
  since: number;
  value: number;
  severity: AlertSeverity;
}

/** A firing instance as kept in the state store (JSON). */
export interface SavedInstance {
  rule: string;
  series: string;
  labels: Record<string, string>;
  since: number;
  value: number;
  severity: AlertSeverity;
  episode: number;
  lastSentAt: number;
}

interface InstanceState extends RuleInstance {
  labels: Record<string, string>;
  /** When the first alert of this episode went out: part of its dedupe keys. */
  episode: number;
  lastSentAt: number;
}

/**
 * True when `value` meets the condition.
 *
 * @example
 * ```ts
 * compare(93, '>=', 90); // true
 * ```
 */
export function compare(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** Whether a firing value has come back past `recoverAt` (or left the condition when none). */
function recovered(rule: AlertRule, value: number): boolean {
  if (rule.recoverAt === undefined) return !compare(value, rule.comparison, rule.threshold);
  switch (rule.comparison) {
    case '>':
    case '>=':
      return value < rule.recoverAt;
    case '<':
    case '<=':
      return value > rule.recoverAt;
    default:
      return !compare(value, rule.comparison, rule.threshold);
  }
}

/**
 * A value for people, in its unit: `93%` (percent), `62%` (ratio), `11m` (seconds), `3`.
 *
 * @example
 * ```ts
 * formatValue(0.62, 'ratio'); // '62%'
 * ```
 */
export function formatValue(value: number, unit: SignalUnit | undefined): string {
  switch (unit) {
    case 'percent':
      return `${Math.round(value)}%`;
    case 'ratio':
      return `${Math.round(value * 100)}%`;
    case 'seconds':
      return value === 0 ? '0s' : formatDuration(value * 1000);
    default:
      return String(Number.isInteger(value) ? value : Number(value.toPrecision(4)));
  }
}

/**
 * Fills a message's placeholders: `{value}`, `{threshold}`, `{rule}`, `{for}`, and the series'
 * labels (`{path}`, `{agent}`). Unknown placeholders stay as written.
 *
 * @example
 * ```ts
 * render('Disk {path} at {value}', { path: '/', value: '93%' }); // 'Disk / at 93%'
 * ```
 */
export function render(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : whole,
  );
}

/**
 * The alert rules' state machine. Each series of a rule is an instance: its condition turning
 * true makes it `pending`; holding for the rule's `for` makes it `firing` and raises the rule's
 * alert; while it fires the alert repeats every `repeatEvery` (at once when it turns critical);
 * once the value is back (past `recoverAt` when set) it resolves with an `info` recovery notice.
 * A pending instance whose condition ends is dropped without a word. Dedupe keys are one per
 * episode and severity (`monitor:<rule>[:<series>]:<episode>:<severity>`, and `:resolved`), so
 * the notifier's cooldown swallows duplicates but never a new episode.
 *
 * @example
 * ```ts
 * const engine = new RuleEngine();
 * const alerts = engine.evaluate(rule, [{ key: '', labels: {}, value: 97 }], 'percent', now);
 * ```
 */
export class RuleEngine {
  readonly #instances = new Map<string, InstanceState>();

  /** Every pending and firing instance. */
  instances(): RuleInstance[] {
    return [...this.#instances.values()].map(({ rule, series, state, since, value, severity }) => ({
      rule,
      series,
      state,
      since,
      value,
      severity,
    }));
  }

  /**
   * The firing instances, to keep across a restart: a host that comes back (or keeps
   * restarting) goes on with the same episodes instead of raising each alert again.
   */
  snapshot(): SavedInstance[] {
    return [...this.#instances.values()]
      .filter((i) => i.state === 'firing')
      .map(({ rule, series, labels, since, value, severity, episode, lastSentAt }) => ({
        rule,
        series,
        labels,
        since,
        value,
        severity,
        episode,
        lastSentAt,
      }));
  }

  /** Takes back the firing instances of a snapshot, for the rules in `names`. */
  restore(saved: readonly SavedInstance[], names: ReadonlySet<string>): void {
    for (const s of saved) {
      if (!names.has(s.rule)) continue;
      this.#instances.set(`${s.rule}\u0000${s.series}`, { ...s, state: 'firing' });
    }
  }

  /**
   * Evaluates one rule against its current series (`undefined`: the source could not be read,
   * so nothing changes) and returns the alerts to raise.
   */
  evaluate(
    rule: AlertRule,
    series: readonly RuleSeries[] | undefined,
    unit: SignalUnit | undefined,
    now: number,
  ): RuleAlert[] {
    if (series === undefined) return [];
    const alerts: RuleAlert[] = [];
    const seen = new Set<string>();
    for (const s of series) {
      const key = `${rule.name}\u0000${s.key}`;
      seen.add(key);
      const instance = this.#instances.get(key);
      const holds = compare(s.value, rule.comparison, rule.threshold);
      if (!instance) {
        if (!holds) continue;
        const fresh: InstanceState = {
          rule: rule.name,
          series: s.key,
          labels: s.labels,
          state: 'pending',
          since: now,
          value: s.value,
          severity: rule.severity,
          episode: now,
          lastSentAt: 0,
        };
        this.#instances.set(key, fresh);
        this.#advance(rule, fresh, s, unit, now, alerts);
        continue;
      }
      instance.value = s.value;
      if (instance.state === 'pending') {
        if (holds) this.#advance(rule, instance, s, unit, now, alerts);
        else this.#instances.delete(key);
        continue;
      }
      if (recovered(rule, s.value)) {
        this.#instances.delete(key);
        if (rule.recovery) alerts.push(this.#recovery(rule, instance, s, unit));
        continue;
      }
      // Firing, and still not back: escalate, or repeat when due. In the hysteresis band
      // (condition false, not yet past recoverAt) it neither repeats nor escalates.
      if (holds) this.#repeat(rule, instance, s, unit, now, alerts);
    }
    // A series that disappeared (a circuit forgotten, a disk unmounted, a label gone) resolves.
    for (const [key, instance] of this.#instances) {
      if (instance.rule !== rule.name || seen.has(key)) continue;
      this.#instances.delete(key);
      if (instance.state === 'firing' && rule.recovery) {
        alerts.push(
          this.#recovery(
            rule,
            instance,
            { key: instance.series, labels: instance.labels, value: NaN },
            unit,
          ),
        );
      }
    }
    return alerts;
  }

  #severityOf(rule: AlertRule, value: number): AlertSeverity {
    return rule.criticalAt !== undefined && compare(value, rule.comparison, rule.criticalAt)
      ? 'critical'
      : rule.severity;
  }

  #advance(
    rule: AlertRule,
    instance: InstanceState,
    s: RuleSeries,
    unit: SignalUnit | undefined,
    now: number,
    alerts: RuleAlert[],
  ): void {
    if (now - instance.since < rule.forMs) return;
    instance.state = 'firing';
    instance.episode = now;
    instance.severity = this.#severityOf(rule, s.value);
    instance.lastSentAt = now;
    alerts.push(this.#firing(rule, instance, s, unit));
  }

  #repeat(
    rule: AlertRule,
    instance: InstanceState,
    s: RuleSeries,
    unit: SignalUnit | undefined,
    now: number,
    alerts: RuleAlert[],
  ): void {
    const severity = this.#severityOf(rule, s.value);
    const escalated = severity === 'critical' && instance.severity !== 'critical';
    const due = rule.repeatEveryMs !== undefined && now - instance.lastSentAt >= rule.repeatEveryMs;
    if (!escalated && !due) return;
    if (escalated) instance.severity = severity;
    instance.lastSentAt = now;
    alerts.push(this.#firing(rule, instance, s, unit));
  }

  #values(rule: AlertRule, s: RuleSeries, unit: SignalUnit | undefined): Record<string, string> {
    return {
      ...s.labels,
      rule: rule.name,
      value: Number.isNaN(s.value) ? 'no data' : formatValue(s.value, unit),
      threshold: formatValue(rule.threshold, unit),
      for: formatDuration(rule.forMs),
    };
  }

  #keyOf(rule: AlertRule, instance: InstanceState): string {
    return `monitor:${rule.name}${instance.series ? `:${instance.series}` : ''}:${instance.episode}`;
  }

  #firing(
    rule: AlertRule,
    instance: InstanceState,
    s: RuleSeries,
    unit: SignalUnit | undefined,
  ): RuleAlert {
    const values = this.#values(rule, s, unit);
    return {
      severity: instance.severity,
      title: render(rule.message, values),
      message:
        s.detail ??
        `${rule.metric ?? rule.signal} ${rule.comparison} ${values.threshold}${rule.forMs > 0 ? ` for ${values.for}` : ''} (rule ${rule.name})`,
      dedupeKey: `${this.#keyOf(rule, instance)}:${instance.severity}`,
    };
  }

  #recovery(
    rule: AlertRule,
    instance: InstanceState,
    s: RuleSeries,
    unit: SignalUnit | undefined,
  ): RuleAlert {
    const values = this.#values(rule, s, unit);
    return {
      severity: 'info',
      title: render(rule.recoveryMessage, values),
      message:
        s.detail ?? `firing since ${new Date(instance.episode).toISOString()} (rule ${rule.name})`,
      dedupeKey: `${this.#keyOf(rule, instance)}:resolved`,
    };
  }
}
