import { randomBytes } from 'node:crypto';
import {
  agent,
  createHost,
  HealthRegistryToken,
  type Host,
  type HostConfig,
  HttpServerToken,
  type JsonValue,
  type Plugin,
  SessionStoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { type Scheduler, SchedulerToken, type ScheduleStatus } from '@agentd/core/scheduler';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import type { WebhookOptions } from './options.js';
import { webhook } from './plugin.js';
import {
  hmacHex,
  type RawAnswer,
  rawSocket,
  send,
  signGithub,
  signStandard,
  until,
} from './test-support.js';
import { standardWebhooksKey } from './verify.js';

const GH_SECRET = 'gh-test-secret';
const WHSEC = `whsec_${randomBytes(24).toString('base64')}`;
const HMAC_SECRET = 'home-made-secret';
const API_TOKEN = 'test-api-token-0123456789';

const { hosts, dbPath } = useTestHosts('agentd-webhook-');

const ROUTES: WebhookOptions['routes'] = [
  {
    name: 'github',
    path: '/hooks/github',
    verify: { scheme: 'github', secret: GH_SECRET },
    events: ['issues'],
    task: {
      agent: 'triage',
      priority: 'high',
      input: { title: '{{ payload.issue.title }}', number: '{{ payload.issue.number }}' },
      description: 'GitHub issue #{{ payload.issue.number }} ({{ headers.x-github-event }})',
      sessionKey: 'gh:{{ payload.repository.full_name }}',
    },
  },
  { name: 'std', path: '/hooks/std', verify: { scheme: 'standard', secret: WHSEC } },
  {
    name: 'home',
    path: '/hooks/home',
    verify: { scheme: 'hmac', secret: HMAC_SECRET, idHeader: 'x-delivery-id' },
    format: 'text',
    task: { input: 'backup said: {{ payload }}', priority: 3 },
  },
  {
    name: 'bus',
    path: '/hooks/bus',
    verify: { scheme: 'hmac', secret: HMAC_SECRET, eventHeader: 'x-event' },
    emit: true,
  },
];

interface Started {
  host: Host;
  url: string;
  runs: JsonValue[];
  log: ReturnType<typeof memoryLogger>;
}

async function startHost(
  options: {
    store?: boolean;
    plugins?: Plugin[];
    webhook?: WebhookOptions;
    config?: HostConfig;
  } = {},
): Promise<Started> {
  const runs: JsonValue[] = [];
  const log = memoryLogger();
  const host = createHost({
    logger: log.logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    agents: [
      agent('triage', (input) => {
        runs.push(input);
        return 'triaged';
      }),
    ],
    ...options.config,
    plugins: [
      options.store === false ? undefined : sqlite({ path: dbPath() }),
      webhook({ port: 0, api: { token: API_TOKEN }, routes: ROUTES, ...options.webhook }),
      ...(options.plugins ?? []),
    ],
  });
  hosts.push(host);
  await host.start();
  return { host, url: host.resolve(HttpServerToken).address!.url, runs, log };
}

const issue = (n: number) =>
  JSON.stringify({
    action: 'opened',
    issue: { number: n, title: `Bug ${n}` },
    repository: { full_name: 'acme/api' },
  });

function github(url: string, body: string, delivery: string, event = 'issues') {
  return send(`${url}/hooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signGithub(GH_SECRET, body),
    },
    body,
  });
}

function standardHeaders(
  id: string,
  body: string | Buffer,
  timestamp = Math.floor(Date.now() / 1000),
) {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandard(standardWebhooksKey(WHSEC), id, timestamp, body),
  };
}

/** `${NAME}`, as a config writes it. */
const placeholder = (name: string) => `\${${name}}`;

const api = (
  url: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) =>
  send(`${url}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? API_TOKEN}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

describe('webhook deliveries become durable tasks', () => {
  it('persists the task before answering 202, from a template over the payload', async () => {
    const { url } = await startHost();
    const answer = await github(url, issue(7), 'delivery-7');
    expect(answer.status).toBe(202);
    const { taskId, duplicate } = answer.json<{ taskId: string; duplicate: boolean }>();
    expect(duplicate).toBe(false);
    // A second connection to the file: the row exists the moment the 202 is out.
    const other = openSqliteStore({ path: dbPath() });
    try {
      const task = await other.tasks.findByIdempotencyKey('webhook:github:delivery-7');
      expect(task).toMatchObject({
        id: taskId,
        type: 'webhook',
        agent: 'triage',
        priority: 1,
        input: { title: 'Bug 7', number: 7 },
        description: 'GitHub issue #7 (issues)',
        sessionKey: 'gh:acme/api',
        metadata: { webhook: { route: 'github', deliveryId: 'delivery-7', event: 'issues' } },
      });
    } finally {
      await other.close();
    }
  });

  it('acknowledges a retried delivery without running it twice, also after a restart', async () => {
    const first = await startHost();
    const a = (await github(first.url, issue(1), 'delivery-1')).json<{ taskId: string }>();
    const again = await github(first.url, issue(1), 'delivery-1');
    expect(again.status).toBe(202);
    expect(again.json()).toEqual({ taskId: a.taskId, duplicate: true });
    await until(() => first.runs.length === 1);
    await first.host.stop('restart');

    const second = await startHost();
    const replay = await github(second.url, issue(1), 'delivery-1');
    expect(replay.status).toBe(202);
    expect(replay.json()).toEqual({ taskId: a.taskId, duplicate: true });
    const fresh = (await github(second.url, issue(2), 'delivery-2')).json<{ duplicate: boolean }>();
    expect(fresh.duplicate).toBe(false);
    await until(() => second.runs.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect([...first.runs, ...second.runs]).toEqual([
      { title: 'Bug 1', number: 1 },
      { title: 'Bug 2', number: 2 },
    ]);
  });

  it('acknowledges and ignores events the route does not take', async () => {
    const { url, host } = await startHost();
    const ping = await github(url, JSON.stringify({ zen: 'Keep it simple' }), 'p-1', 'ping');
    expect(ping.status).toBe(202);
    expect(ping.json()).toEqual({ ignored: true, event: 'ping' });
    expect(await host.resolve(TaskStoreToken).list()).toEqual([]);
  });

  it('takes Standard Webhooks and generic HMAC deliveries', async () => {
    const { url, host } = await startHost();
    const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });
    const std = await send(`${url}/hooks/std`, {
      method: 'POST',
      headers: standardHeaders('msg_1', body),
      body,
    });
    expect(std.status).toBe(202);
    const home = await send(`${url}/hooks/home`, {
      method: 'POST',
      headers: {
        'x-signature': `sha256=${hmacHex(HMAC_SECRET, 'all good')}`,
        'x-delivery-id': 'b-1',
      },
      body: 'all good',
    });
    expect(home.status).toBe(202);
    const tasks = host.resolve(TaskStoreToken);
    expect(await tasks.findByIdempotencyKey('webhook:std:msg_1')).toMatchObject({
      input: { type: 'invoice.paid', data: { id: 'in_1' } },
      metadata: { webhook: { event: 'invoice.paid' } },
    });
    expect(await tasks.findByIdempotencyKey('webhook:home:b-1')).toMatchObject({
      input: 'backup said: all good',
      priority: 3,
    });
  });

  it('emits bus events for emit routes, once per delivery id', async () => {
    const { url, host } = await startHost();
    const seen: unknown[] = [];
    host.events.on('webhook.received', (e) => void seen.push(e));
    const body = '{"disk":"91%"}';
    const deliver = () =>
      send(`${url}/hooks/bus`, {
        method: 'POST',
        headers: {
          'x-signature': `sha256=${hmacHex(HMAC_SECRET, body)}`,
          'x-delivery-id': 'e-1',
          'x-event': 'disk.full',
        },
        body,
      });
    expect((await deliver()).json()).toEqual({ duplicate: false });
    expect((await deliver()).json()).toEqual({ duplicate: true });
    expect(seen).toEqual([
      {
        route: 'bus',
        deliveryId: 'e-1',
        event: 'disk.full',
        payload: { disk: '91%' },
        receivedAt: expect.any(Number),
      },
    ]);
    expect(await host.resolve(TaskStoreToken).list()).toEqual([]);
  });
});

describe('bad inputs (shared/notes/webhooks.md)', () => {
  const body = JSON.stringify({ type: 'order.created', data: { id: 1 } });
  const std = (url: string, headers: Record<string, string>, payload: string | Buffer = body) =>
    send(`${url}/hooks/std`, { method: 'POST', headers, body: payload });

  it('answers every authentication failure 401 with the same body, and stores nothing', async () => {
    const { url, host, log } = await startHost();
    const now = Math.floor(Date.now() / 1000);
    const good = standardHeaders('msg_ok', body, now);
    const without = (name: string) => {
      const h: Record<string, string> = { ...good };
      delete h[name];
      return h;
    };
    const undecodedKey = `v1,${signGithub(WHSEC, `msg_ok.${now}.${body}`)}`;
    const cases: [string, Promise<RawAnswer>][] = [
      ['no id', std(url, without('webhook-id'))],
      ['no timestamp', std(url, without('webhook-timestamp'))],
      ['no signature', std(url, without('webhook-signature'))],
      ['empty signature', std(url, { ...good, 'webhook-signature': '' })],
      ['empty id', std(url, { ...good, 'webhook-id': '' })],
      ['non-integer timestamp', std(url, { ...good, 'webhook-timestamp': `${now}.0` })],
      // Whole seconds on a real clock: 2 s of margin so the sub-second part of "now" cannot
      // bring the timestamp back inside the window (the exact 301 s edge is in verify.test.ts).
      ['303 s old', std(url, standardHeaders('msg_old', body, now - 303))],
      ['303 s ahead', std(url, standardHeaders('msg_new', body, now + 303))],
      [
        'only unknown versions',
        std(url, { ...good, 'webhook-signature': good['webhook-signature'].replace('v1,', 'v2,') }),
      ],
      ['bad base64', std(url, { ...good, 'webhook-signature': 'v1,%%%not-base64%%%' })],
      [
        'truncated',
        std(url, { ...good, 'webhook-signature': good['webhook-signature'].slice(0, 20) }),
      ],
      ['whsec_ secret used undecoded', std(url, { ...good, 'webhook-signature': undecodedKey })],
      [
        'BOM added',
        std(url, good, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)])),
      ],
      ['re-serialised', std(url, good, JSON.stringify(JSON.parse(body), null, 2))],
      ['empty body', std(url, good, '')],
      ['GitHub without signature', send(`${url}/hooks/github`, { method: 'POST', body: issue(1) })],
      [
        'GitHub signed with another secret',
        send(`${url}/hooks/github`, {
          method: 'POST',
          headers: { 'x-hub-signature-256': signGithub('wrong', issue(1)) },
          body: issue(1),
        }),
      ],
    ];
    const answers = await Promise.all(cases.map(([, a]) => a));
    answers.forEach((a, i) => {
      expect(a.status, cases[i]![0]).toBe(401);
      expect(a.text, cases[i]![0]).toBe(answers[0]!.text);
    });
    expect(answers[0]!.json()).toEqual({
      error: { code: 'unauthorized', message: 'invalid or missing signature' },
    });
    expect(await host.resolve(TaskStoreToken).list()).toEqual([]);
    // Reasons are logged for whoever configures the sender; signatures never are.
    expect(log.text()).toContain('"reason":"stale"');
    expect(log.text()).not.toContain(good['webhook-signature'].slice(3));
  });

  it('accepts the valid signature second in the list, and a BOM that was signed', async () => {
    const { url } = await startHost();
    const h = standardHeaders('msg_2nd', body);
    const listed = {
      ...h,
      'webhook-signature': `v1,${randomBytes(32).toString('base64')} ${h['webhook-signature']}`,
    };
    expect((await std(url, listed)).status).toBe(202);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
    expect((await std(url, standardHeaders('msg_bom', withBom), withBom)).status).toBe(202);
  });

  it('answers 400 to signed bodies that are not JSON, or empty', async () => {
    const { url } = await startHost();
    for (const [id, payload] of [
      ['msg_bad', '{"type": "x",'],
      ['msg_empty', ''],
    ] as const) {
      const answer = await std(url, standardHeaders(id, payload), payload);
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ error: { code: 'bad_request' } });
    }
  });

  it('answers 404 to unknown paths, 405 to GET on a webhook path, 413 past the cap', async () => {
    const { url } = await startHost({ webhook: { bodyLimitBytes: 4096 } });
    expect((await send(`${url}/hooks/nope`, { method: 'POST', body })).status).toBe(404);
    expect((await send(`${url}/hooks/std`)).status).toBe(405);
    const big = JSON.stringify({ type: 'x', data: 'a'.repeat(5000) });
    const answer = await std(url, standardHeaders('msg_big', big), big);
    expect(answer.status).toBe(413);
    expect(answer.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('takes a chunked body without Content-Length, and counts it against the cap', async () => {
    const { url, host } = await startHost({ webhook: { bodyLimitBytes: 4096 } });
    const h = standardHeaders('msg_chunked', body);
    const ok = await send(`${url}/hooks/std`, {
      method: 'POST',
      headers: h,
      chunks: [body.slice(0, 10), body.slice(10)],
    });
    expect(ok.status).toBe(202);
    expect(
      await host.resolve(TaskStoreToken).findByIdempotencyKey('webhook:std:msg_chunked'),
    ).toBeDefined();
    const big = 'x'.repeat(3000);
    const over = await send(`${url}/hooks/std`, {
      method: 'POST',
      headers: standardHeaders('msg_chunked_big', big + big),
      chunks: [big, big],
    });
    expect(over.status).toBe(413);
  });

  it('runs a replayed id once (202 duplicate)', async () => {
    const { url, host } = await startHost();
    const h = standardHeaders('msg_replay', body);
    const first = (await std(url, h)).json<{ taskId: string }>();
    const replay = await std(url, h);
    expect(replay.status).toBe(202);
    expect(replay.json()).toEqual({ taskId: first.taskId, duplicate: true });
    expect(await host.resolve(TaskStoreToken).list()).toHaveLength(1);
  });

  it('keeps serving deliveries while a very slow client trickles its request', async () => {
    const { url } = await startHost();
    const slow = await rawSocket(url);
    slow.write('POST /hooks/std HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{');
    const drip = setInterval(() => slow.write(' '), 20);
    try {
      const t0 = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => std(url, standardHeaders(`msg_fast_${i}`, body))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      clearInterval(drip);
      slow.destroy();
    }
  });
});

describe('probes and readiness', () => {
  it('is live but not ready while later plugins start; deliveries wait for readiness', async () => {
    let release!: () => void;
    const slow: Plugin = {
      name: 'slow-start',
      start: () =>
        new Promise<void>((r) => {
          release = r;
        }),
    };
    const log = memoryLogger();
    const host = createHost({
      logger: log.logger,
      agents: [agent('triage', () => 'ok')],
      plugins: [sqlite({ path: dbPath() }), webhook({ port: 0, routes: ROUTES }), slow],
    });
    hosts.push(host);
    const started = host.start();
    await until(() => host.tryResolve(HttpServerToken)?.address !== undefined);
    const url = host.resolve(HttpServerToken).address!.url;
    expect((await send(`${url}/live`)).status).toBe(200);
    const ready = await send(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers['content-type']).toBe('application/health+json');
    expect(ready.json()).toEqual({ status: 'fail', output: 'starting' });
    let answered = false;
    const delivery = github(url, issue(3), 'early').then((a) => {
      answered = true;
      return a;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    release();
    await started;
    expect((await delivery).status).toBe(202);
    expect((await send(`${url}/ready`)).json()).toEqual({ status: 'pass' });
  });

  it('is not ready while draining, refuses new work with 503 and lets requests in flight finish', async () => {
    let releaseDrain!: () => void;
    let releaseSlow!: () => void;
    let slowStarted = false;
    const other: Plugin = {
      name: 'mounts-a-route',
      dependsOn: [HttpServerToken],
      register(ctx) {
        ctx.resolve(HttpServerToken).route({
          method: 'GET',
          path: '/slow',
          handler: async () => {
            slowStarted = true;
            await new Promise<void>((r) => {
              releaseSlow = r;
            });
            return { json: 'finished' };
          },
        });
      },
      drain: () =>
        new Promise<void>((r) => {
          releaseDrain = r;
        }),
    };
    const { host, url } = await startHost({ plugins: [other] });
    const inFlight = send(`${url}/slow`);
    await until(() => slowStarted);
    const stopping = host.stop('test');
    await until(() => releaseDrain !== undefined);
    const ready = await send(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ status: 'fail', output: 'draining' });
    expect((await send(`${url}/live`)).status).toBe(200);
    const refused = await github(url, issue(9), 'late');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    releaseDrain();
    // The webhook plugin drains now: new requests get 503, the one in flight still finishes.
    await until(() => host.resolve(HttpServerToken).draining);
    expect((await api(url, '/status')).status).toBe(503);
    releaseSlow();
    expect((await inFlight).json()).toBe('finished');
    expect((await stopping).ok).toBe(true);
    await expect(send(`${url}/live`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reports /health as application/health+json with one entry per check', async () => {
    const { url } = await startHost({
      plugins: [
        {
          name: 'custom-check',
          register(ctx) {
            ctx.resolve(HealthRegistryToken).add({
              name: 'custom',
              check: () => ({ status: 'warn', output: 'degraded' }),
            });
          },
        },
      ],
    });
    await until(async () =>
      Object.keys((await send(`${url}/health`)).json<{ checks: object }>().checks).includes(
        'store',
      ),
    );
    const health = await send(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe('application/health+json');
    const body = health.json<{
      status: string;
      checks: Record<string, { status: string; time: string }[]>;
    }>();
    expect(body.status).toBe('warn');
    // The kernel's and other plugins' checks come and go; these are certain.
    expect(Object.keys(body.checks)).toEqual(
      expect.arrayContaining(['custom', 'event-loop', 'http', 'runner', 'store']),
    );
    expect(body.checks.custom).toEqual([
      { status: 'warn', output: 'degraded', time: expect.any(String) },
    ]);
    expect(body.checks.store![0]).toMatchObject({ status: 'pass', observedUnit: 'ms' });
  });
});

describe('/health answer cache', () => {
  /** A plugin whose health check counts its runs and reports the count. */
  function countingCheck() {
    const counter = { runs: 0 };
    const plugin: Plugin = {
      name: 'counting-check',
      register(ctx) {
        ctx.resolve(HealthRegistryToken).add({
          name: 'counter',
          check: () => ({ status: 'pass', observedValue: ++counter.runs }),
        });
      },
    };
    return { counter, plugin };
  }
  const counterEntry = async (url: string) =>
    (await send(`${url}/health`)).json<{
      checks: { counter: { status: string; observedValue: number; time: string }[] };
    }>().checks.counter[0];

  it('reuses an answer younger than healthCacheMs, with the time its checks ran', async () => {
    const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
    const { counter, plugin } = countingCheck();
    const { url } = await startHost({ config: { clock }, plugins: [plugin] });
    const first = await counterEntry(url);
    await clock.advance(999);
    const second = await counterEntry(url);
    expect(counter.runs).toBe(1);
    expect(second).toEqual(first);
    expect(second?.time).toBe('2026-11-26T12:00:00.000Z');
  });

  it('runs the checks again once the answer is healthCacheMs old', async () => {
    const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
    const { counter, plugin } = countingCheck();
    const { url } = await startHost({ config: { clock }, plugins: [plugin] });
    await counterEntry(url);
    await clock.advance(1000);
    const fresh = await counterEntry(url);
    expect(counter.runs).toBe(2);
    expect(fresh).toEqual({ status: 'pass', observedValue: 2, time: '2026-11-26T12:00:01.000Z' });
  });

  it('runs the checks for every request when healthCacheMs is 0', async () => {
    const { counter, plugin } = countingCheck();
    const { url } = await startHost({ webhook: { healthCacheMs: 0 }, plugins: [plugin] });
    await counterEntry(url);
    await counterEntry(url);
    await counterEntry(url);
    expect(counter.runs).toBe(3);
  });

  it('never caches the fresh report the HTTP API asks for', async () => {
    const { counter, plugin } = countingCheck();
    const { url } = await startHost({ webhook: { healthCacheMs: 60_000 }, plugins: [plugin] });
    await counterEntry(url);
    expect((await api(url, '/status')).status).toBe(200);
    expect(counter.runs).toBe(2);
  });
});

describe('HTTP API', () => {
  it('refuses requests without the right bearer token', async () => {
    const { url } = await startHost();
    for (const token of ['', 'nope', `${API_TOKEN}x`]) {
      const answer = await api(url, '/status', { token });
      expect(answer.status).toBe(401);
      expect(answer.json()).toEqual({
        error: { code: 'unauthorized', message: 'missing or invalid credentials' },
      });
    }
  });

  it('reports host status with task counts and health', async () => {
    const { url, host } = await startHost();
    await github(url, issue(1), 'd-1');
    const status = (await api(url, '/status')).json<Record<string, Record<string, unknown>>>();
    expect(status.host).toMatchObject({ name: 'agentd', state: 'ready', pid: process.pid });
    expect(status.host!.plugins).toEqual(host.plugins);
    expect(status.intake).toMatchObject({ state: 'open' });
    expect(status.http).toMatchObject({ url, draining: false });
    expect(status.store).toMatch(/^sqlite:/);
    expect(status.tasks).toMatchObject({ cancelled: 0 });
    expect(status.health).toMatchObject({ status: expect.any(String) });
  });

  it('enqueues, lists with filters, gets and cancels tasks', async () => {
    const { url } = await startHost({ config: { runner: false } });
    const created = await api(url, '/tasks', {
      method: 'POST',
      body: { input: 'hello', agent: 'triage', priority: 'critical', idempotencyKey: 'k-1' },
    });
    expect(created.status).toBe(201);
    const { task } = created.json<{ task: { id: string; priority: number; type: string } }>();
    expect(task).toMatchObject({ priority: 0, type: 'api' });
    const again = await api(url, '/tasks', {
      method: 'POST',
      body: { input: 'hello', idempotencyKey: 'k-1' },
    });
    expect(again.status).toBe(200);
    expect(again.json()).toMatchObject({ created: false, task: { id: task.id } });
    await api(url, '/tasks', {
      method: 'POST',
      body: { description: 'later', runAt: '2999-01-01T00:00:00Z' },
    });

    const pending = (await api(url, '/tasks?status=pending&limit=1&order=oldest')).json<{
      tasks: { id: string }[];
    }>();
    expect(pending.tasks.map((t) => t.id)).toEqual([task.id]);
    expect((await api(url, '/tasks?agent=nobody')).json()).toMatchObject({ tasks: [] });
    expect((await api(url, `/tasks/${task.id}`)).json()).toMatchObject({ task: { id: task.id } });

    // Hold and release (a reminder's pause and resume): the task keeps its place.
    const held = await api(url, `/tasks/${task.id}/hold`, { method: 'POST' });
    expect(held.json()).toMatchObject({ task: { id: task.id, status: 'held' } });
    expect((await api(url, '/tasks?status=held')).json()).toMatchObject({
      tasks: [{ id: task.id }],
    });
    const released = await api(url, `/tasks/${task.id}/release`, { method: 'POST' });
    expect(released.json()).toMatchObject({ task: { id: task.id, status: 'pending' } });
    expect((await api(url, '/tasks/t_nope/hold', { method: 'POST' })).status).toBe(404);
    // Without the token, or naming no task (control characters, 300 of them): refused, and the
    // task stays as it was.
    expect(
      (await api(url, `/tasks/${task.id}/hold`, { method: 'POST', token: 'wrong' })).status,
    ).toBe(401);
    const oddId = encodeURIComponent('\u001b[2J'.repeat(75));
    expect((await api(url, `/tasks/${oddId}/release`, { method: 'POST' })).status).toBe(404);
    expect((await api(url, `/tasks/${task.id}`)).json()).toMatchObject({
      task: { id: task.id, status: 'pending' },
    });

    const cancelled = await api(url, `/tasks/${task.id}/cancel`, { method: 'POST' });
    expect(cancelled.json()).toMatchObject({ task: { id: task.id, status: 'cancelled' } });
    const holdCancelled = await api(url, `/tasks/${task.id}/hold`, { method: 'POST' });
    expect(holdCancelled.status).toBe(409);
    expect(holdCancelled.json()).toEqual({
      error: {
        code: 'conflict',
        message: `task ${task.id} is cancelled: only a pending task can be held`,
      },
    });
    const twice = await api(url, `/tasks/${task.id}/cancel`, { method: 'POST' });
    expect(twice.status).toBe(409);
    expect(twice.json()).toEqual({
      error: { code: 'conflict', message: `task ${task.id} is already cancelled` },
    });
    const unknown = await api(url, '/tasks/t_nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({
      error: { code: 'not_found', message: 'no task with id t_nope' },
    });
  });

  it('answers bad requests 400 in the error shape', async () => {
    const { url } = await startHost();
    const cases = [
      api(url, '/tasks?status=done'),
      api(url, '/tasks?limit=0'),
      api(url, '/tasks', { method: 'POST', body: { priority: 2 } }),
      api(url, '/tasks', { method: 'POST', body: { input: 'x', agent: 'ghost' } }),
      api(url, '/tasks', { method: 'POST', body: { input: 'x', surprise: true } }),
      send(`${url}/api/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}` },
        body: '{nope',
      }),
    ];
    for (const answer of await Promise.all(cases)) {
      expect(answer.status).toBe(400);
      const { error } = answer.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe('bad_request');
      expect(error.message.length).toBeGreaterThan(0);
    }
    expect((await cases[3]!).json()).toMatchObject({
      error: { message: 'unknown agent "ghost" (known: triage)' },
    });
  });

  it('lists sessions and their history, and says when there is no scheduler', async () => {
    const { url, host } = await startHost();
    const sessions = host.resolve(SessionStoreToken);
    const s = await sessions.create(
      {
        userKey: 'telegram:1',
        address: { channel: 'telegram', id: '1' },
        name: 'main',
        agent: 'triage',
      },
      Date.now(),
    );
    await sessions.appendHistory(s.id, { role: 'user', content: 'hi', at: Date.now() });
    expect((await api(url, '/sessions')).json()).toMatchObject({ sessions: [{ id: s.id }] });
    expect((await api(url, '/sessions?user=telegram:1')).json()).toMatchObject({
      sessions: [{ id: s.id }],
    });
    expect((await api(url, '/sessions?status=archived')).json()).toEqual({ sessions: [] });
    expect((await api(url, `/sessions/${s.id}`)).json()).toMatchObject({
      session: { name: 'main' },
    });
    expect((await api(url, `/sessions/${s.id}/history`)).json()).toMatchObject({
      history: [{ role: 'user', content: 'hi' }],
    });
    const schedules = await api(url, '/schedules');
    expect(schedules.status).toBe(503);
    expect(schedules.json()).toEqual({
      error: { code: 'no_scheduler', message: 'this host has no scheduler' },
    });
  });

  it('lists and triggers schedules when the host has a scheduler', async () => {
    const triggered: string[] = [];
    const fake: Pick<Scheduler, 'list' | 'trigger'> = {
      list: async () => [
        {
          name: 'daily',
          expression: '0 8 * * *',
          timezone: 'UTC',
          enabled: true,
          nextRunAt: null,
          lastSlot: null,
          missedSlots: [],
        } as unknown as ScheduleStatus,
      ],
      trigger: async (name) => void triggered.push(name),
    };
    const { url } = await startHost({
      plugins: [
        {
          name: 'fake-scheduler',
          provides: [SchedulerToken],
          register: (ctx) => ctx.provide(SchedulerToken, fake as Scheduler),
        },
      ],
    });
    expect((await api(url, '/schedules')).json()).toMatchObject({ schedules: [{ name: 'daily' }] });
    const fired = await api(url, '/schedules/daily/trigger', { method: 'POST' });
    expect(fired.status).toBe(202);
    expect(triggered).toEqual(['daily']);
    expect((await api(url, '/schedules/nope/trigger', { method: 'POST' })).status).toBe(404);
  });

  it('answers 503 no_store where a host without a store cannot serve', async () => {
    const { url, log } = await startHost({ store: false });
    expect(log.text()).toContain('this host has no task store');
    const delivery = await github(url, issue(1), 'd-1');
    expect(delivery.status).toBe(503);
    expect(delivery.json()).toMatchObject({ error: { code: 'no_store' } });
    expect((await api(url, '/tasks')).json()).toEqual({
      error: { code: 'no_store', message: 'this host has no task store' },
    });
    expect((await api(url, '/status')).json()).toMatchObject({
      store: null,
      tasks: null,
      replies: null,
    });
    expect((await send(`${url}/health`)).status).toBe(200);
  });
});

describe('configuration', () => {
  it('refuses to start when a route names an unknown agent', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [
        sqlite({ path: dbPath() }),
        webhook({
          port: 0,
          routes: [
            {
              name: 'x',
              path: '/x',
              verify: { scheme: 'github', secret: 's' },
              task: { agent: 'ghost' },
            },
          ],
        }),
      ],
      agents: [agent('triage', () => 'ok')],
    });
    hosts.push(host);
    await expect(host.start()).rejects.toThrow(
      'webhook route "x": "ghost" is not an agent of this host (known: triage)',
    );
  });

  it('reports bad options by path, never echoing secrets', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [
        webhook({
          port: 0,
          api: { token: 'short-secret' },
          routes: [
            {
              name: 'a',
              path: '/live',
              verify: { scheme: 'standard', secret: 'whsec_not base64!' },
            },
            {
              name: 'a',
              path: '/b',
              verify: { scheme: 'github', secret: '' },
              task: { input: '{{ body }}' },
            },
          ],
        }),
      ],
    });
    hosts.push(host);
    const error = await host.start().catch((e: { issues: string[] }) => e);
    const issues = (error as { issues: string[] }).issues.join('\n');
    expect(issues).toContain('plugins[0].api.token: use at least 16 characters');
    expect(issues).toContain('plugins[0].routes[0].path: /live is reserved');
    expect(issues).toContain(
      'plugins[0].routes[0].verify.secret: must be a Standard Webhooks secret',
    );
    expect(issues).toContain('plugins[0].routes[1].name: duplicate route name');
    expect(issues).toContain('plugins[0].routes[1].verify.secret');
    expect(issues).toContain('plugins[0].routes[1].task.input: unknown placeholder root "body"');
    expect(issues).not.toContain('short-secret');
    expect(issues).not.toContain('not base64!');
  });

  it('refuses healthAuth "bearer" without an API token', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [webhook({ port: 0, healthAuth: 'bearer' })],
    });
    hosts.push(host);
    await expect(host.start()).rejects.toMatchObject({
      issues: ['plugins[0].healthAuth: "bearer" needs api.token: there is no token to check'],
    });
  });

  it('takes secrets and the port from environment placeholders', async () => {
    const host = createHost(
      {
        logger: memoryLogger().logger,
        agents: [agent('triage', () => 'ok')],
        plugins: [
          sqlite({ path: dbPath() }),
          webhook({
            port: placeholder('TEST_PORT') as unknown as number,
            routes: [
              {
                name: 'gh',
                path: '/gh',
                verify: { scheme: 'github', secret: placeholder('TEST_GH_SECRET') },
              },
            ],
          }),
        ],
      },
      { env: { TEST_PORT: '0', TEST_GH_SECRET: 'from-env' } },
    );
    hosts.push(host);
    await host.start();
    const url = host.resolve(HttpServerToken).address!.url;
    const body = '{"a":1}';
    const answer = await send(`${url}/gh`, {
      method: 'POST',
      headers: { 'x-hub-signature-256': signGithub('from-env', body), 'x-github-delivery': 'e1' },
      body,
    });
    expect(answer.status).toBe(202);
  });
});
