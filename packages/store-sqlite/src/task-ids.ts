import { randomInt } from 'node:crypto';

/** The `meta` row holding this database's task id prefix. */
export const TASK_ID_PREFIX_KEY = 'task_id_prefix';
const PREFIX_LENGTH = 5;

/**
 * A random prefix for a new database's task ids: five letters, chosen once when the file is
 * created. It keeps ids from two databases (or from one deleted and created again) apart.
 *
 * @example
 * ```ts
 * newTaskIdPrefix(); // 'qkzvt'
 * ```
 */
export function newTaskIdPrefix(): string {
  let out = '';
  for (let i = 0; i < PREFIX_LENGTH; i++) out += String.fromCharCode(97 + randomInt(26));
  return out;
}

/**
 * Task ids are the database's prefix followed by the row's `seq` in base 36 (`qkzvt1a` is row
 * 46). Deriving the id from the rowid, instead of storing a generated one, spares a unique
 * index, and thus a page write, on every enqueue; lookups by id become rowid lookups.
 *
 * @example
 * ```ts
 * const ids = new TaskIds('qkzvt');
 * ids.format(46); // 'qkzvt1a'
 * ids.parse('qkzvt1a'); // 46
 * ids.parse('other1a'); // undefined
 * ```
 */
export class TaskIds {
  constructor(readonly prefix: string) {}

  format(seq: number): string {
    return this.prefix + seq.toString(36);
  }

  /** The row's seq, or undefined when `id` is not an id of this database. */
  parse(id: string): number | undefined {
    if (typeof id !== 'string' || !id.startsWith(this.prefix)) return undefined;
    const digits = id.slice(this.prefix.length);
    const seq = Number.parseInt(digits, 36);
    // Round-trip check: rejects "", "01a", "1a!" and anything past the safe integers.
    return Number.isSafeInteger(seq) && seq > 0 && seq.toString(36) === digits ? seq : undefined;
  }
}
