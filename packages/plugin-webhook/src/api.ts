import {
  AgentdError,
  type Clock,
  type EventBus,
  type HostInfo,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  type IntakeGuard,
  type JsonObject,
  type JsonValue,
  type NewTask,
  type SessionStore,
  type Store,
  type TaskQueue,
  type TaskStatus,
  type TaskStore,
} from '@agentd/core';
import type { ChannelRegistry, HealthReport, IntakeGate } from '@agentd/core/host';
import type { Scheduler } from '@agentd/core/scheduler';
import {
  type DeadLetterStatus,
  MAX_TASK_ATTEMPTS,
  type SessionStatus,
  TASK_STATUSES,
  TaskPriorities,
  type TaskQuery,
} from '@agentd/core/store';
import { z } from 'zod';
import { checkReplyTo, mountTaskWait, replyToSchema } from './api-replies.js';
import { API_PREFIX } from './options.js';
import { type AgentdHttpServer, isJsonType } from './server.js';

/** What the API reads and writes; every store-backed service is optional. */
export interface ApiDeps {
  server: AgentdHttpServer;
  info: HostInfo;
  gate: IntakeGate;
  clock: Clock;
  health: () => Promise<HealthReport>;
  store: () => Store | undefined;
  tasks: () => TaskStore | undefined;
  queue: () => TaskQueue | undefined;
  sessions: () => SessionStore | undefined;
  scheduler: () => Scheduler | undefined;
  /** The host's intake guard: retries dead letters through their channel. */
  guard?: IntakeGuard;
  /** Wakes the wait route when a task ends; without it, the route is not mounted. */
  events?: EventBus;
  /** Where a task's `replyTo` must name a channel. */
  channels?: ChannelRegistry;
}

/** Enqueue errors that are the caller's to fix (their messages hold no secrets). */
const CALLER_ERRORS = new Set(['E_INVALID_TASK', 'E_UNKNOWN_AGENT', 'E_NO_AGENT']);

const SESSION_STATUSES: readonly SessionStatus[] = ['live', 'idle', 'suspended', 'archived'];
const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ['open', 'discarded', 'retried'];

const json = (value: unknown, status = 200): HttpResponse => ({
  status,
  json: value as JsonValue,
});

function need<T>(service: T | undefined, what: string): T {
  if (service === undefined) {
    throw new HttpError(503, 'no_store', `this host has no ${what}`);
  }
  return service;
}

function badRequest(message: string): HttpError {
  return new HttpError(400, 'bad_request', message);
}

function intParam(req: HttpRequest, name: string, fallback: number, min: number, max: number) {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return fallback;
  // Digits only: Number() would also take '1e3', '0x10' or ' 5 '.
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function listParam<T extends string>(
  req: HttpRequest,
  name: string,
  allowed: readonly T[],
): T[] | undefined {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return undefined;
  const values = raw.split(',').map((s) => s.trim());
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw badRequest(`unknown ${name} "${v}" (use ${allowed.join(', ')})`);
    }
  }
  return values as T[];
}

/** Names and keys are identifiers: control characters (NUL, ESC, newlines) have no place in them. */
const identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

const newTaskSchema = z
  .object({
    input: z.json().optional(),
    description: z.string().optional(),
    agent: identifier(200).optional(),
    priority: z
      .union([z.literal([0, 1, 2, 3]), z.enum(['critical', 'high', 'normal', 'low'])])
      .optional(),
    runAt: z.union([z.number().int().min(0), z.iso.datetime({ offset: true })]).optional(),
    maxAttempts: z.number().int().min(1).max(MAX_TASK_ATTEMPTS).optional(),
    idempotencyKey: identifier(500).optional(),
    sessionKey: identifier(500).optional(),
    type: identifier(100).optional(),
    metadata: z.record(z.string(), z.json()).optional(),
    replyTo: replyToSchema.optional(),
  })
  .strict()
  .refine((t) => t.input !== undefined || t.description !== undefined, {
    message: 'a task needs an input or a description',
  });

