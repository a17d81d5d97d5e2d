import type { Alert } from '@agentd/core';

/** One value a sample gives, with what it is measured against. */
export interface Reading {
  /** Stable per metric: `cpu`, `memory`, `disk:/var`. */
  key: string;
  /** How the alert names it: `CPU`, `Memory`, `Disk /var`. */
  label: string;
  /** Percent. */
  value: number;
  threshold: number;
  /** Samples in a row at or above the threshold before an alert. */
  samplesNeeded: number;
  /** From this value on the alert is `critical` rather than `warning` (none: never). */
  criticalAt?: number;
  /** Extra words for the alert, e.g. `12.3 GB free of 250 GB`. */
  detail: string;
}

/** An alert the watch wants raised, without a source (the plugin adds its name). */
export type WatchAlert = Omit<Alert, 'source' | 'at'>;

/** How far below its threshold a value must fall to count as recovered (no flapping). */
export const RECOVERY_MARGIN = 5;

interface MetricState {
  above: number;
  /** The severity last raised in this episode (none: not alerting). */
  raised: 'warning' | 'critical' | undefined;
  alertedAt: number;
  /** When this episode's first alert went out: part of its dedupe key, so a new episode is new. */
  episode: number;
  over: boolean;
  /** Over for as many samples in a row as an alert needs: what health reports. */
  sustained: boolean;
}

/**
 * Decides, sample after sample, which readings deserve an alert: a value at or above its
 * threshold for `samplesNeeded` samples raises one, again at once if it rises to critical, and
 * again every `repeatMs` while it stays high; a value back more than {@link RECOVERY_MARGIN}
 * points below raises an `info` that it recovered. Each episode (high, then recovered) has its
 * own dedupe keys, so a notifier's cooldown never swallows a new episode's first alert.
 *
 * @example
 * ```ts
 * const watch = new ThresholdWatch(30 * 60_000);
 * watch.evaluate([{ key: 'disk:/', label: 'Disk /', value: 93, threshold: 90, samplesNeeded: 1, detail: '' }], now);
 * // [{ severity: 'warning', title: 'Disk / at 93% (threshold 90%)', ... }]
 * ```
 */
export class ThresholdWatch {
  readonly #repeatMs: number;
  readonly #state = new Map<string, MetricState>();

  constructor(repeatMs: number) {
    this.#repeatMs = repeatMs;
  }

  /**
   * The readings at or above their thresholds for as many samples in a row as an alert needs
   * (health output): one busy sample of a 3-sample CPU rule does not make the host unhealthy.
   */
  over(): string[] {
    return [...this.#state].filter(([, s]) => s.sustained).map(([key]) => key);
  }

  evaluate(readings: readonly Reading[], now: number): WatchAlert[] {
    const alerts: WatchAlert[] = [];
    for (const r of readings) {
      const state = this.#state.get(r.key) ?? {
        above: 0,
        raised: undefined,
        alertedAt: 0,
        episode: 0,
        over: false,
        sustained: false,
      };
      this.#state.set(r.key, state);
      const value = Math.round(r.value);
      state.over = r.value >= r.threshold;
      state.sustained = false;
      if (state.over) {
        state.above++;
        state.sustained = state.above >= r.samplesNeeded;
        const severity =
          r.criticalAt !== undefined && r.value >= r.criticalAt ? 'critical' : 'warning';
        const due =
          state.raised === undefined ||
          (severity === 'critical' && state.raised === 'warning') ||
          now - state.alertedAt >= this.#repeatMs;
        if (state.above >= r.samplesNeeded && due) {
          if (state.raised === undefined) state.episode = now;
          state.raised = severity;
          state.alertedAt = now;
          alerts.push({
            severity,
            title: `${r.label} at ${value}% (threshold ${r.threshold}%)`,
            message: r.detail,
            dedupeKey: `monitor:${r.key}:${state.episode}:${severity}`,
          });
        }
        continue;
      }
      state.above = 0;
      if (state.raised !== undefined && r.value < r.threshold - RECOVERY_MARGIN) {
        state.raised = undefined;
        alerts.push({
          severity: 'info',
          title: `${r.label} back to ${value}%`,
          message: r.detail,
          dedupeKey: `monitor:${r.key}:${state.episode}:recovered`,
        });
      }
    }
    return alerts;
  }
}
