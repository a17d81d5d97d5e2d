import { z } from 'zod';

/**
 * Options of `dashboard()`.
 *
 * @example
 * ```ts
 * const options: DashboardOptions = { token: '${AGENTD_API_TOKEN}' };
 * ```
 */
export const dashboardOptionsSchema = z
  .object({
    /** Where the UI is served; its JSON API lives under `${path}/api`. */
    path: z
      .string()
      .regex(/^\/[a-z0-9][a-z0-9/_-]*[a-z0-9]$/, 'a path such as /dashboard (no trailing slash)')
      .default('/dashboard'),
    /**
     * `auto`: open without login while the HTTP server listens on loopback only, a login with
     * `token` beyond it. `login`: always ask for the token.
     */
    auth: z.enum(['auto', 'login']).default('auto'),
    /**
     * The token the login form checks (use the API token: `'${AGENTD_API_TOKEN}'`). Required
     * when a login is required.
     */
    token: z
      .string()
      .min(
        16,
        'use at least 16 characters (e.g. `openssl rand -hex 32`), from an environment variable',
      )
      .optional(),
    /** How long a login lasts without use (ms). */
    sessionIdleMs: z
      .number()
      .int()
      .min(60_000)
      .max(30 * 24 * 3600_000)
      .default(12 * 3600_000),
    /** Most open live-update streams (browser tabs); more are refused with 503. */
    maxStreams: z.number().int().min(1).max(1000).default(50),
  })
  .strict();

/** What `dashboard()` accepts. */
export type DashboardOptions = z.input<typeof dashboardOptionsSchema>;
/** The options with defaults applied. */
export type ResolvedDashboardOptions = z.output<typeof dashboardOptionsSchema>;
