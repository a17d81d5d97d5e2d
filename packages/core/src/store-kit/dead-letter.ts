import type { Address } from '../contracts/channel.js';
import {
  DEAD_LETTER_RAW_LIMIT,
  type DeadLetterStatus,
  type NewDeadLetter,
} from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';

/** Longest reason kept (a reason is a sentence; a runaway one is cut). */
const REASON_MAX = 2_000;
/** Every dead-letter status. */
export const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ['open', 'discarded', 'retried'];

const invalid = (message: string) => new AgentdError('E_INVALID_DEAD_LETTER', message);

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

/** A dead letter as every store records it, before it has an id, status and time. */
export interface PreparedDeadLetter {
  channel: string;
  key: string | null;
  code: string;
  reason: string;
  raw: string;
  rawBytes: number;
  truncated: boolean;
  /** The reply address as JSON text, or null. */
  replyTo: string | null;
}

/**
 * Checks a dead letter for `TaskStore.addDeadLetter` (channel, code and reason non-empty, raw a
 * string, key non-empty when given) and returns what a store records: the reason cut at 2,000
 * characters, the raw input cut at {@link DEAD_LETTER_RAW_LIMIT} bytes, an unusable reply address
 * dropped. Throws `E_INVALID_DEAD_LETTER`.
 *
 * @example
 * ```ts
 * const row = prepareDeadLetter({ channel: 'telegram', code: 'E_INVALID_INPUT', reason: 'no chat', raw: '{}' });
 * ```
 */
export function prepareDeadLetter(letter: NewDeadLetter): PreparedDeadLetter {
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
  const truncated = rawBytes > DEAD_LETTER_RAW_LIMIT;
  const to = letter.replyTo as Partial<Address> | undefined;
  return {
    channel: letter.channel,
    key: letter.key ?? null,
    code: letter.code,
    reason:
      letter.reason.length > REASON_MAX ? `${letter.reason.slice(0, REASON_MAX)}…` : letter.reason,
    raw: truncated ? cutUtf8(letter.raw, DEAD_LETTER_RAW_LIMIT) : letter.raw,
    rawBytes,
    truncated,
    replyTo:
      to && typeof to.channel === 'string' && typeof to.id === 'string'
        ? JSON.stringify({
            channel: to.channel,
            id: to.id,
            ...(typeof to.thread === 'string' && { thread: to.thread }),
          })
        : null,
  };
}

/**
 * Checks a dead-letter list query and returns its statuses (empty: every status) and limit
 * (default 50). Throws `E_INVALID_DEAD_LETTER`.
 *
 * @example
 * ```ts
 * const { statuses, limit } = checkDeadLetterQuery({ status: 'open' });
 * ```
 */
export function checkDeadLetterQuery(
  query: { status?: DeadLetterStatus | readonly DeadLetterStatus[]; limit?: number } = {},
): { statuses: DeadLetterStatus[]; limit: number } {
  const statuses =
    query.status === undefined
      ? []
      : typeof query.status === 'string'
        ? [query.status]
        : [...query.status];
  for (const s of statuses) {
    if (!DEAD_LETTER_STATUSES.includes(s)) {
      throw invalid(
        `unknown dead letter status "${String(s)}" (use ${DEAD_LETTER_STATUSES.join(', ')})`,
      );
    }
  }
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer');
  return { statuses, limit };
}

/**
 * Checks the status a dead letter is settled with. Throws `E_INVALID_DEAD_LETTER`.
 *
 * @example
 * ```ts
 * checkSettleStatus('discarded');
 * ```
 */
export function checkSettleStatus(status: unknown): 'discarded' | 'retried' {
  if (status !== 'discarded' && status !== 'retried') {
    throw invalid('a dead letter is settled as discarded or retried');
  }
  return status;
}
