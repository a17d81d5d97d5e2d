import {
  agent,
  createHost,
  type Host,
  HttpServerToken,
  type Plugin,
  SessionStoreToken,
  type Task,
  TaskQueueToken,
  TaskStoreToken,
} from '@agentd/core';
import { failover } from '@agentd/core/failover';
import { SchedulerToken } from '@agentd/core/scheduler';
import { memoryLogger } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { type DashboardOptions, dashboard } from './index.js';

/** A secret that appears in a seeded task's input: the dashboard must never show it. */
export const SEEDED_SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
export const DASHBOARD_TOKEN = 'dashboard-test-token-0123456789abcdef';

/** What {@link startSeededHost} stored, to compare the dashboard's pages with. */
export interface Seeded {
  host: Host;
  url: string;
  completed: Task[];
  failed: Task;
  pending: Task;
  /** A reminder due in two hours (a pending task of type `reminder`). */
  reminder: Task;
  deadLetterId: string;
  sessionId: string;
}

/** Options of {@link startDashboardHost} and {@link startSeededHost}. */
export interface DashboardHostOptions {
  bind?: string;
  dashboard?: DashboardOptions;
  plugins?: Plugin[];
}

/**
 * A real host (SQLite file `dbPath`, `webhook()` on port 0, `dashboard()`, the echo, broken and
 * leaky agents, the `nightly-report` schedule) without seeding, e.g. to restart on a file a
 * seeded host used.
 */
export async function startDashboardHost(
  dbPath: string,
  hosts: Host[],
  options: DashboardHostOptions = {},
): Promise<{ host: Host; url: string }> {
  const host = createHost({
    name: 'dash-host',
    logger: memoryLogger().logger,
    agents: [
      agent(
        'echo',
        (input) => `echo: ${typeof input === 'string' ? input : JSON.stringify(input)}`,
      ),
      agent('broken', () => {
        throw Object.assign(new Error('the upstream API answered 502'), { retryable: false });
      }),
      agent('leaky', () => {
        throw new Error(`the key ${SEEDED_SECRET} was refused`);
      }),
    ],
    schedules: [
      {
        name: 'nightly-report',
        cron: '0 3 * * *',
        task: { agent: 'echo', input: 'write the report' },
      },
    ],
    plugins: [
      sqlite({ path: dbPath }),
      webhook({ port: 0, host: options.bind ?? '127.0.0.1' }),
      ...(options.plugins ?? []),
      dashboard(options.dashboard ?? {}),
    ],
  });
  hosts.push(host);
  await host.start();
  return {
    host,
    url: host.resolve(HttpServerToken).address!.url.replace('0.0.0.0', '127.0.0.1'),
  };
}

/**
 * A real host ({@link startDashboardHost}) with tasks that really ran: completed ones (one
 * quoting a secret), a failed one, a pending one due in an hour, a reminder due in two hours, a
 * dead letter, a session with history and a schedule.
 */
