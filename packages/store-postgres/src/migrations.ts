import { AgentdError } from '@agentd/core';
import type pg from 'pg';
import { withClient } from './client.js';
import type { Migration } from './handle.js';

/**
 * The advisory lock every host takes while it migrates one schema: the first key names
 * agentd's migrations, the second the schema, so stores in other schemas of the same database
 * migrate independently. A transaction-level lock (released by the transaction's end), not a
 * session one: behind PgBouncer in transaction mode consecutive statements outside a
 * transaction may run on different server connections, and a session lock would be taken on
 * one and released (or not) on another.
 */
const LOCK_SQL = "select pg_advisory_xact_lock(hashtext('agentd.migrations'), hashtext($1))";

/** A schema name that is safe to put in SQL unquoted or quoted: letters, digits, `_`. */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A migration's SQL with `{{schema}}` replaced by the schema name. The SQL quotes it
 * (`"{{schema}}".tasks`); the name is checked against {@link SCHEMA_NAME} first, so it cannot
 * break out of the quotes.
 */
export function migrationSql(migration: Migration, schema: string): string {
  return migration.sql.replaceAll('{{schema}}', schema);
}

/**
 * Applies `migrations` in order to `schema`, each once, and returns the names it applied (`[]`
 * when the schema is current). Several hosts may call it at the same moment: each takes a
 * transaction-level `pg_advisory_xact_lock` on the schema first, so one migrates and the others then
 * find everything applied. Each migration runs in its own transaction together with the row
 * that records it in `<schema>.migrations`, so a failed migration leaves nothing half-applied.
 *
 * Refuses, with `E_STORE_SCHEMA_NEWER`, a schema that a newer version migrated (an applied name
 * this list does not know); a failing migration raises `E_STORE_SCHEMA`.
 *
 * @example
 * ```ts
 * const applied = await applyMigrations(pool, 'agentd', ALL_MIGRATIONS); // [] once current
 * ```
 */
export async function applyMigrations(
  pool: pg.Pool,
  schema: string,
  migrations: readonly Migration[],
  now: () => number = Date.now,
): Promise<string[]> {
  if (!SCHEMA_NAME.test(schema)) {
    throw new AgentdError(
      'E_POSTGRES_OPTIONS',
      `schema must be letters, digits and _ (at most 63, not starting with a digit), got ${JSON.stringify(schema)}`,
    );
  }
  return withClient(pool, async (client) => {
    const done: string[] = [];
    // One transaction per migration, each under the lock: a failed migration leaves the ones
    // before it applied, and the lock ends with each transaction.
    for (;;) {
      await client.query('begin');
      let next: Migration | undefined;
      try {
        await client.query(LOCK_SQL, [schema]);
        await client.query(`create schema if not exists "${schema}"`);
        await client.query(
          `create table if not exists "${schema}".migrations (
             name text primary key,
             applied_at bigint not null
           )`,
        );
        const { rows } = await client.query<{ name: string }>(
          `select name from "${schema}".migrations`,
        );
        const applied = new Set(rows.map((row) => row.name));
        const known = new Set(migrations.map((m) => m.name));
        const unknown = [...applied].filter((name) => !known.has(name));
        if (unknown.length > 0) {
          throw new AgentdError(
            'E_STORE_SCHEMA_NEWER',
            `the PostgreSQL schema "${schema}" was migrated by a newer @agentd/store-postgres (unknown migrations: ${unknown.join(', ')}); upgrade this host`,
          );
        }
        next = migrations.find((m) => !applied.has(m.name));
        if (next) {
          try {
            await client.query(migrationSql(next, schema));
          } catch (error) {
            throw new AgentdError(
              'E_STORE_SCHEMA',
              `migration ${next.name} of the PostgreSQL schema "${schema}" failed: ${(error as Error).message}`,
              { cause: error },
            );
          }
          await client.query(
            `insert into "${schema}".migrations (name, applied_at) values ($1, $2)`,
            [next.name, now()],
          );
        }
        await client.query('commit');
      } catch (error) {
        // A connection that broke lost its transaction and lock with it (withClient destroys it).
        await client.query('rollback').catch(() => {});
        throw error;
      }
      if (!next) return done;
      done.push(next.name);
    }
  });
}
