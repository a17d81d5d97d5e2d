import { AgentdError } from '@agentd/core';
import {
  prepareTaskPageQuery,
  TASK_PAGE_SCAN_LIMIT,
  type TaskPage,
  type TaskPageQuery,
} from '@agentd/core/store';
import { sql } from 'kysely';
import { queryBuilder, type StatementCache } from './schema.js';
import type { TaskIds } from './task-ids.js';

/** Rows (by `seq`, the rowid) one window of a page call spans. */
const WINDOW = 20_000;
/** Cursors are `s:<seq>`: the page holds tasks older than that row. */
const SEQ_CURSOR = /^s:(\d{1,15})$/;

/**
 * `TaskStore.pageTasks` for SQLite: keyset paging on `seq` (the rowid), newest first. The scan
 * walks down the rowid in windows of {@link WINDOW} rows, so a filter that matches rarely reads
 * at most {@link TASK_PAGE_SCAN_LIMIT} rows per call (a few tens of ms) and answers with a
 * cursor, whatever the table holds. The text filter uses `instr` on lower-cased columns: no
 * LIKE wildcards to escape, and ASCII letters match regardless of case.
 *
 * @example
 * ```ts
 * const page = pageSqliteTasks(queries, ids, columns, toTask, { status: 'failed', limit: 20 });
 * ```
 */
export function pageSqliteTasks<Row>(
  queries: StatementCache,
  ids: TaskIds,
  columns: readonly string[],
  toTask: (row: unknown[]) => Row,
  query: TaskPageQuery,
): { tasks: Row[]; next: TaskPage['next'] } {
  const q = prepareTaskPageQuery(query);
  const bounds = queries.allRaw(
    // Two subqueries: `min(seq), max(seq)` in one select scans the table; each alone is a seek.
    sql<unknown>`SELECT (SELECT min(seq) FROM tasks), (SELECT max(seq) FROM tasks)`.compile(
      queryBuilder,
    ),
  )[0] as [number | null, number | null];
  const [min, max] = bounds;
  let before: number;
  if (q.after !== undefined) {
    const match = SEQ_CURSOR.exec(q.after);
    if (!match)
      throw new AgentdError('E_INVALID_QUERY', 'the page cursor is not one this store gave');
    before = Number(match[1]);
  } else {
    before = (max ?? 0) + 1;
  }
  if (min === null) return { tasks: [], next: null };
  const idSeq = q.text === undefined ? undefined : ids.parse(q.text);
  const tasks: Row[] = [];
  let examined = 0;
  while (before > min && examined < TASK_PAGE_SCAN_LIMIT) {
    const low = Math.max(min, before - WINDOW);
    let select = queryBuilder
      .selectFrom('tasks')
      .select(columns as never)
      .where('seq', '<', before)
      .where('seq', '>=', low);
    if (q.statuses !== undefined) {
      if (q.statuses.length === 0) return { tasks: [], next: null };
      select = select.where('status', 'in', q.statuses);
    }
    if (q.agent !== undefined) select = select.where('agent', '=', q.agent);
    if (q.type !== undefined) select = select.where('type', '=', q.type);
    const text = q.text;
    if (text !== undefined) {
      select = select.where((eb) =>
        eb.or([
          eb(sql`instr(lower(description), ${text})`, '>', 0),
          eb(sql`instr(lower(type), ${text})`, '>', 0),
          ...(idSeq === undefined ? [] : [eb('seq', '=', idSeq)]),
        ]),
      );
    }
    const want = q.limit - tasks.length;
    const rows = queries.allRaw(select.orderBy('seq', 'desc').limit(want).compile());
    for (const row of rows) tasks.push(toTask(row));
    if (rows.length === want) {
      const last = rows[rows.length - 1]?.[0] as number;
      return { tasks, next: last > min ? `s:${last}` : null };
    }
    examined += before - low;
    before = low;
  }
  return { tasks, next: before > min ? `s:${before}` : null };
}
