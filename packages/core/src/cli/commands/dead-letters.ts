import type { DeadLetter, DeadLetterStatus } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { formatSize } from '../../kernel/intake-guard.js';
import { formatTime, table } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';

interface DeadLettersOptions {
  config?: string;
  cwd: string;
  envFile?: string;
  /** `open` (default), `discarded`, `retried` or `all`, comma-separated. */
  status?: string;
  limit?: string;
  json?: boolean;
  /** Ids of letters to discard. */
  discard?: string[];
  /** Print one letter in full, raw input included. */
  show?: string;
}

const STATUSES: readonly DeadLetterStatus[] = ['open', 'discarded', 'retried'];

/**
 * Terminal control and invisible format characters as visible escapes: a dead letter's reason
 * and raw input come from outside, and must not restyle or retitle the operator's terminal.
 */
function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Cf}]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

function oneLine(text: string, max: number): string {
  const flat = printable(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * `agentd dead-letters [--status open|discarded|retried|all] [--limit n] [--json]`, `--show ID`
 * and `--discard ID...`: the inputs channels could not take (malformed, too large, naming a
 * removed agent, or failing again and again), with their reason; a running host's `/health`
 * warns while any is open. Discarding marks a letter reviewed.
 *
 * @example
 * ```ts
 * await deadLettersCommand(processIO, { cwd: process.cwd(), json: true });
 * await deadLettersCommand(processIO, { cwd: process.cwd(), discard: ['dl_1'] });
 * ```
 */
export async function deadLettersCommand(io: CliIO, options: DeadLettersOptions): Promise<number> {
  const requested = (options.status ?? 'open').split(',').map((s) => s.trim());
  const statuses = requested.includes('all') ? [...STATUSES] : requested;
  for (const s of statuses) {
    if (!STATUSES.includes(s as DeadLetterStatus)) {
      throw new AgentdError('E_USAGE', `unknown status "${s}" (use ${STATUSES.join(', ')} or all)`);
    }
  }
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new AgentdError('E_USAGE', '--limit takes a whole number from 1 to 10000');
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(checked, async (store) => {
    const tasks = store.tasks;
    if (!tasks.listDeadLetters || !tasks.settleDeadLetter || !tasks.getDeadLetter) {
      throw new AgentdError('E_NO_DEAD_LETTERS', `${store.description} keeps no dead letters`);
    }
    if (options.discard?.length) {
      let code = 0;
      for (const id of options.discard) {
        const settled = await tasks.settleDeadLetter(id, 'discarded', Date.now());
        if (settled) {
          io.out(`discarded ${id}`);
          continue;
        }
        const existing = await tasks.getDeadLetter(id);
        io.err(
          existing
            ? `agentd: dead letter ${id} is already ${existing.status}`
            : `agentd: no dead letter with id ${printable(id)}`,
        );
        code = 1;
      }
      return code;
    }
    if (options.show !== undefined) {
      const letter = await tasks.getDeadLetter(options.show);
      if (!letter) {
        throw new AgentdError('E_NOT_FOUND', `no dead letter with id ${printable(options.show)}`);
      }
      if (options.json) io.out(JSON.stringify(letter, null, 2));
      else for (const line of describe(letter)) io.out(line);
      return 0;
    }
    const letters = await tasks.listDeadLetters({
      status: statuses as DeadLetterStatus[],
      limit,
    });
    if (options.json) {
      io.out(JSON.stringify(letters, null, 2));
      return 0;
    }
    if (letters.length === 0) {
      io.out(`no ${statuses.join(' or ')} dead letters`);
      return 0;
    }
    const rows = table(
      ['ID', 'STATUS', 'CHANNEL', 'CODE', 'RECEIVED', 'SIZE', 'REASON'],
      letters.map((l) => [
        l.id,
        l.status,
        oneLine(l.channel, 20),
        oneLine(l.code, 24),
        formatTime(l.createdAt),
        `${formatSize(l.rawBytes)}${l.truncated ? ' (cut)' : ''}`,
        oneLine(l.reason, 80),
      ]),
    );
    for (const line of rows) io.out(line);
    return 0;
  });
}

function describe(letter: DeadLetter): string[] {
  return [
    `id:        ${letter.id}`,
    `status:    ${letter.status}${letter.settledAt === null ? '' : ` (${formatTime(letter.settledAt)})`}`,
    `channel:   ${printable(letter.channel)}`,
    `code:      ${printable(letter.code)}`,
    `reason:    ${printable(letter.reason)}`,
    `received:  ${formatTime(letter.createdAt)}`,
    `reply to:  ${letter.replyTo ? printable(`${letter.replyTo.channel}:${letter.replyTo.id}`) : '-'}`,
    `size:      ${formatSize(letter.rawBytes)}${letter.truncated ? ` (kept: the first ${formatSize(Buffer.byteLength(letter.raw))})` : ''}`,
    'raw:',
    printable(letter.raw),
  ];
}
