import { AgentdError, type JsonValue, type Logger, type StateStore } from '@agentd/core';
import type { MetricsRegistry } from '../metrics.js';
import { type MetricSelector, parseSelector, readSeries } from './metric-selector.js';
import { type RuleAlert, RuleEngine, type SavedInstance } from './rule-engine.js';
import type { AlertRule, SignalName } from './rule-schema.js';
import { type BuiltinSignals, type RuleSeries, SIGNAL_UNITS } from './signals.js';

const STATE_NAMESPACE = 'monitor';
/** Firing rules kept longer than this across a stop are forgotten (their episode starts anew). */
const SAVED_TTL_MS = 7 * 86_400_000;

/**
 * One evaluation round of every rule: reads the built-in signals the rules need (once) and the
 * metric families they name from the host's prom-client registry, and runs each rule's series
 * through the {@link RuleEngine}.
 *
 * @example
 * ```ts
 * const evaluator = new RuleEvaluator(rules, signals, () => ctx.tryResolve(MetricsRegistryToken), logger);
 * for (const alert of await evaluator.evaluate(clock.now())) raise(alert);
 * ```
 */
export class RuleEvaluator {
  readonly engine = new RuleEngine();
  readonly #selectors = new Map<string, MetricSelector>();
  readonly #signals: Set<SignalName>;
  readonly #missingFamilies = new Set<string>();
  /** The snapshot last written, so an unchanged one is not written again. */
  #saved = '[]';

  constructor(
    readonly rules: readonly AlertRule[],
    private readonly signals: BuiltinSignals,
    private readonly metrics: () => MetricsRegistry | undefined,
    private readonly logger: Logger,
    /** Where firing rules are kept across restarts (none: forgotten at stop). */
    private readonly persistence?: { state: () => StateStore | undefined; key: string },
  ) {
    this.#signals = new Set(rules.flatMap((r) => (r.signal ? [r.signal] : [])));
    for (const rule of rules) {
      if (rule.metric === undefined) continue;
      const selector = parseSelector(rule.metric);
      // The options schema refused bad selectors already.
      if (typeof selector !== 'string') this.#selectors.set(rule.name, selector);
    }
  }

  /** Throws when a rule reads a metric and the host has no `metrics()` to read it from. */
  checkSources(): void {
    const metricRules = this.rules.filter((r) => r.metric !== undefined).map((r) => r.name);
    if (metricRules.length > 0 && !this.metrics()) {
      throw new AgentdError(
        'E_MONITOR_NO_METRICS',
        `alert rule(s) ${metricRules.join(', ')} read Prometheus metrics, but the host has no metrics() plugin: add metrics() from @agentd/plugin-monitor, or use a built-in signal`,
      );
    }
  }

  /** Takes back the rules that were firing when the host last stopped (or died). */
  async load(): Promise<void> {
    const state = this.persistence?.state();
    if (!state || !this.persistence) return;
    try {
      const saved = await state.get(STATE_NAMESPACE, this.persistence.key);
      if (!Array.isArray(saved)) return;
      this.engine.restore(
        saved as unknown as SavedInstance[],
        new Set(this.rules.map((r) => r.name)),
      );
      this.#saved = JSON.stringify(this.engine.snapshot());
    } catch (err) {
      this.logger.warn({ err }, 'alert rules: could not read the rules firing before this boot');
    }
  }

  async #save(): Promise<void> {
    const state = this.persistence?.state();
    if (!state || !this.persistence) return;
    const snapshot = this.engine.snapshot();
    const text = JSON.stringify(snapshot);
    if (text === this.#saved) return;
    try {
      await state.set(STATE_NAMESPACE, this.persistence.key, snapshot as unknown as JsonValue, {
        ttlMs: SAVED_TTL_MS,
      });
      this.#saved = text;
    } catch (err) {
      this.logger.warn({ err }, 'alert rules: could not keep the firing rules in the store');
    }
  }

  /** Evaluates every rule at `now`; returns the alerts to raise. */
  async evaluate(now: number): Promise<RuleAlert[]> {
    let values: Map<SignalName, RuleSeries[]>;
    try {
      values = this.#signals.size > 0 ? await this.signals.read(this.#signals) : new Map();
    } catch (err) {
      // The store is down: its own health check says so. Rules on it hold their state.
      this.logger.warn({ err }, 'alert rules: could not read the built-in signals');
      values = new Map();
    }
    const alerts: RuleAlert[] = [];
    for (const rule of this.rules) {
      const series = rule.signal ? values.get(rule.signal) : await this.#metricSeries(rule);
      const unit = rule.signal ? SIGNAL_UNITS[rule.signal] : undefined;
      alerts.push(...this.engine.evaluate(rule, series, unit, now));
    }
    await this.#save();
    return alerts;
  }

  async #metricSeries(rule: AlertRule): Promise<RuleSeries[] | undefined> {
    const selector = this.#selectors.get(rule.name);
    const registry = this.metrics()?.registry;
    if (!selector || !registry) return undefined;
    let found: Awaited<ReturnType<typeof readSeries>>;
    try {
      found = await readSeries(registry, selector);
    } catch (err) {
      this.logger.warn({ err, rule: rule.name }, 'alert rules: could not read a metric');
      return undefined;
    }
    if (found === undefined) {
      if (!this.#missingFamilies.has(selector.family)) {
        this.#missingFamilies.add(selector.family);
        this.logger.warn(
          { rule: rule.name, metric: selector.family },
          `alert rule "${rule.name}": the host's registry has no metric family ${selector.family} (yet)`,
        );
      }
      return [];
    }
    if (rule.aggregate === 'each') {
      return found.map((s) => ({
        key: Object.entries(s.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
        labels: s.labels,
        value: s.value,
      }));
    }
    if (found.length === 0) return [];
    const numbers = found.map((s) => s.value);
    const value =
      rule.aggregate === 'sum'
        ? numbers.reduce((a, b) => a + b, 0)
        : rule.aggregate === 'max'
          ? Math.max(...numbers)
          : Math.min(...numbers);
    return [{ key: '', labels: {}, value }];
  }
}
