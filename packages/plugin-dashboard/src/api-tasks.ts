import { AgentdError, HttpError, type NewTask, type Task, type TaskStatus } from '@agentd/core';
import { MAX_TASK_TEXT_FILTER, pageTasksIn, TASK_STATUSES } from '@agentd/core/store';
import { z } from 'zod';
import {
  type ApiRoute,
  answer,
  badRequest,
  callerError,
  type DashboardDeps,
  intParam,
  listParam,
  need,
  textParam,
} from './routes.js';

/** The most tasks one list page may hold. */
export const MAX_PAGE_SIZE = 200;
/** Descriptions in lists are cut here; the detail has them whole. */
const SUMMARY_DESCRIPTION = 200;

/** Enqueue errors that are the caller's to fix (their messages hold no secrets). */
const ENQUEUE_CALLER_ERRORS = ['E_INVALID_TASK', 'E_UNKNOWN_AGENT', 'E_NO_AGENT'];

const newTaskSchema = z
  .object({
    input: z.json(),
    description: z.string().max(2000).optional(),
    agent: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\p{Cc}]*$/u)
      .optional(),
    priority: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
  })
  .strict();

/** What a list row needs: no input, result or metadata (they can be large). */
function summary(task: Task) {
  return {
    id: task.id,
    status: task.status,
    type: task.type,
    agent: task.agent,
    priority: task.priority,
    description:
      task.description.length > SUMMARY_DESCRIPTION
        ? `${task.description.slice(0, SUMMARY_DESCRIPTION)}…`
        : task.description,
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    createdAt: task.createdAt,
    runAt: task.runAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    error: task.error?.name ?? null,
  };
}

/** Task routes: list (filtered, keyset paged), detail, enqueue, cancel, hold, release, retry. */
export function mountTaskRoutes(route: ApiRoute, deps: DashboardDeps): void {
  const store = () => need(deps.tasks, 'task store');

  route('GET', '/tasks', async (request) => {
    const tasks = store();
    const status = listParam<TaskStatus>(request, 'status', TASK_STATUSES);
    const query = {
      status,
      agent: textParam(request, 'agent', 200),
      type: textParam(request, 'type', 100),
      text: textParam(request, 'text', MAX_TASK_TEXT_FILTER),
      after: textParam(request, 'after', 40),
      limit: intParam(request, 'limit', 50, 1, MAX_PAGE_SIZE),
    };
    try {
      const [page, counts] = await Promise.all([pageTasksIn(tasks, query), tasks.counts()]);
      return answer(deps, { tasks: page.tasks.map(summary), next: page.next, counts });
    } catch (error) {
      throw callerError(error, ['E_INVALID_QUERY']);
    }
  });

  route('GET', '/tasks/:id', async (request) => {
    const task = await store().get(request.params.id ?? '');
    if (!task) throw new HttpError(404, 'not_found', 'no such task');
    return answer(deps, { task });
  });

  route('POST', '/tasks', async (request) => {
    const queue = need(deps.queue, 'task queue');
    const parsed = newTaskSchema.safeParse(request.json());
    if (!parsed.success) {
      throw badRequest(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    const task: NewTask = { ...parsed.data, type: 'manual', metadata: { via: 'dashboard' } };
    try {
      const { task: stored } = await queue.enqueue(task);
      return answer(deps, { task: summary(stored) }, 201);
    } catch (error) {
      throw callerError(error, ENQUEUE_CALLER_ERRORS);
    }
  });

  route('POST', '/tasks/:id/cancel', async (request) => {
    const queue = need(deps.queue, 'task queue');
    const id = request.params.id ?? '';
    const task = await queue.cancel(id);
    if (task) return answer(deps, { task: summary(task) });
    const existing = await store().get(id);
    if (existing) throw new HttpError(409, 'conflict', `the task is already ${existing.status}`);
    throw new HttpError(404, 'not_found', 'no such task');
  });

  // Pause (hold) and resume (release) a pending task: the reminders' Pause and Resume buttons.
  const holdRoute = (action: 'hold' | 'release') =>
    route('POST', `/tasks/:id/${action}`, async (request) => {
      const queue = need(deps.queue, 'task queue');
      try {
        const task = await queue[action](request.params.id ?? '');
        if (task) return answer(deps, { task: summary(task) });
      } catch (error) {
        throw HttpError.forTaskAction(error);
      }
      throw new HttpError(404, 'not_found', 'no such task');
    });
  holdRoute('hold');
  holdRoute('release');

  // A retry enqueues a copy: the failed task stays as it ended, for the record.
  route('POST', '/tasks/:id/retry', async (request) => {
    const queue = need(deps.queue, 'task queue');
    const original = await store().get(request.params.id ?? '');
    if (!original) throw new HttpError(404, 'not_found', 'no such task');
    if (original.status !== 'failed' && original.status !== 'cancelled') {
      throw new HttpError(
        409,
        'conflict',
        `only failed or cancelled tasks are retried; this one is ${original.status}`,
      );
    }
    try {
      const { task } = await queue.enqueue({
        input: original.input,
        description: original.description,
        type: original.type,
        ...(original.agent === null ? {} : { agent: original.agent }),
        priority: original.priority,
        maxAttempts: original.maxAttempts,
        ...(original.sessionKey === null ? {} : { sessionKey: original.sessionKey }),
        ...(original.replyTo === null ? {} : { replyTo: original.replyTo }),
        metadata: { ...original.metadata, retryOf: original.id },
      });
      return answer(deps, { task: summary(task), retryOf: original.id }, 201);
    } catch (error) {
      if (error instanceof AgentdError && ENQUEUE_CALLER_ERRORS.includes(error.code)) {
        throw new HttpError(409, 'conflict', error.message);
      }
      throw error;
    }
  });
}
