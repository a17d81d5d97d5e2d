import type { Kysely } from 'kysely';
import type pg from 'pg';

/**
 * One open connection pool to the store's database, shared by the store's parts (tasks,
 * sessions, state). Every table lives in `schema`, so several stores (and parallel tests) can
 * share one database.
 */
export interface PostgresHandle {
  readonly pool: pg.Pool;
  /** Kysely over the same pool, for queries that are not on the hot path. */
  // biome-ignore lint/suspicious/noExplicitAny: tables are named at run time (the schema is an option).
  readonly db: Kysely<any>;
  /** The schema every table is in (default `agentd`). */
  readonly schema: string;
  /** A table's schema-qualified, quoted name for raw SQL: `"agentd"."tasks"`. */
  table(name: string): string;
}

/** One step of the schema, applied once, in order, under an advisory lock. */
export interface Migration {
  /** `0001_tasks`: the order is the array's, the name is what is recorded as applied. */
  readonly name: string;
  /** Statements to run in one transaction. Use `{{schema}}` where the schema name goes. */
  readonly sql: string;
}
