import { AgentdError } from '@agentd/core';
import type BetterSqlite3 from 'better-sqlite3';

const schemaError = (message: string) => new AgentdError('E_STORE_SCHEMA', message);

/**
 * Rebuilds `table` from a rewritten `CREATE TABLE` statement, keeping every row (rowids
 * included), index and trigger: SQLite's documented way to make a change `ALTER TABLE` cannot,
 * such as rewriting a CHECK constraint (https://sqlite.org/lang_altertable.html#otheralter).
 *
 * `rewrite` receives the table's current `CREATE TABLE` text and returns the new one, which must
 * keep the same columns in the same order. Call it inside a migration, which
 * {@link applyMigrations} runs with foreign-key enforcement off, as the procedure requires:
 * otherwise dropping the old table would cascade into every table referencing it.
 *
 * @example
 * ```ts
 * rebuildTable(db, 'tasks', (sql) => sql.replace('CHECK (a IN (1, 2))', 'CHECK (a = 1 OR a = 2)'));
 * ```
 */
export function rebuildTable(
  db: BetterSqlite3.Database,
  table: string,
  rewrite: (createSql: string) => string,
): void {
  if (db.pragma('foreign_keys', { simple: true }) !== 0) {
    throw schemaError(`rebuilding ${table} needs foreign_keys off; run it inside a migration`);
  }
  const schema = db.prepare(
    'SELECT type, sql FROM sqlite_schema WHERE tbl_name = ? AND sql IS NOT NULL',
  );
  const entries = schema.all(table) as { type: string; sql: string }[];
  const created = entries.find((entry) => entry.type === 'table');
  if (!created) throw schemaError(`there is no table ${table} to rebuild`);
  const header = new RegExp(`^CREATE TABLE "?${table}"? \\(`);
  if (!header.test(created.sql)) throw schemaError(`unexpected definition of ${table}`);

  const staging = `${table}_rebuild`;
  const rewritten = rewrite(created.sql);
  db.exec(rewritten.replace(header, `CREATE TABLE ${staging} (`));
  db.exec(`INSERT INTO ${staging} SELECT * FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${staging} RENAME TO ${table}`);
  // DROP TABLE took the indexes and triggers with it.
  for (const entry of entries) if (entry.type !== 'table') db.exec(entry.sql);
}
