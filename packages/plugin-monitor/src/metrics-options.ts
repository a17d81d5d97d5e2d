import { z } from 'zod';

const buckets = z
  .array(z.number().positive())
  .min(1)
  .max(50)
  .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), 'must be increasing');

/** Seconds a task waits from runnable to started: 5 ms (a warm runner) to an hour (a backlog). */
export const DEFAULT_WAIT_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
] as const;
/** Seconds one attempt runs: 10 ms (an echo) to an hour (a long agent run). */
export const DEFAULT_RUN_BUCKETS = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
] as const;

/**
 * The metrics plugin's options schema (zod), exported for tools that check configs.
 *
 * @example
 * ```ts
 * metricsOptionsSchema.parse({}).path; // '/metrics'
 * ```
 */
export const metricsOptionsSchema = z
  .object({
    /** Where the scrape route is mounted on the host's HTTP server (default `/metrics`). */
    path: z
      .string()
      .regex(/^\/[^\s?#]*$/, 'a path such as /metrics')
      .default('/metrics'),
    /**
     * Who may scrape. `auto` (default): open while the HTTP server listens on loopback only,
     * the API token (`Authorization: Bearer`) once it is bound beyond it. `bearer`: always the
     * token. `none`: never (only behind a proxy that authenticates).
     */
    auth: z.enum(['auto', 'bearer', 'none']).default('auto'),
    /** The process's own metrics (CPU, RSS, heap, event-loop lag, GC), default true. */
    processMetrics: z.boolean().default(true),
    /**
     * Keep key series in the host's state store (1-minute points for 7 days, 1-hour points for
     * 90 days), for charts, reports and rules without Prometheus; default true (needs a store).
     */
    history: z.boolean().default(true),
    /**
     * Store figures (tasks by status and priority, oldest runnable task, owed replies, open dead
     * letters, sessions) are read at most this often (ms, default 1000): several scrapers at
     * once cost one read.
     */
    storeCacheMs: z.number().int().min(0).max(300_000).default(1000),
    /** Histogram buckets, in seconds. */
    buckets: z
      .object({
        wait: buckets.default([...DEFAULT_WAIT_BUCKETS]),
        run: buckets.default([...DEFAULT_RUN_BUCKETS]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Options for `metrics()`, as written in a config. */
export type MetricsOptions = z.input<typeof metricsOptionsSchema>;
/** The options after validation and defaults. */
export type ResolvedMetricsOptions = z.output<typeof metricsOptionsSchema>;