export async function startSeededHost(
  dbPath: string,
  hosts: Host[],
  options: DashboardHostOptions = {},
): Promise<Seeded> {
  const { host, url } = await startDashboardHost(dbPath, hosts, options);
  const queue = host.resolve(TaskQueueToken);
  const store = host.resolve(TaskStoreToken);
  const finished = new Set<string>();
  const waiters: (() => void)[] = [];
  const done = () => {
    for (const w of waiters.splice(0)) w();
  };
  host.events.on('task.completed', ({ task }) => {
    finished.add(task.id);
    done();
  });
  host.events.on('task.failed', ({ task, willRetry }) => {
    if (!willRetry) finished.add(task.id);
    done();
  });
  const runs = [
    { agent: 'echo', input: 'summarise the inbox', description: 'summarise the inbox' },
    {
      agent: 'echo',
      input: `call the API with ${SEEDED_SECRET}`,
      description: 'call the billing API',
    },
    { agent: 'echo', input: { invoice: 42, customer: 'ACME' }, description: 'file invoice 42' },
    { agent: 'broken', input: 'sync the CRM', description: 'sync the CRM', maxAttempts: 1 },
  ];
  const results = await queue.enqueueMany(runs);
  const ids = results.map((r) => r.task.id);
  while (!ids.every((id) => finished.has(id))) {
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
  const pending = (
    await queue.enqueue({
      agent: 'echo',
      input: 'remind me later',
      description: 'a reminder for later',
      runAt: Date.now() + 3_600_000,
    })
  ).task;
  const reminder = (
    await host.resolve(SchedulerToken).remind(Date.now() + 7_200_000, {
      agent: 'echo',
      input: 'call the dentist',
      description: 'call the dentist',
    })
  ).task;
  const tasks = await Promise.all(ids.map((id) => store.get(id)));
  const { letter } = await store.addDeadLetter!(
    {
      channel: 'telegram',
      key: 'telegram:update:9',
      code: 'E_INVALID_INPUT',
      reason: 'the message has no chat',
      raw: '{"update_id":9}',
    },
    Date.now(),
  );
  const sessions = host.resolve(SessionStoreToken);
  const session = await sessions.create(
    {
      userKey: 'telegram:4711',
      address: { channel: 'telegram', id: '4711' },
      name: 'main',
      agent: 'echo',
    },
    Date.now(),
  );
  await sessions.appendHistory(session.id, {
    role: 'user',
    content: 'hello there',
    at: Date.now(),
  });
  await sessions.appendHistory(session.id, {
    role: 'assistant',
    content: 'echo: hello there',
    at: Date.now(),
  });
  return {
    host,
    url,
    completed: tasks.slice(0, 3) as Task[],
    failed: tasks[3] as Task,
    pending,
    reminder,
    deadLetterId: letter.id,
    sessionId: session.id,
  };
}

/** A failover set-up: echo falls over to broken; broken's circuit opens on its first failure. */
export const failoverPlugin = () =>
  failover({
    failover: {
      chains: ['echo -> broken'],
      agents: { broken: { circuit: { threshold: 1 } }, leaky: { circuit: { threshold: 1000 } } },
    },
    budgets: { cost: { dailyUsd: 5, monthlyUsd: 50 } },
  });

/** A message of the chat as `GET api/chat` returns it. */
export interface ChatEntry {
  seq: string;
  text: string;
  at: number;
  from?: 'client';
}

/**
 * A client of the dashboard's chat over real HTTP, as the browser is one: the CSRF token from
 * `api/me`, the login cookie when there is one, posts to `api/chat`, and `follow()`, a loop of
 * waiting reads that collects the conversation in `seen` (what a tab shows).
 *
 * @example
 * ```ts
 * const chat = await DashboardChat.open(url);
 * await chat.post({ text: 'hello', id: 'm-1' }); // { status: 202, body: { outcome: 'accepted', ... } }
 * ```
 */
export class DashboardChat {
  readonly seen: ChatEntry[] = [];
  /** Reads made by `follow()`. */
  reads = 0;
  #following = false;
  #cursor = '';
  readonly #stopped = new AbortController();

  private constructor(
    readonly url: string,
    readonly csrf: string,
    readonly cookie: string | undefined,
  ) {}

  static async open(url: string, cookie?: string): Promise<DashboardChat> {
    return new DashboardChat(url, await csrfOf(url, cookie), cookie);
  }

  /** Logs in as `user` with the test token; the cookie of the login. */
  static async login(url: string, user: string): Promise<string> {
    const response = await fetch(`${url}/dashboard/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: DASHBOARD_TOKEN, user }),
    });
    if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
    return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  /** Posts a body (an object is sent as JSON; a string as is) with the page's headers. */
  async post(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
    const response = await fetch(`${this.url}/dashboard/api/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-agentd-csrf': this.csrf,
        ...(this.cookie && { cookie: this.cookie }),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** One read of the conversation after `after`, waiting up to `wait` ms. */
  async read(
    after = '',
    wait = 0,
  ): Promise<{ user: string; messages: ChatEntry[]; cursor: string }> {
    const response = await fetch(`${this.url}/dashboard/api/chat?after=${after}&wait=${wait}`, {
      headers: this.cookie ? { cookie: this.cookie } : {},
      signal: this.#stopped.signal,
    });
    if (response.status !== 200) throw new Error(`chat read answered ${response.status}`);
    return (await response.json()) as { user: string; messages: ChatEntry[]; cursor: string };
  }

  /** Reads in a loop, as the Chat page does, until `stop()` or the server goes away. */
  follow(): void {
    if (this.#following) return;
    this.#following = true;
    void (async () => {
      while (!this.#stopped.signal.aborted) {
        try {
          const { messages, cursor } = await this.read(this.#cursor, 5000);
          this.reads++;
          this.seen.push(...messages);
          this.#cursor = cursor;
        } catch {
          return;
        }
      }
    })();
  }

  /** The host's messages seen so far (without the client's own). */
  replies(): string[] {
    return this.seen.filter((m) => m.from !== 'client').map((m) => m.text);
  }

  stop(): void {
    this.#stopped.abort();
  }
}

/** The CSRF token a same-origin page gets. */
export async function csrfOf(url: string, cookie?: string): Promise<string> {
  const me = await fetch(`${url}/dashboard/api/me`, { headers: cookie ? { cookie } : {} });
  return ((await me.json()) as { csrf: string }).csrf;
}

/** A call to the dashboard's API: its status and JSON body (typed as the test reads it). */
export async function apiCall<T>(
  url: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}/dashboard/api${path}`, init);
  return { status: response.status, body: (await response.json()) as T };
}

/** A `POST` with a JSON body and, unless `csrf` is null, the page's CSRF header. */
export async function apiPost<T>(
  url: string,
  path: string,
  csrf: string | null,
  body = '{}',
): Promise<{ status: number; body: T }> {
  return apiCall<T>(url, path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(csrf === null ? {} : { 'x-agentd-csrf': csrf }),
    },
    body,
  });
}
