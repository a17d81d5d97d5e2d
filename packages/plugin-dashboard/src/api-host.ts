import { AgentdError, HttpError, type HttpRequest } from '@agentd/core';
import type { DeadLetterStatus, SessionStatus } from '@agentd/core/store';
import { SECURITY_HEADERS } from './assets.js';
import {
  type ApiRoute,
  answer,
  badRequest,
  type DashboardDeps,
  intParam,
  listParam,
  need,
} from './routes.js';

const SESSION_STATUSES: readonly SessionStatus[] = ['live', 'idle', 'suspended', 'archived'];
const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ['open', 'discarded', 'retried'];

/** Behind a TLS proxy the cookie is marked Secure (the proxy says so; the flag only adds safety). */
const viaHttps = (request: HttpRequest) => request.header('x-forwarded-proto') === 'https';

/** Who am I, login and logout. */
export function mountAuthRoutes(route: ApiRoute, deps: DashboardDeps): void {
  route(
    'GET',
    '/me',
    (request) => {
      const caller = deps.auth.caller(request);
      return answer(deps, {
        auth: deps.auth.mode,
        authenticated: caller.ok,
        ...(caller.ok ? { csrf: caller.csrf, user: caller.user } : {}),
      });
    },
    { open: true },
  );

  route(
    'POST',
    '/login',
    (request) => {
      if (deps.auth.mode === 'open') return answer(deps, { authenticated: true });
      if (!/^application\/json\b/i.test(request.header('content-type') ?? '')) {
        // A cross-origin form can post text/plain without a preflight; JSON needs one.
        throw new HttpError(415, 'unsupported_media_type', 'send the token as JSON');
      }
      const body = request.json();
      const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
      const cookie = deps.auth.login(request, fields.token, viaHttps(request), fields.user);
      return {
        ...answer(deps, { authenticated: true }),
        headers: { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'set-cookie': cookie },
      };
    },
    { open: true, bodyLimitBytes: 4096 },
  );

  route('POST', '/logout', (request) => {
    if (deps.auth.mode === 'open') return answer(deps, { authenticated: true });
    const cookie = deps.auth.logout(request, viaHttps(request));
    return {
      ...answer(deps, { authenticated: false }),
      headers: { ...SECURITY_HEADERS, 'cache-control': 'no-store', 'set-cookie': cookie },
    };
  });
}

