/**
 * @module @agentd/store-postgres
 * agentd's PostgreSQL store: tasks, sessions and state in one database that several hosts share.
 */

export {};
