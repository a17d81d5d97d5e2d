import { createHash } from 'node:crypto';

/** A statement node-postgres prepares once per connection under `name`, then only binds. */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * `text` as a named prepared statement. node-postgres keeps, per connection, the names it has
 * prepared and sends only Bind and Execute for them afterwards: a hot statement is parsed and
 * planned once per connection instead of on every call. The name is a digest of the text, so
 * two stores (or schemas) sharing a pool never give one name two texts, which node-postgres
 * refuses.
 *
 * @example
 * ```ts
 * const insert = namedStatement('INSERT INTO "agentd".tasks (input) VALUES ($1)');
 * await pool.query({ ...insert, values: ['{}'] });
 * ```
 */
export function namedStatement(text: string): NamedStatement {
  return { name: `agentd_${createHash('sha1').update(text).digest('hex')}`, text };
}
