/**
 * The error codes `@agentd/plugin-dashboard` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix).
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_DASHBOARD_TOKEN') console.error('set token');
 * ```
 */
export const DASHBOARD_ERROR_CODES = {
  E_DASHBOARD_TOKEN:
    'The dashboard is served beyond loopback (or with auth "login") but has no token to check logins against.',
  E_DASHBOARD_ASSETS:
    "The dashboard's prebuilt browser assets are missing (the package was not built).",
} as const;

type DashboardErrorCodes = typeof DASHBOARD_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends DashboardErrorCodes {}
}
