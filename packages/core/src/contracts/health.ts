import { createToken } from '../kernel/token.js';

/** `pass`: healthy; `warn`: degraded but serving; `fail`: broken. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** One check's answer, shaped after the IETF health-check draft (`application/health+json`). */
export interface HealthResult {
  status: HealthStatus;
  /** Short human explanation, required for warn and fail. */
  output?: string;
  observedValue?: number | string | boolean;
  observedUnit?: string;
}

/**
 * A named probe of one part of the host. Checks must be cheap: `/health` runs them all and
 * must answer in a few milliseconds.
 *
 * @example
 * ```ts
 * ctx.resolve(HealthRegistryToken).add({
 *   name: 'telegram:polling',
 *   check: () => (Date.now() - lastPoll < 60_000 ? { status: 'pass' } : { status: 'fail', output: 'no poll for 60 s' }),
 * });
 * ```
 */
export interface HealthCheck {
  name: string;
  check(signal: AbortSignal): Promise<HealthResult> | HealthResult;
}

/** The overall answer: the worst status of all checks. */
export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, HealthResult>;
}

/** All checks of a host. Provided by the kernel. */
export interface HealthRegistry {
  add(check: HealthCheck): () => void;
  /** Runs every check (each with `timeoutMs`, default 1000) and combines the results. */
  run(options?: { timeoutMs?: number }): Promise<HealthReport>;
}

export const HealthRegistryToken = createToken<HealthRegistry>('agentd.health');
