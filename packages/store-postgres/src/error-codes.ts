/**
 * The error codes only `@agentd/store-postgres` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix). The codes every store
 * raises (`E_INVALID_SESSION`, `E_STORE_NOT_OPEN`, `E_STORE_SCHEMA_NEWER`, ...) are core's.
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_POSTGRES_UNREACHABLE') console.error(error.message);
 * ```
 */
export const POSTGRES_ERROR_CODES = {
  E_POSTGRES_OPTIONS: 'openPostgresStore() or postgres() was given options it cannot use.',
  E_POSTGRES_UNREACHABLE: 'The PostgreSQL server could not be reached or refused the connection.',
} as const;

type PostgresErrorCodes = typeof POSTGRES_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends PostgresErrorCodes {}
}
