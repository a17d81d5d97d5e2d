/**
 * The error codes only `@agentd/store-sqlite` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix). The codes every store
 * raises (`E_INVALID_TASK`, `E_STORE_NOT_OPEN`, `E_STORE_SCHEMA_NEWER`, ...) are core's.
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_STORE_CORRUPT') console.error(error.message);
 * ```
 */
export const SQLITE_ERROR_CODES = {
  E_STORE_CORRUPT: 'The database file is damaged and no good backup could be restored.',
  E_STORE_ACCESS:
    'The database file or its folder cannot be opened, locked or written by this process (permissions, a read-only mount, a lock).',
  E_STORE_OPTIONS: 'openSqliteStore() was given options it cannot use.',
} as const;

type SqliteErrorCodes = typeof SQLITE_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends SqliteErrorCodes {}
}