function parseNewTask(req: HttpRequest): NewTask {
  // A declared type must be JSON: a form or text body is a client mistake, said plainly. No
  // content type at all is taken (raw clients), the body must still parse.
  const type = req.header('content-type');
  if (type !== undefined && !isJsonType(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `the body must be sent as application/json, not ${type.length > 100 ? `${type.slice(0, 100)}…` : type}`,
    );
  }
  const body = req.json();
  const parsed = newTaskSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`,
    );
    throw badRequest(`invalid task: ${issues.join('; ')}`);
  }
  const t = parsed.data;
  // zod rebuilds objects by assignment, which drops `__proto__` keys. JSON.parse keeps them as
  // plain own data, which the store keeps too: take input and metadata as they were sent.
  const sent = body as { input?: JsonValue; metadata?: JsonObject };
  return {
    input: sent.input,
    description: t.description,
    agent: t.agent,
    priority: typeof t.priority === 'string' ? TaskPriorities[t.priority] : t.priority,
    runAt: typeof t.runAt === 'string' ? Date.parse(t.runAt) : t.runAt,
    maxAttempts: t.maxAttempts,
    idempotencyKey: t.idempotencyKey,
    sessionKey: t.sessionKey,
    type: t.type ?? 'api',
    metadata: sent.metadata,
    ...(t.replyTo && { replyTo: t.replyTo }),
  };
}

/**
 * Mounts the bearer-token HTTP API under `/api/v1`: host status, tasks (list with filters, get,
 * enqueue, cancel, hold, release), dead letters (list, get, discard, retry), sessions and schedules. Errors use the stable `{ error: { code, message } }`
 * shape; a host without a store answers 503 `no_store` where one is needed.
 *
 * @example
 * ```ts
 * mountApi(server, { server, info, gate, clock, health, store, tasks, queue, sessions, scheduler });
 * // curl -H "Authorization: Bearer $AGENTD_API_TOKEN" http://127.0.0.1:8787/api/v1/status
 * ```
 */
export function mountApi(server: AgentdHttpServer, deps: ApiDeps): void {
  const p = API_PREFIX;
  const route = (
    method: 'GET' | 'POST',
    path: string,
    handler: (req: HttpRequest) => HttpResponse | Promise<HttpResponse>,
  ) => server.route({ method, path: `${p}${path}`, auth: 'bearer', handler });

  route('GET', '/status', async () => {
    const { info, gate } = deps;
    const store = deps.store();
    const tasks = deps.tasks();
    const [counts, owedReplies, health] = await Promise.all([
      tasks ? tasks.counts() : Promise.resolve(null),
      tasks ? tasks.countOwedReplies() : Promise.resolve(null),
      deps.health(),
    ]);
    const now = deps.clock.now();
    return json({
      host: {
        name: info.name,
        instanceId: info.instanceId,
        pid: process.pid,
        state: info.state,
        readyAt: info.readyAt,
        uptimeMs: info.readyAt === null ? null : now - info.readyAt,
        plugins: [...info.plugins],
      },
      intake: { state: gate.state, inFlight: gate.inFlight },
      http: {
        url: deps.server.address?.url ?? null,
        inFlight: deps.server.inFlight,
        draining: deps.server.draining,
      },
      store: store?.description ?? null,
      tasks: counts,
      replies: owedReplies === null ? null : { owed: owedReplies },
      health,
    });
  });

  route('GET', '/tasks', async (req) => {
    const tasks = need(deps.tasks(), 'task store');
    const order = req.query.get('order') ?? 'newest';
    if (order !== 'newest' && order !== 'oldest')
      throw badRequest('order must be newest or oldest');
    const query: TaskQuery = {
      status: listParam<TaskStatus>(req, 'status', TASK_STATUSES),
      agent: req.query.get('agent') || undefined,
      type: req.query.get('type') || undefined,
      sessionKey: req.query.get('sessionKey') || undefined,
      order,
      limit: intParam(req, 'limit', 50, 1, 1000),
      offset: intParam(req, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    };
    const list = await tasks.list(query);
    return json({ tasks: list, limit: query.limit, offset: query.offset });
  });

  route('POST', '/tasks', async (req) => {
    const queue = need(deps.queue(), 'task store (and so no task queue)');
    const task = parseNewTask(req);
    if (task.replyTo) checkReplyTo(deps.channels, task.replyTo);
    try {
      const { task: stored, created } = await deps.gate.run(() => queue.enqueue(task));
      return json({ task: stored, created }, created ? 201 : 200);
    } catch (error) {
      if (error instanceof AgentdError && CALLER_ERRORS.has(error.code)) {
        throw badRequest(error.message);
      }
      throw error;
    }
  });

  if (deps.events) mountTaskWait(server, { events: deps.events, tasks: deps.tasks });

  route('GET', '/tasks/:id', async (req) => {
    const tasks = need(deps.tasks(), 'task store');
    const task = await tasks.get(req.params.id!);
    if (!task) throw new HttpError(404, 'not_found', `no task with id ${req.params.id}`);
    return json({ task });
  });

  route('POST', '/tasks/:id/cancel', async (req) => {
    const queue = need(deps.queue(), 'task store (and so no task queue)');
    const id = req.params.id!;
    const task = await queue.cancel(id);
    if (task) return json({ task });
    const existing = await deps.tasks()?.get(id);
    if (existing) throw new HttpError(409, 'conflict', `task ${id} is already ${existing.status}`);
    throw new HttpError(404, 'not_found', `no task with id ${id}`);
  });

  // Hold a pending task (a reminder) and release it: `agentd reminders --pause/--resume` over
  // HTTP. A running or finished task cannot be held: 409 with the store's code.
  const holdRoute = (action: 'hold' | 'release') =>
    route('POST', `/tasks/:id/${action}`, async (req) => {
      const queue = need(deps.queue(), 'task store (and so no task queue)');
      const id = req.params.id!;
      try {
        const task = await queue[action](id);
        if (task) return json({ task });
      } catch (error) {
        throw HttpError.forTaskAction(error);
      }
      throw new HttpError(404, 'not_found', `no task with id ${id}`);
    });
  holdRoute('hold');
  holdRoute('release');

  // Inputs a channel could not take (see docs/tasks.md, "Dead letters").
  const deadLetters = () => {
    const tasks = need(deps.tasks(), 'task store');
    if (!tasks.listDeadLetters || !tasks.getDeadLetter || !tasks.settleDeadLetter) {
      throw new HttpError(503, 'no_dead_letters', "this host's store keeps no dead letters");
    }
    return tasks as Required<
      Pick<TaskStore, 'listDeadLetters' | 'getDeadLetter' | 'settleDeadLetter'>
    >;
  };

  route('GET', '/dead-letters', async (req) => {
    const store = deadLetters();
    const status = listParam<DeadLetterStatus>(req, 'status', DEAD_LETTER_STATUSES) ?? ['open'];
    const limit = intParam(req, 'limit', 50, 1, 1000);
    return json({ deadLetters: await store.listDeadLetters({ status, limit }), limit });
  });

  route('GET', '/dead-letters/:id', async (req) => {
    const letter = await deadLetters().getDeadLetter(req.params.id!);
    if (!letter) throw new HttpError(404, 'not_found', `no dead letter with id ${req.params.id}`);
    return json({ deadLetter: letter });
  });

  route('POST', '/dead-letters/:id/discard', async (req) => {
    const store = deadLetters();
    const id = req.params.id!;
    const settled = await store.settleDeadLetter(id, 'discarded', deps.clock.now());
    if (settled) return json({ deadLetter: settled });
    const existing = await store.getDeadLetter(id);
    if (existing)
      throw new HttpError(409, 'conflict', `dead letter ${id} is already ${existing.status}`);
    throw new HttpError(404, 'not_found', `no dead letter with id ${id}`);
  });

  route('POST', '/dead-letters/:id/retry', async (req) => {
    deadLetters();
    if (!deps.guard)
      throw new HttpError(503, 'no_dead_letters', 'this host cannot retry dead letters');
    const guard = deps.guard;
    const id = req.params.id!;
    try {
      const { letter, outcome } = await deps.gate.run(() => guard.retry(id));
      return json(
        outcome.ok
          ? { deadLetter: letter, taken: true }
          : { deadLetter: letter, taken: false, reason: outcome.failure.reason },
      );
    } catch (error) {
      if (error instanceof AgentdError && error.code === 'E_NOT_FOUND') {
        throw new HttpError(404, 'not_found', error.message);
      }
      if (
        error instanceof AgentdError &&
        ['E_CONFLICT', 'E_TRUNCATED', 'E_NO_REPLAY'].includes(error.code)
      ) {
        throw new HttpError(409, 'conflict', error.message);
      }
      throw error;
    }
  });

  route('GET', '/sessions', async (req) => {
    const sessions = need(deps.sessions(), 'session store');
    const user = req.query.get('user');
    const statuses = listParam<SessionStatus>(req, 'status', SESSION_STATUSES);
    const limit = intParam(req, 'limit', 100, 1, 1000);
    let list = user
      ? await sessions.listByUser(user, {
          includeArchived: statuses?.includes('archived') ?? false,
        })
      : await sessions.listByStatus(statuses ?? ['live', 'idle', 'suspended']);
    if (user && statuses) list = list.filter((s) => statuses.includes(s.status));
    list.sort((a, b) => b.lastActivityAt - a.lastActivityAt);
    return json({ sessions: list.slice(0, limit) });
  });

  route('GET', '/sessions/:id', async (req) => {
    const sessions = need(deps.sessions(), 'session store');
    const session = await sessions.get(req.params.id!);
    if (!session) throw new HttpError(404, 'not_found', `no session with id ${req.params.id}`);
    return json({ session });
  });

  route('GET', '/sessions/:id/history', async (req) => {
    const sessions = need(deps.sessions(), 'session store');
    const id = req.params.id!;
    if (!(await sessions.get(id)))
      throw new HttpError(404, 'not_found', `no session with id ${id}`);
    const history = await sessions.history(id, intParam(req, 'limit', 50, 1, 1000));
    return json({ history });
  });

  route('GET', '/schedules', async () => {
    const scheduler = deps.scheduler();
    if (!scheduler) throw new HttpError(503, 'no_scheduler', 'this host has no scheduler');
    return json({ schedules: await scheduler.list() });
  });

  route('POST', '/schedules/:name/trigger', async (req) => {
    const scheduler = deps.scheduler();
    if (!scheduler) throw new HttpError(503, 'no_scheduler', 'this host has no scheduler');
    const name = req.params.name!;
    const known = (await scheduler.list()).some((s) => s.name === name);
    if (!known) throw new HttpError(404, 'not_found', `no schedule named ${name}`);
    await deps.gate.run(() => scheduler.trigger(name));
    return json({ triggered: name }, 202);
  });
}
