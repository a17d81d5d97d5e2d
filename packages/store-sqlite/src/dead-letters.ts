import { type Address, AgentdError } from '@agentd/core';
import {
  checkDeadLetterQuery,
  checkSettleStatus,
  DEAD_LETTER_RAW_LIMIT,
  type DeadLetter,
  type DeadLetterStatus,
  type NewDeadLetter,
  parseJson,
  prepareDeadLetter,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { OpenTaskTally } from './open-task-tally.js';

interface DeadLetterRow {
  seq: number;
  channel: string;
  key: string | null;
  code: string;
  reason: string;
  raw: string;
  raw_bytes: number;
  truncated: number;
  reply_to: string | null;
  status: DeadLetterStatus;
  created_at: number;
  settled_at: number | null;
}

const ID_PREFIX = 'dl_';

function toLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: `${ID_PREFIX}${row.seq}`,
    channel: row.channel,
    key: row.key,
    code: row.code,
    reason: row.reason,
    raw: row.raw,
    rawBytes: row.raw_bytes,
    truncated: row.truncated === 1,
    replyTo: row.reply_to === null ? null : parseJson<Address>(row.reply_to),
    status: row.status,
    createdAt: row.created_at,
    settledAt: row.settled_at,
  };
}

function seqOf(id: string): number | undefined {
  if (typeof id !== 'string' || !id.startsWith(ID_PREFIX)) return undefined;
  const seq = Number(id.slice(ID_PREFIX.length));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

/**
 * Dead letters in the `dead_letters` table (migration `0006_dead_letters`): inputs a channel
 * could not take, with their raw form (cut at {@link DEAD_LETTER_RAW_LIMIT} bytes) and reason.
 * The `SqliteTaskStore` exposes these through the TaskStore's dead-letter methods.
 *
 * @example
 * ```ts
 * const letters = new SqliteDeadLetters(db);
 * letters.add({ channel: 'telegram', code: 'E_INVALID_INPUT', reason: 'no chat', raw: '{}' }, Date.now());
 * ```
 */
export class SqliteDeadLetters {
  readonly #insert: BetterSqlite3.Statement;
  readonly #byKey: BetterSqlite3.Statement;
  readonly #bySeq: BetterSqlite3.Statement;
  readonly #settle: BetterSqlite3.Statement;
  readonly #countOpen: BetterSqlite3.Statement;
  readonly #db: BetterSqlite3.Database;
  /** Dead letters move no task: their writes are counted as such (see OpenTaskTally). */
  readonly #tally: OpenTaskTally;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#tally = OpenTaskTally.of(db);
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO dead_letters
         (channel, key, code, reason, raw, raw_bytes, truncated, reply_to, status, created_at)
       VALUES (@channel, @key, @code, @reason, @raw, @rawBytes, @truncated, @replyTo, 'open', @now)
       RETURNING *`,
    );
    this.#byKey = db.prepare('SELECT * FROM dead_letters WHERE key = ?');
    this.#bySeq = db.prepare('SELECT * FROM dead_letters WHERE seq = ?');
    this.#settle = db.prepare(
      `UPDATE dead_letters SET status = @status, settled_at = @now
       WHERE seq = @seq AND status = 'open' RETURNING *`,
    );
    this.#countOpen = db.prepare("SELECT count(*) FROM dead_letters WHERE status = 'open'").pluck();
  }

  add(letter: NewDeadLetter, now: number): { letter: DeadLetter; created: boolean } {
    const prepared = prepareDeadLetter(letter);
    const params = { ...prepared, truncated: prepared.truncated ? 1 : 0, now: Math.floor(now) };
    const row = this.#tally.unrelated(() => this.#insert.get(params)) as DeadLetterRow | undefined;
    if (row) return { letter: toLetter(row), created: true };
    const existing = this.#byKey.get(letter.key) as DeadLetterRow | undefined;
    if (!existing) throw new AgentdError('E_STORE', 'a dead letter was neither stored nor found');
    return { letter: toLetter(existing), created: false };
  }

  list(
    query: { status?: DeadLetterStatus | readonly DeadLetterStatus[]; limit?: number } = {},
  ): DeadLetter[] {
    const { statuses, limit } = checkDeadLetterQuery(query);
    const where = statuses.length ? `WHERE status IN (${statuses.map(() => '?').join(', ')})` : '';
    const rows = this.#db
      .prepare(`SELECT * FROM dead_letters ${where} ORDER BY seq DESC LIMIT ?`)
      .all(...statuses, limit) as DeadLetterRow[];
    return rows.map(toLetter);
  }

  get(id: string): DeadLetter | undefined {
    const seq = seqOf(id);
    if (seq === undefined) return undefined;
    const row = this.#bySeq.get(seq) as DeadLetterRow | undefined;
    return row && toLetter(row);
  }

  settle(id: string, status: 'discarded' | 'retried', now: number): DeadLetter | undefined {
    checkSettleStatus(status);
    const seq = seqOf(id);
    if (seq === undefined) return undefined;
    const params = { seq, status, now: Math.floor(now) };
    const row = this.#tally.unrelated(() => this.#settle.get(params)) as DeadLetterRow | undefined;
    return row && toLetter(row);
  }

  countOpen(): number {
    return this.#countOpen.get() as number;
  }
}
