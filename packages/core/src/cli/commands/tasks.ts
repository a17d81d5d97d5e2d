import { TASK_STATUSES, type TaskStatus } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { formatTime, parsePriority, taskRows } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';

interface ConfigOptions {
  config?: string;
  cwd: string;
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
  const checked = await loadCheckedConfig(options.cwd, options.config);
  return withStore(checked, async (store) => {
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
  });
}

/** `agentd enqueue "text" [--priority p] [--agent a] [--at time] [--key k]`: adds a task to the store. */
export async function enqueueCommand(
  io: CliIO,
  text: string,
  options: ConfigOptions & {
    priority?: string;
    agent?: string;
    key?: string;
    maxAttempts?: string;
  },
): Promise<number> {
  const priority = options.priority === undefined ? 2 : parsePriority(options.priority);
  if (priority === undefined)
    throw new AgentdError(
      'E_USAGE',
      `unknown priority "${options.priority}" (use 0-3 or critical, high, normal, low)`,
    );
  const maxAttempts = options.maxAttempts === undefined ? undefined : Number(options.maxAttempts);
  const checked = await loadCheckedConfig(options.cwd, options.config);
  const configAgents = checked.resolved.agents.map((a) => a.name);
  const agent = options.agent ?? checked.resolved.defaultAgent ?? configAgents[0];
  return withStore(checked, async (store) => {
    const { task, created } = await store.tasks.enqueue(
      { input: text, type: 'manual', priority, agent, idempotencyKey: options.key, maxAttempts },
      Date.now(),
    );
    io.out(
      created
        ? `enqueued ${task.id} (priority ${task.priority}, agent ${task.agent ?? 'default'})`
        : `already enqueued as ${task.id} (status ${task.status})`,
    );
    if (agent !== undefined && !configAgents.includes(agent)) {
      io.err(
        `note: "${agent}" is not under "agents" in the config; unless a plugin provides it, the task will fail with UnknownAgent`,
      );
    }
    return 0;
  });
}

/** `agentd cancel ID`: cancels a pending or running task. Exit code 1 if it was already finished or unknown. */
export async function cancelCommand(
  io: CliIO,
  id: string,
  options: ConfigOptions,
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config);
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
