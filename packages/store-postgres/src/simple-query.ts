import pg from 'pg';

/** A value {@link inlineParams} can write into SQL text. */
export type InlineValue = string | number | boolean | null | readonly InlineValue[];

/** One value as SQL text: a quoted literal, a number, NULL, TRUE/FALSE or an ARRAY[...]. */
function literal(value: InlineValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot inline ${value} into SQL`);
    return String(value);
  }
  if (typeof value === 'string') return pg.escapeLiteral(value);
  // Every array parameter in the store's SQL is followed by a cast (`$1::bigint[]`), which
  // gives the empty array its type.
  return value.length === 0 ? "'{}'" : `ARRAY[${value.map(literal).join(', ')}]`;
}

/**
 * A parameterized statement (`$1`, `$2`...) with its values written in as literals, so several
 * statements can travel in one simple-protocol query: one round trip, run as one implicit
 * transaction (each statement with a fresh snapshot, as in any READ COMMITTED transaction), one
 * commit. The extended protocol takes one statement per round trip; on a busy machine, where
 * every round trip waits for the server's process to be scheduled, those waits cost more than
 * the statements. Strings go through the driver's `escapeLiteral`; the SQL must use `$n` only
 * as parameters (no dollar-quoted strings).
 *
 * @example
 * ```ts
 * inlineParams('SELECT $1::text, $2::bigint[]', ["it's", [1, 2]]);
 * // "SELECT 'it''s'::text, ARRAY[1, 2]::bigint[]"
 * ```
 */
export function inlineParams(sql: string, values: readonly InlineValue[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= values.length) throw new RangeError(`no value for $${n}`);
    return literal(values[index] as InlineValue);
  });
}

/** The results of a simple query, one per statement (the driver gives a lone one unwrapped). */
export function eachResult<R extends pg.QueryResultRow>(
  result: pg.QueryResult<R> | pg.QueryResult<R>[],
): pg.QueryResult<R>[] {
  return Array.isArray(result) ? result : [result];
}
