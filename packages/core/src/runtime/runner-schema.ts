import { z } from 'zod';
import type { RunnerOptions } from './runner.js';

const ms = z
  .number()
  .int()
  .positive()
  .max(24 * 3600_000);

/**
 * Schema of the `runner` config key: the task runner's settings, or `false` for a host that
 * only enqueues (another process on the same store runs the tasks).
 *
 * @example
 * ```ts
 * runnerConfigSchema.parse({ concurrency: 3, retention: false });
 * ```
 */
export const runnerConfigSchema = z.union([
  z.literal(false),
  z
    .object({
      concurrency: z.number().int().min(1).max(1000),
      leaseMs: z
        .number()
        .int()
        .min(100)
        .max(24 * 3600_000),
      pollMs: z.number().int().min(1).max(3600_000),
      recoverEveryMs: ms,
      killGraceMs: z.number().int().min(0).max(60_000),
      taskTimeoutMs: ms,
      retry: z.object({ initialDelayMs: z.number().int().min(0), maxDelayMs: ms }).strict(),
      batchSize: z.number().int().min(1).max(10_000),
      retention: z.union([
        z.literal(false),
        z
          .object({
            completedMs: z.number().int().min(60_000),
            failedMs: z.number().int().min(60_000),
          })
          .strict(),
      ]),
    })
    .partial()
    .strict(),
]);

/** The `runner` config key. */
export type RunnerConfig = Partial<RunnerOptions> | false;

/**
 * The `runner` config key, as the built-in preset declares it.
 *
 * @example
 * ```ts
 * const hostSchema = z.object({ ...runnerConfigShape }).strict();
 * ```
 */
export const runnerConfigShape = {
  runner: runnerConfigSchema.optional(),
};

// The hand-written config type must stay what the schema accepts.
type Accepts<A, B extends A> = B;
type _RunnerConfigChecked = Accepts<RunnerConfig | undefined, z.output<typeof runnerConfigSchema>>;