/** Overview, schedules, dead letters, sessions and the live stream. */
export function mountHostRoutes(route: ApiRoute, deps: DashboardDeps): void {
  route('GET', '/overview', async () => {
    const tasks = deps.tasks;
    const [health, counts, owedReplies, openDeadLetters] = await Promise.all([
      deps.health.run({ timeoutMs: 1000 }),
      tasks?.counts(),
      tasks?.countOwedReplies(),
      tasks?.countOpenDeadLetters?.(),
    ]);
    const now = deps.clock.now();
    return answer(deps, {
      host: {
        name: deps.info.name,
        state: deps.info.state,
        version: deps.version,
        node: process.version,
        pid: process.pid,
        readyAt: deps.info.readyAt,
        uptimeMs: deps.info.readyAt === null ? null : now - deps.info.readyAt,
        plugins: [...deps.info.plugins],
        store: deps.storeDescription ?? null,
      },
      health,
      tasks: counts ?? null,
      owedReplies: owedReplies ?? null,
      openDeadLetters: openDeadLetters ?? null,
      agents: deps.agents?.list().map((a) => a.name) ?? [],
      defaultAgent: deps.agents?.defaultAgent ?? null,
      throughput: deps.live.throughput(),
      streams: deps.live.streams,
      now,
    });
  });

  route('GET', '/schedules', async () => {
    const scheduler = need(deps.scheduler, 'scheduler');
    return answer(deps, { schedules: await scheduler.list() });
  });

  route('POST', '/schedules/:name/run', async (request) => {
    const scheduler = need(deps.scheduler, 'scheduler');
    const name = request.params.name ?? '';
    if (!(await scheduler.list()).some((s) => s.name === name)) {
      throw new HttpError(404, 'not_found', 'no such schedule');
    }
    await scheduler.trigger(name);
    return answer(deps, { triggered: name }, 202);
  });

  const pauseRoute = (action: 'pause' | 'resume') =>
    route('POST', `/schedules/:name/${action}`, async (request) => {
      const scheduler = need(deps.scheduler, 'scheduler');
      const name = request.params.name ?? '';
      try {
        const schedule =
          action === 'pause'
            ? await scheduler.pause(name, 'dashboard')
            : await scheduler.resume(name);
        deps.live.publish({
          kind: 'schedule',
          event: `schedule.${action === 'pause' ? 'paused' : 'resumed'}`,
          id: name,
          at: deps.clock.now(),
        });
        return answer(deps, { schedule });
      } catch (error) {
        if (error instanceof AgentdError && error.code === 'E_UNKNOWN_SCHEDULE') {
          throw new HttpError(404, 'not_found', 'no such schedule');
        }
        throw error;
      }
    });
  pauseRoute('pause');
  pauseRoute('resume');

  const letters = () => {
    const tasks = need(deps.tasks, 'task store');
    if (!tasks.listDeadLetters || !tasks.getDeadLetter || !tasks.settleDeadLetter) {
      throw new HttpError(503, 'unavailable', "this host's store keeps no dead letters");
    }
    return {
      list: tasks.listDeadLetters.bind(tasks),
      get: tasks.getDeadLetter.bind(tasks),
      settle: tasks.settleDeadLetter.bind(tasks),
    };
  };

  route('GET', '/dead-letters', async (request) => {
    const status = listParam(request, 'status', DEAD_LETTER_STATUSES) ?? ['open'];
    const limit = intParam(request, 'limit', 50, 1, 200);
    return answer(deps, { deadLetters: await letters().list({ status, limit }) });
  });

  route('POST', '/dead-letters/:id/discard', async (request) => {
    const store = letters();
    const id = request.params.id ?? '';
    const settled = await store.settle(id, 'discarded', deps.clock.now());
    if (!settled) {
      const existing = await store.get(id);
      if (existing)
        throw new HttpError(409, 'conflict', `the dead letter is already ${existing.status}`);
      throw new HttpError(404, 'not_found', 'no such dead letter');
    }
    deps.live.publish({
      kind: 'dead-letter',
      event: 'dead-letter.discarded',
      id,
      at: deps.clock.now(),
    });
    return answer(deps, { deadLetter: settled });
  });

  route('POST', '/dead-letters/:id/retry', async (request) => {
    letters();
    const guard = need(deps.guard, 'intake guard to retry dead letters');
    const id = request.params.id ?? '';
    try {
      const { letter, outcome } = await guard.retry(id);
      deps.live.publish({
        kind: 'dead-letter',
        event: 'dead-letter.retried',
        id,
        at: deps.clock.now(),
      });
      return answer(deps, {
        deadLetter: letter,
        taken: outcome.ok,
        ...(outcome.ok ? {} : { reason: outcome.failure.reason }),
      });
    } catch (error) {
      if (error instanceof AgentdError && error.code === 'E_NOT_FOUND') {
        throw new HttpError(404, 'not_found', 'no such dead letter');
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

  route('GET', '/sessions', async (request) => {
    const sessions = need(deps.sessions, 'session store');
    const statuses = listParam(request, 'status', SESSION_STATUSES) ?? [
      'live',
      'idle',
      'suspended',
    ];
    const limit = intParam(request, 'limit', 100, 1, 500);
    const list = await sessions.listByStatus(statuses);
    list.sort((a, b) => b.lastActivityAt - a.lastActivityAt);
    const now = deps.clock.now();
    return answer(deps, {
      sessions: list.slice(0, limit).map((s) => ({
        id: s.id,
        userKey: s.userKey,
        name: s.name,
        agent: s.agent,
        status: s.status,
        active: s.active,
        channel: s.address.channel,
        idleMs: now - s.lastActivityAt,
        lastActivityAt: s.lastActivityAt,
        createdAt: s.createdAt,
      })),
      total: list.length,
    });
  });

  route('GET', '/sessions/:id', async (request) => {
    const sessions = need(deps.sessions, 'session store');
    const id = request.params.id ?? '';
    const session = await sessions.get(id);
    if (!session) throw new HttpError(404, 'not_found', 'no such session');
    const limit = intParam(request, 'history', 50, 1, 500);
    return answer(deps, { session, history: await sessions.history(id, limit) });
  });

  route('POST', '/sessions/:id/archive', async (request) => {
    const sessions = need(deps.sessions, 'session store');
    const manager = need(deps.sessionManager, 'session manager');
    const session = await sessions.get(request.params.id ?? '');
    if (!session) throw new HttpError(404, 'not_found', 'no such session');
    if (session.status === 'archived')
      throw new HttpError(409, 'conflict', 'the session is already archived');
    return answer(deps, { session: await manager.archive(session.userKey, session.name) });
  });

  const sessionRoute = (action: 'suspend' | 'resume') =>
    route('POST', `/sessions/:id/${action}`, async (request) => {
      const sessions = need(deps.sessions, 'session store');
      const manager = need(deps.sessionManager, 'session manager');
      const session = await sessions.get(request.params.id ?? '');
      if (!session) throw new HttpError(404, 'not_found', 'no such session');
      if (session.status === 'archived')
        throw new HttpError(409, 'conflict', 'the session is archived');
      try {
        return answer(deps, {
          session: await manager[action](session.userKey, session.name),
        });
      } catch (error) {
        if (
          error instanceof AgentdError &&
          ['E_SESSION_BUSY', 'E_RESUME_FAILED', 'E_STOPPING'].includes(error.code)
        ) {
          throw new HttpError(409, 'conflict', error.message);
        }
        throw error;
      }
    });
  sessionRoute('suspend');
  sessionRoute('resume');

  // Reminders are one-off tasks of type `reminder`: those to come (waiting, or paused: held),
  // soonest first.
  route('GET', '/reminders', async () => {
    const tasks = need(deps.tasks, 'task store');
    const upcoming = await tasks.list({
      type: 'reminder',
      status: ['pending', 'held'],
      order: 'oldest',
      limit: 200,
    });
    upcoming.sort((a, b) => a.runAt - b.runAt);
    return answer(deps, {
      reminders: upcoming.map((t) => ({
        id: t.id,
        description: t.description,
        agent: t.agent,
        runAt: t.runAt,
        createdAt: t.createdAt,
        paused: t.status === 'held',
      })),
    });
  });

  route(
    'GET',
    '/events',
    (request) => {
      if (deps.live.streams >= deps.maxStreams) {
        throw new HttpError(503, 'unavailable', 'too many open dashboard streams');
      }
      if (!/text\/event-stream|\*\/\*/.test(request.header('accept') ?? '*/*')) {
        throw badRequest('this is a text/event-stream');
      }
      // Where the tab's data was read (`since`, from its page), or what a reconnecting browser
      // saw last (`Last-Event-ID`): the stream tells it to re-read when events came in between.
      const since = request.header('last-event-id') ?? request.query.get('since') ?? undefined;
      if (since !== undefined && !/^\d{1,15}$/.test(since)) {
        throw badRequest('since (or Last-Event-ID) must be a whole number of events');
      }
      return {
        headers: {
          ...SECURITY_HEADERS,
          'content-type': 'text/event-stream; charset=utf-8',
          'x-accel-buffering': 'no',
        },
        stream: deps.live.stream(request.signal, since === undefined ? undefined : Number(since)),
      };
    },
    { stream: true },
  );
}
