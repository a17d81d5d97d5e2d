import { z } from 'zod';
import { MAX_TASK_ATTEMPTS, TASK_STATUSES, type TaskStatus } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { formatTime, parsePriority, taskRows } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { READ_ONLY, withStore } from '../store-access.js';

interface ConfigOptions {
  config?: string;
  cwd: string;
  /** `--env-file` (default: `.env` beside the config, when present). */
  envFile?: string;
}

/** `agentd tasks [--status s,...] [--limit n] [--json]`: lists tasks, newest first, with counts. */
export async function tasksCommand(
  io: CliIO,
  options: ConfigOptions & { status?: string; limit?: string; json?: boolean },
): Promise<number> {
  const statuses = options.status?.split(',').map((s) => s.trim()) ?? [];
  for (const s of statuses) {
    if (!TASK_STATUSES.includes(s as TaskStatus)) {
      throw new AgentdError('E_USAGE', `unknown status "${s}" (use ${TASK_STATUSES.join(', ')})`);
    }
  }
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new AgentdError('E_USAGE', '--limit takes a positive whole number');
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(
    checked,
    async (store) => {
      const tasks = await store.tasks.list({
        ...(statuses.length > 0 && { status: statuses as TaskStatus[] }),
        limit,
      });
      if (options.json) {
        io.out(JSON.stringify(tasks, null, 2));
        return 0;
      }
      const counts = await store.tasks.counts();
      io.out(`${store.description}: ${TASK_STATUSES.map((s) => `${counts[s]} ${s}`).join(', ')}`);
      if (tasks.length === 0) io.out('no tasks match');
      else for (const line of taskRows(tasks)) io.out(line);
      return 0;
    },
    READ_ONLY,
  );
}

/** Options of {@link enqueueCommand}, as given on the command line (strings, unchecked). */
export interface EnqueueOptions extends ConfigOptions {
  priority?: string;
  agent?: string;
  key?: string;
  maxAttempts?: string;
  runAt?: string;
}

/** `--run-at`: an ISO 8601 time with a zone (`2026-05-01T08:00:00Z`, `…+02:00`), as the API takes. */
const isoTime = z.iso.datetime({ offset: true });

/**
 * `agentd enqueue "text" [--priority p] [--agent a] [--key k] [--max-attempts n] [--run-at t]`:
 * adds a task to the store. Everything is checked before the store is opened, as the HTTP API
 * checks it: a bad value, or an agent the config does not have, exits 1 and stores nothing.
 *
 * @example
 * ```ts
 * await enqueueCommand(processIO, 'Write the weekly summary', { cwd, agent: 'writer' });
 * ```
 */
export async function enqueueCommand(
  io: CliIO,
  text: string,
  options: EnqueueOptions,
): Promise<number> {
  if (text.trim() === '') throw new AgentdError('E_USAGE', 'the task text is empty');
  const priority = options.priority === undefined ? 2 : parsePriority(options.priority);
  if (priority === undefined)
    throw new AgentdError(
      'E_USAGE',
      `unknown priority "${options.priority}" (use 0-3 or critical, high, normal, low)`,
    );
  let maxAttempts: number | undefined;
  if (options.maxAttempts !== undefined) {
    maxAttempts = /^\d+$/.test(options.maxAttempts) ? Number(options.maxAttempts) : Number.NaN;
    if (!(maxAttempts >= 1 && maxAttempts <= MAX_TASK_ATTEMPTS)) {
      throw new AgentdError(
        'E_USAGE',
        `--max-attempts takes a whole number from 1 to ${MAX_TASK_ATTEMPTS}, got "${options.maxAttempts}"`,
      );
    }
  }
  let runAt: number | undefined;
  if (options.runAt !== undefined) {
    runAt = isoTime.safeParse(options.runAt).success ? Date.parse(options.runAt) : Number.NaN;
    if (Number.isNaN(runAt)) {
      throw new AgentdError(
        'E_USAGE',
        `--run-at takes an ISO 8601 time with a zone, e.g. 2026-05-01T08:00:00Z or 2026-05-01T10:00:00+02:00; got "${options.runAt}"`,
      );
    }
  }
  if (options.key !== undefined && (options.key === '' || options.key.length > 500)) {
    throw new AgentdError('E_USAGE', '--key takes 1 to 500 characters');
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const known = checked.agentNames ?? [];
  const agent = options.agent ?? checked.resolved.defaultAgent ?? known[0];
  if (agent === undefined) {
    throw new AgentdError(
      'E_NO_AGENT',
      `${checked.path} has no agents, so there is no agent to run the task; add one under "agents"`,
    );
  }
  if (!known.includes(agent)) {
    // The queue and the HTTP API refuse unknown agents too: a task that can only fail later
    // is worse than a clear refusal now.
    throw new AgentdError(
      'E_UNKNOWN_AGENT',
      `unknown agent "${agent}" (known: ${known.join(', ') || 'none'}; the CLI knows the agents under "agents" in the config, enqueue for an agent a plugin adds through the HTTP API)`,
    );
  }
  return withStore(checked, async (store) => {
    const { task, created } = await store.tasks.enqueue(
      {
        input: text,
        type: 'manual',
        priority,
        agent,
        idempotencyKey: options.key,
        maxAttempts,
        runAt,
      },
      Date.now(),
    );
    io.out(
      created
        ? `enqueued ${task.id} (priority ${task.priority}, agent ${task.agent ?? 'default'}${runAt === undefined ? '' : `, runs at ${formatTime(task.runAt)}`})`
        : `already enqueued as ${task.id} (status ${task.status})`,
    );
    return 0;
  });
}

/** `agentd cancel ID`: cancels a pending or running task. Exit code 1 if it was already finished or unknown. */
export async function cancelCommand(
  io: CliIO,
  id: string,
  options: ConfigOptions,
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  return withStore(checked, async (store) => {
    const task = await store.tasks.cancel(id, Date.now());
    if (task) {
      io.out(
        `cancelled ${id}${task.startedAt ? ` (it was running since ${formatTime(task.startedAt)}; its host aborts it at the next lease renewal)` : ''}`,
      );
      return 0;
    }
    const existing = await store.tasks.get(id);
    io.err(
      existing
        ? `agentd: task ${id} is already ${existing.status}`
        : `agentd: no task with id ${id}`,
    );
    return 1;
  });
}
