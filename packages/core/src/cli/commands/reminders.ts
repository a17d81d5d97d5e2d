import { isTaskStateRefusal, type Task, type TaskStore } from '../../contracts/task.js';
import { formatTime, oneLine, table } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { READ_ONLY, withStore } from '../store-access.js';

/** Reminders `agentd reminders` lists at most. */
const REMINDERS_SHOWN = 200;

/**
 * Options of {@link remindersCommand}.
 *
 * @example
 * ```ts
 * await remindersCommand(io, { cwd: process.cwd(), pause: 'sqt7k_1f' });
 * ```
 */
export interface RemindersCommandOptions {
  config?: string;
  cwd: string;
  json?: boolean;
  /** `--pause <id>`: hold this reminder (in the store): no host runs it until resumed. */
  pause?: string;
  /** `--resume <id>`: release it; it runs at its time, or at once if that has passed. */
  resume?: string;
  /** `--env-file` (default: `.env` beside the config, when present). */
  envFile?: string;
}

/**
 * The reminders still to come: tasks of type `reminder` that are pending or held (paused),
 * soonest first.
 *
 * @example
 * ```ts
 * for (const r of await upcomingReminders(store.tasks)) console.log(r.id, r.status, r.runAt);
 * ```
 */
export async function upcomingReminders(
  tasks: TaskStore,
  limit = REMINDERS_SHOWN,
): Promise<Task[]> {
  const open = await tasks.list({
    type: 'reminder',
    status: ['pending', 'held'],
    order: 'oldest',
    limit,
  });
  return open.sort((a, b) => a.runAt - b.runAt);
}

/**
 * `agentd reminders [--json] [--pause <id> | --resume <id>]`: the reminders still to come, soonest
 * first, paused ones marked; `--pause`/`--resume` first hold or release one in the store, as
 * `agentd schedules --pause/--resume` do for a schedule (whether or not the host runs). A
 * paused reminder keeps its time: resumed after it, it runs at once.
 *
 * @example
 * ```ts
 * program.command('reminders').option('--pause <id>').action(async (opts) => {
 *   code = await remindersCommand(io, { ...opts, cwd });
 * });
 * ```
 */
export async function remindersCommand(
  io: CliIO,
  options: RemindersCommandOptions,
): Promise<number> {
  if (options.pause !== undefined && options.resume !== undefined) {
    io.err('agentd: give either --pause or --resume, not both');
    return 2;
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const id = options.pause ?? options.resume;
  if (id !== undefined) {
    const pause = options.pause !== undefined;
    const code = await withStore(checked, async (store) => {
      const existing = await store.tasks.get(id);
      if (existing?.type !== 'reminder') {
        io.err(`agentd: no reminder with id ${id.slice(0, 100)} (agentd reminders lists them)`);
        return 1;
      }
      try {
        const task = pause ? await store.tasks.hold(id) : await store.tasks.release(id);
        if (!task) {
          io.err(`agentd: no reminder with id ${id.slice(0, 100)}`);
          return 1;
        }
        io.out(
          pause
            ? `paused ${id}: no host runs it until resumed (agentd reminders --resume ${id})`
            : `resumed ${id}: it runs ${task.runAt <= Date.now() ? 'now (its time has passed)' : `at ${formatTime(task.runAt)}`}`,
        );
        return 0;
      } catch (error) {
        if (!isTaskStateRefusal(error)) throw error;
        io.err(`agentd: ${error.message}`);
        return 1;
      }
    });
    if (code !== 0) return code;
  }
  const listed = await withStore(
    checked,
    async (store) => ({
      reminders: await upcomingReminders(store.tasks),
      description: store.description,
    }),
    READ_ONLY,
  );
  if (options.json) {
    io.out(JSON.stringify(listed.reminders, null, 2));
    return 0;
  }
  if (listed.reminders.length === 0) {
    io.out('no reminders to come');
    return 0;
  }
  io.out(`${listed.description}: ${listed.reminders.length} reminder(s), soonest first`);
  for (const line of table(
    ['ID', 'AT', 'STATE', 'AGENT', 'DESCRIPTION'],
    listed.reminders.map((t) => [
      t.id,
      formatTime(t.runAt),
      t.status === 'held' ? 'paused' : 'waiting',
      t.agent ?? '-',
      oneLine(t.description, 60),
    ]),
  )) {
    io.out(line);
  }
  return 0;
}
