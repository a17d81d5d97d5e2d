import { z } from 'zod';
import type { ClassifierRule, ErrorClass, FailoverAction } from '../contracts/failover.js';
import { ERROR_CLASSES } from './classifier.js';

const errorClass = z.enum(ERROR_CLASSES as [ErrorClass, ...ErrorClass[]]);
const action = z.enum(['retry', 'failover', 'give_up'] satisfies FailoverAction[]);
const ms = z
  .number()
  .int()
  .min(0)
  .max(24 * 3_600_000);

const backoffSchema = z.object({ initialDelayMs: ms, maxDelayMs: ms }).partial().strict();
const circuitSchema = z
  .object({ threshold: z.number().int().min(1).max(1000), halfOpenAfterMs: ms })
  .partial()
  .strict();

const ruleSchema = z.object({
  match: z.union([
    z.instanceof(RegExp),
    z.custom<(error: unknown) => boolean>((v) => typeof v === 'function', 'must be a function'),
  ]),
  class: errorClass,
  action: action.optional(),
});

/**
 * Schema of the `failover` config key.
 *
 * @example
 * ```ts
 * failoverConfigSchema.parse({ chains: ['research -> reasoning -> executor'], retries: 2 });
 * ```
 */
export const failoverConfigSchema = z
  .object({
    /**
     * Chains as `'research -> reasoning -> executor'` strings, or `{ research: ['reasoning', 'executor'] }`.
     */
    chains: z.union([
      z.array(z.string().regex(/^\s*[^\s>-][^>]*(->[^>]+)*$/, 'use "a -> b -> c"')),
      z.record(z.string(), z.array(z.string().min(1))),
    ]),
    /** Extra attempts on the same agent for retryable errors (default 2). */
    retries: z.number().int().min(0).max(20),
    backoff: backoffSchema,
    /** Wait at most this long for a Retry-After in-chain; longer waits move on (default 60 s). */
    maxRetryAfterMs: ms,
    circuit: circuitSchema,
    /** Per-agent overrides of `retries`, `backoff` and `circuit`. */
    agents: z.record(
      z.string(),
      z
        .object({
          retries: z.number().int().min(0).max(20),
          backoff: backoffSchema,
          circuit: circuitSchema,
        })
        .partial()
        .strict(),
    ),
    /** Overrides of the default action per class, e.g. `{ timeout: 'failover' }`. */
    actions: z.partialRecord(errorClass, action),
    /** Classifier rules tried before the built-in ones. */
    rules: z.array(ruleSchema),
    /** Send an alert when a task fails after every agent was tried (default true). */
    alertOnExhaustion: z.boolean(),
  })
  .partial()
  .strict();

/** The `failover` config key. */
export type FailoverConfig = z.input<typeof failoverConfigSchema> & { rules?: ClassifierRule[] };

const money = z.number().min(0);

/**
 * Schema of the `budgets` config key.
 *
 * @example
 * ```ts
 * budgetsConfigSchema.parse({ rateLimits: { perMinute: 10 }, cost: { dailyUsd: 5 } });
 * ```
 */
export const budgetsConfigSchema = z
  .object({
    /** Per-user message limits (default 30 per minute and 500 per hour); `false` turns them off. */
    rateLimits: z.union([
      z.literal(false),
      z
        .object({
          perMinute: z.number().int().min(1),
          perHour: z.number().int().min(1),
        })
        .partial()
        .strict(),
    ]),
    /** Cost caps in US dollars from agents' reported usage (UTC days and months). */
    cost: z
      .object({ dailyUsd: money, monthlyUsd: money, warnAtFraction: z.number().min(0).max(1) })
      .partial()
      .strict(),
    /** Prices per million tokens by model, for agents that report tokens but no cost. */
    prices: z.record(
      z.string(),
      z.object({ inputPerMTokUsd: money, outputPerMTokUsd: money }).strict(),
    ),
    /** User keys (`channel:id`) exempt from rate limits, e.g. the operator. */
    exempt: z.array(z.string()),
  })
  .partial()
  .strict();

/** The `budgets` config key. */
export type BudgetsConfig = z.input<typeof budgetsConfigSchema>;

/**
 * The config keys of failover and budgets, to spread into the host config schema (like
 * `schedulerConfigShape`).
 *
 * @example
 * ```ts
 * const hostConfigSchema = z.object({ ...failoverConfigShape, ...schedulerConfigShape }).strict();
 * ```
 */
export const failoverConfigShape = {
  failover: failoverConfigSchema.optional(),
  budgets: budgetsConfigSchema.optional(),
};

/**
 * Parses an arrow chain (`'research -> reasoning -> executor'`) into agent names.
 *
 * @example
 * ```ts
 * parseChain('research -> reasoning -> executor'); // ['research', 'reasoning', 'executor']
 * ```
 */
export function parseChain(text: string): string[] {
  return text
    .split('->')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Chains from either config form, keyed by their first agent (which is not repeated in the list).
 *
 * @example
 * ```ts
 * normalizeChains(['a -> b -> c']); // { a: ['b', 'c'] }
 * ```
 */
export function normalizeChains(chains: FailoverConfig['chains']): Record<string, string[]> {
  if (!chains) return {};
  if (Array.isArray(chains)) {
    const out: Record<string, string[]> = {};
    for (const text of chains) {
      const [head, ...rest] = parseChain(text);
      if (head) out[head] = rest;
    }
    return out;
  }
  return Object.fromEntries(Object.entries(chains).map(([k, v]) => [k, [...v]]));
}
