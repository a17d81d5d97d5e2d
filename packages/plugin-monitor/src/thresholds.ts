import type { AlertRule } from './rules/rule-schema.js';

/** The options the default rules are made from (the `thresholds` options are sugar for them). */
export interface DefaultRuleSettings {
  thresholds: { cpu: number; memory: number; disk: number };
  cpuSamples: number;
  intervalSeconds: number;
  repeatMinutes: number;
}

/** How far below its threshold a system value must fall to count as recovered (no flapping). */
export const RECOVERY_MARGIN = 5;
/** From this percent on, memory and disks alert as `critical`. */
export const CRITICAL_PERCENT = 95;

/**
 * The machine's rules, `cpu`, `memory` and `disk`, made from the monitor's `thresholds`,
 * `cpuSamples`, `intervalSeconds` and `repeatMinutes` options: a value at or above its threshold
 * fires (CPU only after `cpuSamples` samples in a row), memory and disks turn critical from 95 %,
 * and a value must fall {@link RECOVERY_MARGIN} points below its threshold to resolve.
 *
 * @example
 * ```ts
 * systemRules({ thresholds: { cpu: 85, memory: 85, disk: 90 }, cpuSamples: 3, intervalSeconds: 60, repeatMinutes: 30 })
 *   .find((r) => r.name === 'cpu')?.forMs; // 120_000
 * ```
 */
export function systemRules(s: DefaultRuleSettings): AlertRule[] {
  const base = {
    aggregate: 'each',
    recovery: true,
    repeatEveryMs: s.repeatMinutes * 60_000,
  } as const;
  return [
    {
      ...base,
      name: 'cpu',
      signal: 'system_cpu_percent',
      comparison: '>=',
      threshold: s.thresholds.cpu,
      recoverAt: s.thresholds.cpu - RECOVERY_MARGIN,
      // N samples in a row: the first is at the start of the wait, the N-th N-1 intervals later.
      forMs: (s.cpuSamples - 1) * s.intervalSeconds * 1000,
      severity: 'warning',
      message: 'CPU at {value} (threshold {threshold})',
      recoveryMessage: 'CPU back to {value}',
    },
    {
      ...base,
      name: 'memory',
      signal: 'system_memory_percent',
      comparison: '>=',
      threshold: s.thresholds.memory,
      recoverAt: s.thresholds.memory - RECOVERY_MARGIN,
      criticalAt: Math.max(s.thresholds.memory, CRITICAL_PERCENT),
      forMs: 0,
      severity: 'warning',
      message: 'Memory at {value} (threshold {threshold})',
      recoveryMessage: 'Memory back to {value}',
    },
    {
      ...base,
      name: 'disk',
      signal: 'system_disk_percent',
      comparison: '>=',
      threshold: s.thresholds.disk,
      recoverAt: s.thresholds.disk - RECOVERY_MARGIN,
      criticalAt: Math.max(s.thresholds.disk, CRITICAL_PERCENT),
      forMs: 0,
      severity: 'warning',
      message: 'Disk {path} at {value} (threshold {threshold})',
      recoveryMessage: 'Disk {path} back to {value}',
    },
  ];
}
