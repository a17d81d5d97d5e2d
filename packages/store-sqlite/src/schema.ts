import type BetterSqlite3 from 'better-sqlite3';
import {
  type CompiledQuery,
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/** A row of `tasks` as stored (JSON columns as text). */
export interface TaskRow {
  /** The rowid; the task's id is derived from it (see task-ids.ts). */
  seq: number;
  status: string;
  priority: number;
  run_at: number;
  session_key: string | null;
  idempotency_key: string | null;
  type: string;
  agent: string | null;
  description: string;
  input: string;
  attempts: number;
  max_attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  reply_to: string | null;
  metadata: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** JSON of the process the current run started (see TaskStore.recordLeaseProcess), or null. */
  lease_process: string | null;
}

/** A row of `sessions` as stored. */
export interface SessionRow {
  id: string;
  user_key: string;
  address: string;
  name: string;
  agent: string;
  persona: string | null;
  status: string;
  active: number;
  idle_timeout_ms: number;
  last_activity_at: number;
  created_at: number;
  snapshot: string | null;
  resource: string | null;
  /** The host instance whose process holds the live resource (migration 0005), or null. */
  owner: string | null;
  metadata: string;
}

/** The tables kysely may build queries for. */
export interface Schema {
  tasks: TaskRow;
  sessions: SessionRow;
}

/**
 * A kysely instance that only compiles: its driver never connects. The stores build their
 * dynamic queries (filters, partial updates) with it and run the SQL on better-sqlite3
 * synchronously, which keeps every store call one synchronous step with no pool or await.
 *
 * @example
 * ```ts
 * const { sql, parameters } = queryBuilder.selectFrom('tasks').selectAll().where('type', '=', 'x').compile();
 * ```
 */
export const queryBuilder = new Kysely<Schema>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

/** SQL text and its parameters: a kysely `CompiledQuery`, or one written by hand. */
export type SqlQuery = Pick<CompiledQuery, 'sql' | 'parameters'>;

/**
 * Prepares compiled queries once per distinct SQL text. Dynamic queries come in few shapes (one
 * per combination of filters), so the cache stays small; the bound keeps it so regardless.
 *
 * @example
 * ```ts
 * const statements = new StatementCache(db);
 * const rows = statements.all<TaskRow>(queryBuilder.selectFrom('tasks').selectAll().compile());
 * ```
 */
export class StatementCache {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly max = 200,
  ) {}

  #prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      if (this.#statements.size >= this.max) this.#statements.clear();
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a query and returns every row. */
  all<R>(query: SqlQuery): R[] {
    return this.#prepare(query.sql)
      .raw(false)
      .all(...query.parameters) as R[];
  }

  /** Runs a query and returns every row as an array of column values, in selected order. */
  allRaw(query: SqlQuery): unknown[][] {
    return this.#prepare(query.sql)
      .raw(true)
      .all(...query.parameters) as unknown[][];
  }

  /** Runs a statement that returns no rows; resolves to the number of rows changed. */
  run(query: SqlQuery): number {
    return this.#prepare(query.sql).run(...query.parameters).changes;
  }
}
