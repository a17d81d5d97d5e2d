import { type Address, AgentdError } from '@agentd/core';
import {
  DEAD_LETTER_RAW_LIMIT,
  type DeadLetter,
  type DeadLetterStatus,
  type NewDeadLetter,
  parseJson,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';

/** Longest reason kept (a reason is a sentence; a runaway one is cut). */
const REASON_MAX = 2_000;
const STATUSES: readonly DeadLetterStatus[] = ['open', 'discarded', 'retried'];
const DEFAULT_LIMIT = 50;

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
 * `text` cut to at most `limit` UTF-8 bytes, never inside a character.
 *
 * @example
 * ```ts
 * cutUtf8('héllo', 2); // 'h'
 * ```
 */
export function cutUtf8(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  // A cut through a multi-byte character decodes to U+FFFD at the end: drop it.
  return bytes
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}

const invalid = (message: string) => new AgentdError('E_INVALID_DEAD_LETTER', message);

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

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
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
    if (typeof letter !== 'object' || letter === null) throw invalid('a dead letter is an object');
    for (const field of ['channel', 'code', 'reason'] as const) {
      if (typeof letter[field] !== 'string' || letter[field] === '') {
        throw invalid(`${field} must be a non-empty string`);
      }
    }
    if (typeof letter.raw !== 'string') throw invalid('raw must be a string');
    if (letter.key !== undefined && (typeof letter.key !== 'string' || letter.key === '')) {
      throw invalid('key must be a non-empty string when given');
    }
    const rawBytes = Buffer.byteLength(letter.raw, 'utf8');
    const raw =
      rawBytes > DEAD_LETTER_RAW_LIMIT ? cutUtf8(letter.raw, DEAD_LETTER_RAW_LIMIT) : letter.raw;
    const to = letter.replyTo;
    const replyTo =
      to && typeof to.channel === 'string' && typeof to.id === 'string'
        ? JSON.stringify({
            channel: to.channel,
            id: to.id,
            ...(typeof to.thread === 'string' && { thread: to.thread }),
          })
        : null;
    const row = this.#insert.get({
      channel: letter.channel,
      key: letter.key ?? null,
      code: letter.code,
      reason:
        letter.reason.length > REASON_MAX
          ? `${letter.reason.slice(0, REASON_MAX)}…`
          : letter.reason,
      raw,
      rawBytes,
      truncated: rawBytes > DEAD_LETTER_RAW_LIMIT ? 1 : 0,
      replyTo,
      now: Math.floor(now),
    }) as DeadLetterRow | undefined;
    if (row) return { letter: toLetter(row), created: true };
    const existing = this.#byKey.get(letter.key) as DeadLetterRow | undefined;
    if (!existing) throw new AgentdError('E_STORE', 'a dead letter was neither stored nor found');
    return { letter: toLetter(existing), created: false };
  }

  list(
    query: { status?: DeadLetterStatus | readonly DeadLetterStatus[]; limit?: number } = {},
  ): DeadLetter[] {
    const statuses =
      query.status === undefined
        ? []
        : typeof query.status === 'string'
          ? [query.status]
          : [...query.status];
    for (const s of statuses) {
      if (!STATUSES.includes(s)) {
        throw invalid(`unknown dead letter status "${String(s)}" (use ${STATUSES.join(', ')})`);
      }
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer');
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
    if (status !== 'discarded' && status !== 'retried') {
      throw invalid('a dead letter is settled as discarded or retried');
    }
    const seq = seqOf(id);
    if (seq === undefined) return undefined;
    const row = this.#settle.get({ seq, status, now: Math.floor(now) }) as
      | DeadLetterRow
      | undefined;
    return row && toLetter(row);
  }

  countOpen(): number {
    return this.#countOpen.get() as number;
  }
}
