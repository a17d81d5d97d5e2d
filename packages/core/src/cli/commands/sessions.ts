import type { Session, SessionStatus } from '../../contracts/session.js';
import { AgentdError } from '../../kernel/errors.js';
import { IDLE_TIMEOUT_RANGE } from '../../sessions/manager.js';
import { formatTime, table } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';

interface SessionsOptions {
  config?: string;
  cwd: string;
  envFile?: string;
  /** Only this user's sessions (`channel:id`). */
  user?: string;
  /** Include archived sessions. */
  all?: boolean;
  json?: boolean;
  /** Set the idle timeout (minutes) of `--name` (or the user's active session). */
  timeout?: string;
  /** Archive the session `--name` of `--user`. */
  archive?: boolean;
  name?: string;
}

const LIVE: readonly SessionStatus[] = ['live', 'idle', 'suspended'];

/**
 * `agentd sessions [--user u] [--all] [--json]`: lists sessions (user, name, status, agent,
 * persona, idle timeout, last activity) from the store. With `--user u --name n --timeout M` it
 * sets an idle timeout; with `--user u --name n --archive` it archives a session (a running host
 * releases its resource when its idle timer next fires or at its next message).
 *
 * @example
 * ```ts
 * await sessionsCommand(processIO, { cwd: process.cwd(), user: 'telegram:42' });
 * ```
 */
export async function sessionsCommand(io: CliIO, options: SessionsOptions): Promise<number> {
  if ((options.archive || options.timeout !== undefined) && !options.user) {
    throw new AgentdError('E_USAGE', '--archive and --timeout need --user CHANNEL:ID');
  }
  if (options.archive && !options.name)
    throw new AgentdError('E_USAGE', '--archive needs --name NAME');
  let minutes: number | undefined;
  if (options.timeout !== undefined) {
    minutes = Number(options.timeout);
    if (
      !Number.isInteger(minutes) ||
      minutes < IDLE_TIMEOUT_RANGE.min ||
      minutes > IDLE_TIMEOUT_RANGE.max
    ) {
      throw new AgentdError(
        'E_USAGE',
        `--timeout takes ${IDLE_TIMEOUT_RANGE.min} to ${IDLE_TIMEOUT_RANGE.max} minutes`,
      );
    }
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(checked, async (store) => {
    const sessions = store.sessions;
    if (options.archive || minutes !== undefined) {
      const target = options.name
        ? await sessions.findByName(options.user!, options.name)
        : await sessions.findActive(options.user!);
      if (!target || target.status === 'archived') {
        io.err(
          `agentd: no session ${options.name ? `named "${options.name}" ` : ''}for ${options.user}`,
        );
        return 1;
      }
      if (options.archive) {
        await sessions.update(target.id, { status: 'archived', snapshot: null });
        io.out(`archived session "${target.name}" of ${options.user}`);
      }
      if (minutes !== undefined) {
        await sessions.update(target.id, { idleTimeoutMs: minutes * 60_000 });
        io.out(
          `session "${target.name}" of ${options.user} now suspends after ${minutes} min idle`,
        );
      }
      return 0;
    }
    const list: Session[] = options.user
      ? await sessions.listByUser(options.user, { includeArchived: options.all ?? false })
      : await sessions.listByStatus(options.all ? [...LIVE, 'archived'] : LIVE);
    if (options.json) {
      io.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      io.out('no sessions');
      return 0;
    }
    const lines = table(
      ['USER', 'NAME', 'STATUS', 'AGENT', 'PERSONA', 'IDLE TIMEOUT', 'LAST ACTIVITY'],
      list.map((s) => [
        s.userKey,
        `${s.active ? '*' : ''}${s.name}`,
        s.status,
        s.agent,
        s.persona ?? '-',
        `${Math.round(s.idleTimeoutMs / 60_000)} min`,
        formatTime(s.lastActivityAt),
      ]),
    );
    for (const line of lines) io.out(line);
    return 0;
  });
}
