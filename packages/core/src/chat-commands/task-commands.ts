import type { CommandMiddleware, DispatchReceipt, InboundMessage } from '../contracts/channel.js';
import type { Task } from '../contracts/task.js';
import { type CommandContext, command } from '../kernel/inbound-command.js';
import { senderKey, taskOwner } from './access.js';
import { isTaskId, quoted, textProblem } from './arguments.js';
import { budgetRefusal, type ChatCommandDeps, NO_STORE, userTimezone } from './deps.js';
import { recentTasks, taskDetail, taskLine } from './task-view.js';

/** The type of tasks `/task <text>` makes. */
export const BACKGROUND_TASK_TYPE = 'background';

const TASK_USAGE =
  'Use /task followed by what to do (e.g. /task check the backups), or /task ID to see a task.';

/** Whether `message`'s sender may see (and cancel) `task`: their own, or any for an operator. */
function canSee(deps: ChatCommandDeps, message: InboundMessage, task: Task): boolean {
  if (task.type === 'answer') return false;
  return deps.operators.includes(message) || taskOwner(task) === senderKey(message);
}

/**
 * The task `id` if the sender may see it. An unknown id and someone else's task get the same
 * answer, so ids cannot be probed.
 */
async function visibleTask(
  deps: ChatCommandDeps,
  ctx: CommandContext,
  id: string,
): Promise<Task | string> {
  if (!isTaskId(id)) {
    return `${quoted(id)} is not a task id (ids are letters and digits, e.g. from /tasks).`;
  }
  const store = deps.store();
  if (!store) return NO_STORE;
  const task = await store.get(id);
  if (!task || !canSee(deps, ctx.message, task)) {
    return `No task ${quoted(id)} of yours. /tasks lists yours.`;
  }
  return task;
}

/**
 * `/tasks`, `/task` and `/cancel` as router middleware: a user's recent tasks, a new background
 * task (answered in the chat when done), one task's state and result, and cancelling one.
 * Everyone sees only their own tasks; operators see all.
 *
 * @example
 * ```ts
 * for (const middleware of taskCommands(deps)) router.use(middleware);
 * ```
 */
export function taskCommands(deps: ChatCommandDeps): CommandMiddleware[] {
  return [
    command(
      'tasks',
      async (ctx) => {
        const store = deps.store();
        if (!store) return NO_STORE;
        const operator = deps.operators.includes(ctx.message);
        const me = senderKey(ctx.message);
        const tasks = await recentTasks(store, {
          limit: deps.listLimit,
          visible: (t) => operator || taskOwner(t) === me,
        });
        if (tasks.length === 0) {
          return operator ? 'No tasks yet.' : 'You have no tasks yet. /task TEXT starts one.';
        }
        const { zone } = await userTimezone(deps, ctx.message);
        const now = deps.clock.now();
        const lines = tasks.map((t) => taskLine(t, { now, timezone: zone, showOwner: operator }));
        return `${operator ? 'Recent tasks' : 'Your recent tasks'}:\n${lines.join('\n')}`;
      },
      { description: 'Your recent tasks' },
    ),
    command(
      'task',
      async (ctx): Promise<string | DispatchReceipt> => {
        const { args, argText } = ctx.command;
        if (args.length === 0) return TASK_USAGE;
        if (args.length === 1) {
          const found = await visibleTask(deps, ctx, args[0]!);
          if (typeof found === 'string') {
            return isTaskId(args[0]!)
              ? `${found} To start a task, describe it in a few words: /task check the backups`
              : found;
          }
          const { zone } = await userTimezone(deps, ctx.message);
          return taskDetail(found, {
            now: deps.clock.now(),
            timezone: zone,
            rawError: deps.operators.includes(ctx.message),
          });
        }
        const problem = textProblem(argText);
        if (problem) return `Not queued: ${problem}.`;
        const queue = deps.queue();
        if (!queue) return NO_STORE;
        const refusal = budgetRefusal(deps, ctx.message);
        if (refusal) return { outcome: 'refused', reply: refusal };
        const { task, created } = await queue.enqueue({
          input: argText,
          type: BACKGROUND_TASK_TYPE,
          // The message's key: a re-delivered `/task` finds this task instead of making another.
          ...(ctx.task.idempotencyKey !== undefined && { idempotencyKey: ctx.task.idempotencyKey }),
          replyTo: ctx.message.from,
          metadata: {
            ...(ctx.task.metadata ?? {}),
            owner: senderKey(ctx.message),
            // The answer may come after others: its first line says which task it answers.
            replyHeading: `Task ${quoted(argText)}:`,
          },
        });
        return {
          outcome: created ? 'accepted' : 'duplicate',
          taskId: task.id,
          reply: `Task ${task.id} queued; I will answer here when it is done. /task ${task.id} shows it, /cancel ${task.id} stops it.`,
        };
      },
      { description: 'Start a background task: /task TEXT, or see one: /task ID' },
    ),
    command(
      'cancel',
      async (ctx) => {
        const [id, extra] = ctx.command.args;
        if (id === undefined || extra !== undefined) return 'Use /cancel ID (ids are in /tasks).';
        const found = await visibleTask(deps, ctx, id);
        if (typeof found === 'string') return found;
        const queue = deps.queue();
        if (!queue) return NO_STORE;
        const cancelled = await queue.cancel(found.id);
        if (!cancelled) {
          const now = (await deps.store()?.get(found.id)) ?? found;
          return `Task ${found.id} has already ended (${now.status}); nothing to cancel.`;
        }
        return found.status === 'running'
          ? `Cancelled task ${found.id}; its run is being stopped.`
          : `Cancelled ${found.type === 'reminder' ? 'reminder' : 'task'} ${found.id}.`;
      },
      { description: 'Cancel a task or reminder: /cancel ID' },
    ),
  ];
}
