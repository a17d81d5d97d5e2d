import { createHash } from 'node:crypto';
import type pg from 'pg';
import { type InlineValue, inlineParams } from './simple-query.js';

/** SQLSTATE: the prepared statement named does not exist on this connection. */
const NO_SUCH_STATEMENT = '26000';
/** SQLSTATE: a prepared statement of that name already exists on this connection. */
const STATEMENT_EXISTS = '42P05';

/** A statement prepared by name on each connection that runs it (see {@link PreparedStatements}). */
export interface PreparedStatement {
  /** `agentd_` and a hash of the text and types: the same statement has the same name everywhere. */
  readonly name: string;
  /** The statement, with `$1`, `$2`... for its parameters. */
  readonly sql: string;
  /** The parameters' SQL types, in order (`bigint`, `text[]`...). */
  readonly types: readonly string[];
}

/**
 * The hot path's statements, planned once per connection instead of once per call.
 *
 * Why: a claim or a completion costs PostgreSQL more to parse and plan (0.1 to 0.3 ms each) than
 * to run, and a one-task-per-claim burn-down sends two of them per task. The store sends several
 * statements in one simple-protocol query (one round trip, one commit; see `inlineParams`), and
 * the simple protocol cannot bind to a protocol-level prepared statement, so these are SQL-level:
 * `PREPARE` once on a connection (its own round trip, the first time only), then
 * `EXECUTE name(literals)` inside the shared query. Measured on the one-per-claim burn-down:
 * PostgreSQL's CPU per task fell by about a third.
 *
 * SQL-level prepared statements belong to a server connection. Behind a pooler in transaction
 * mode (PgBouncer), consecutive transactions of one client run on different server connections,
 * where the statement is missing (or, prepared by another client, already present). The first
 * such error turns preparation off for the store ({@link recover}); the caller runs the same
 * statements again with their values written in. `preparedStatements: false` skips the
 * attempt.
 *
 * @example
 * ```ts
 * const prepared = new PreparedStatements(true, console.warn);
 * const claim = prepared.define('SELECT $1::bigint AS n', ['bigint']);
 * const client = await pool.connect();
 * const text = await prepared.text(client, claim, [42]); // "EXECUTE agentd_...(42)"
 * await client.query(text);
 * client.release();
 * ```
 */
export class PreparedStatements {
  #enabled: boolean;
  readonly #warn: (message: string) => void;
  /** The statements each connection holds; a connection the pool dropped takes its set along. */
  readonly #held = new WeakMap<pg.ClientBase, Set<string>>();

  constructor(enabled: boolean, warn: (message: string) => void) {
    this.#enabled = enabled;
    this.#warn = warn;
  }

  /** Whether statements are prepared (false once a pooler was detected, or when turned off). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Names a statement; nothing is sent until a connection first runs it. */
  define(sql: string, types: readonly string[]): PreparedStatement {
    const hash = createHash('sha256')
      .update(`${types.join(',')}\n${sql}`)
      .digest('hex');
    return { name: `agentd_${hash.slice(0, 24)}`, sql, types };
  }

  /**
   * The text that runs `statement` with `values` on `client`, as one statement of a simple
   * query: `EXECUTE` once the connection holds it (preparing it first, in a round trip of its
   * own, if not), or the statement with its values written in when preparation is off.
   */
  async text(
    client: pg.ClientBase,
    statement: PreparedStatement,
    values: readonly InlineValue[],
  ): Promise<string> {
    if (!this.#enabled) return inlineParams(statement.sql, values);
    let held = this.#held.get(client);
    if (!held) {
      held = new Set();
      this.#held.set(client, held);
    }
    if (!held.has(statement.name)) {
      await client.query(
        `PREPARE ${statement.name} (${statement.types.join(', ')}) AS ${statement.sql}`,
      );
      held.add(statement.name);
    }
    const args = values.map((_, i) => `$${i + 1}`).join(', ');
    return `EXECUTE ${statement.name}(${inlineParams(args, values)})`;
  }

  /**
   * True when `error` says a prepared statement was missing where it was prepared, or present
   * where it was not: a pooler moves this store's transactions between server connections.
   * Preparation is then off for good (said once through `warn`), and the caller retries with
   * the values written in; the failed query changed nothing (its statements ran as one
   * transaction, or, for a `PREPARE`, before any of them).
   */
  recover(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (!this.#enabled || (code !== NO_SUCH_STATEMENT && code !== STATEMENT_EXISTS)) return false;
    this.#enabled = false;
    this.#warn(
      'PostgreSQL prepared statements are not kept between transactions here (a pooler in ' +
        'transaction mode, such as PgBouncer?): planning each statement from now on. Set ' +
        'preparedStatements: false to skip the attempt.',
    );
    return true;
  }
}
