import { z } from 'zod';

const percent = z.number().min(0).max(100);

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
    /** How often to sample, in seconds (default 60). */
    intervalSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Percentages at which an alert is raised. */
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
    /** The same alert is repeated at most this often while the value stays high (default 30). */
    repeatMinutes: z.number().int().min(1).max(10_080).default(30),
    /** Answer `/system` on every channel with the latest figures (default true). */
    command: z.boolean().default(true),
  })
  .strict();

/** Options for `monitor()`, as written in a config. */
export type MonitorOptions = z.input<typeof monitorOptionsSchema>;
/** The options after validation and defaults. */
export type ResolvedMonitorOptions = z.output<typeof monitorOptionsSchema>;
