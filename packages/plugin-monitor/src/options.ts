import { z } from 'zod';
import { heartbeatOptionsSchema } from './heartbeat.js';
import { resolveRules } from './rules/default-rules.js';
import { ruleEntrySchema } from './rules/rule-schema.js';
import type { SystemSample } from './sample.js';

const percent = z.number().min(0).max(100);

/**
 * Takes a reading of the machine in place of systeminformation (a container reading its cgroup
 * limits, a test). Given the watched paths; the monitor stamps the time.
 */
export type SystemSampler = (paths: readonly string[]) => Promise<Omit<SystemSample, 'at'>>;

/**
 * The monitor plugin's options schema (zod), exported for tools that check configs.
 *
 * @example
 * ```ts
 * monitorOptionsSchema.parse({}).thresholds; // { cpu: 85, memory: 85, disk: 90 }
 * ```
 */
export const monitorOptionsSchema = z
  .object({
    /** How often to sample the machine and evaluate the rules, in seconds (default 60). */
    intervalSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Percentages at which the `cpu`, `memory` and `disk` rules fire. */
    thresholds: z
      .object({
        cpu: percent.default(85),
        memory: percent.default(85),
        disk: percent.default(90),
      })
      .strict()
      .prefault({}),
    /**
     * Samples in a row a value must stay at or above its threshold before the alert: a CPU
     * spike is not worth a page. Memory and disks alert at the first sample.
     */
    cpuSamples: z.number().int().min(1).max(100).default(3),
    /**
     * Paths whose file systems are watched (default: the host's data directory, where the
     * store lives: a full disk there stops every write).
     */
    disks: z.array(z.string().min(1)).min(1).optional(),
    /** A firing rule's alert is repeated this often unless the rule says otherwise (default 30). */
    repeatMinutes: z.number().int().min(1).max(10_080).default(30),
    /** Answer `/system` on every channel with the latest figures (default true). */
    command: z.boolean().default(true),
    /** Run the default rules (default true); each can still be overridden or disabled by name. */
    defaultRules: z.boolean().default(true),
    /** Alert rules: new ones, and overrides (`{ name: 'disk', threshold: 95 }`) of the defaults. */
    rules: z.array(ruleEntrySchema).max(200).default([]),
    /** The dead man's switch: an outbound ping the receiver alerts on when it stops. */
    heartbeat: heartbeatOptionsSchema.optional(),
    /** Replaces the systeminformation sampler (see {@link SystemSampler}). */
    sampler: z
      .custom<SystemSampler>((v) => typeof v === 'function', 'sampler must be a function')
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    for (const issue of resolveRules(o).issues) {
      ctx.addIssue({ code: 'custom', path: ['rules', issue.index], message: issue.message });
    }
  });

/** Options for `monitor()`, as written in a config. */
export type MonitorOptions = z.input<typeof monitorOptionsSchema>;
/** The options after validation and defaults. */
export type ResolvedMonitorOptions = z.output<typeof monitorOptionsSchema>;
