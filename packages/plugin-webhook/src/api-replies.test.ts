// replyTo on tasks created through the API, and the wait route, on a real server and store.
import {
  type Address,
  agent,
  ChannelRegistryToken,
  createHost,
  type HostConfig,
  HttpServerToken,
  type Plugin,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import type { WebhookOptions } from './options.js';
import { webhook } from './plugin.js';
import { send, until } from './test-support.js';

const TOKEN = 'replies-api-token-0123456789';
const { hosts, dbPath } = useTestHosts('agentd-replies-');

/** A channel that keeps what it is sent, and takes only numeric addresses. */
function inbox() {
  const sent: { to: Address; text: string }[] = [];
  const plugin: Plugin = {
    name: 'inbox',
    register: (ctx) =>
      ctx.resolve(ChannelRegistryToken).add({
        name: 'inbox',
        checkAddress: (to) => (/^\d+$/.test(to.id) ? undefined : 'an inbox id is a number'),
        send: async (to, message) => {
          sent.push({ to, text: message.text });
          return { ids: [String(sent.length)] };
        },
      }),
  };
  return { sent, plugin };
}

/** An agent that answers when the test releases it. */
function gate() {
  let release: () => void = () => {};
  const opened = new Promise<void>((r) => {
    release = r;
  });
  return { opened, release: () => release() };
}

async function startHost(config: HostConfig = {}, server: Partial<WebhookOptions> = {}) {
  const box = inbox();
  const held = gate();
  const host = createHost({
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    runner: { pollMs: 20 },
    agents: [
      agent('echo', (input) => `echo: ${String(input)}`),
      agent('slow', async (input) => {
        await held.opened;
        return `late: ${String(input)}`;
      }),
      agent('broken', () => {
        throw new Error('the agent broke');
      }),
    ],
    ...config,
    plugins: [
      sqlite({ path: dbPath() }),
      webhook({ port: 0, api: { token: TOKEN }, ...server }),
      box.plugin,
      ...(config.plugins ?? []),
    ],
  });
  hosts.push(host);
  await host.start();
  const url = host.resolve(HttpServerToken).address!.url;
  const api = (path: string, init: { method?: string; body?: unknown; raw?: string } = {}) =>
    send(`${url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(init.raw !== undefined
        ? { body: init.raw }
        : init.body !== undefined
          ? { body: JSON.stringify(init.body) }
          : {}),
    });
  const taskCount = async () => (await host.resolve(TaskStoreToken).list({ limit: 1000 })).length;
  return { host, url, api, sent: box.sent, release: held.release, taskCount };
}

describe('replyTo on API tasks', () => {
  it('delivers the result to the channel address named in replyTo', async () => {
    const { api, sent } = await startHost();
    const created = await api('/tasks', {
      method: 'POST',
      body: { input: 'hello', agent: 'echo', replyTo: { channel: 'inbox', id: '42' } },
    });
    expect(created.status).toBe(201);
    const task = created.json<{ task: { id: string; replyTo: Address } }>().task;
    expect(task.replyTo).toEqual({ channel: 'inbox', id: '42' });
    await until(() => sent.length === 1);
    expect(sent[0]).toEqual({ to: { channel: 'inbox', id: '42' }, text: 'echo: hello' });
  });

  it('refuses an unknown channel or an address the channel cannot take, storing nothing', async () => {
    const { api, taskCount } = await startHost();
    const unknown = await api('/tasks', {
      method: 'POST',
      body: { input: 'x', replyTo: { channel: 'fax', id: '1' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown_channel' } });
    expect(unknown.json<{ error: { message: string } }>().error.message).toContain('inbox');

    const bad = await api('/tasks', {
      method: 'POST',
      body: { input: 'x', replyTo: { channel: 'inbox', id: 'abc' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({
      error: {
        code: 'invalid_address',
        message: expect.stringContaining('an inbox id is a number'),
      },
    });
    expect(await taskCount()).toBe(0);
  });

  it.each([
    ['a string', 'inbox:42'],
    ['no id', { channel: 'inbox' }],
    ['a number id', { channel: 'inbox', id: 42 }],
    ['an extra key', { channel: 'inbox', id: '42', email: 'x@y' }],
    ['a control character', { channel: 'inbox', id: '4\u001b2' }],
    ['an empty channel', { channel: '', id: '42' }],
    ['a huge id', { channel: 'inbox', id: '1'.repeat(5000) }],
  ])('refuses a replyTo with %s (400, nothing stored)', async (_, replyTo) => {
    const { api, taskCount } = await startHost();
    const answer = await api('/tasks', { method: 'POST', body: { input: 'x', replyTo } });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect(await taskCount()).toBe(0);
  });
});

describe('GET /api/v1/tasks/:id/wait', () => {
  it('answers the moment the task finishes, woken by the event bus', async () => {
    const { api, release } = await startHost();
    const created = await api('/tasks', { method: 'POST', body: { input: 'q', agent: 'slow' } });
    const id = created.json<{ task: { id: string } }>().task.id;

    const early = await api(`/tasks/${id}/wait?timeout=300ms`);
    expect(early.status).toBe(200);
    expect(early.json()).toMatchObject({ done: false, task: { id } });
    expect(['pending', 'running']).toContain(
      early.json<{ task: { status: string } }>().task.status,
    );

    const waiting = api(`/tasks/${id}/wait?timeout=30s`);
    await new Promise((r) => setTimeout(r, 200));
    const releasedAt = Date.now();
    release();
    const answer = await waiting;
    const latency = Date.now() - releasedAt;
    expect(answer.json()).toMatchObject({
      done: true,
      task: { status: 'completed', result: 'late: q' },
    });
    // Woken by the event, not by a poll of the store.
    expect(latency).toBeLessThan(1000);
  });

  it('answers at once for a finished task, and reports a failure as done', async () => {
    const { api } = await startHost();
    const created = await api('/tasks', {
      method: 'POST',
      body: { input: 'q', agent: 'broken', maxAttempts: 1 },
    });
    const id = created.json<{ task: { id: string } }>().task.id;
    const failed = await api(`/tasks/${id}/wait?timeout=20s`);
    expect(failed.json()).toMatchObject({ done: true, task: { status: 'failed' } });
    const t0 = Date.now();
    const again = await api(`/tasks/${id}/wait?timeout=20s`);
    expect(again.json()).toMatchObject({ done: true });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('refuses a bad timeout and answers 404 for an unknown task', async () => {
    const { api } = await startHost();
    for (const timeout of ['abc', '-1s', '10m', '1e3', '5h', '9'.repeat(30)]) {
      const answer = await api(`/tasks/x/wait?timeout=${encodeURIComponent(timeout)}`);
      expect(answer.status, timeout).toBe(400);
    }
    const unknown = await api('/tasks/no-such-task/wait?timeout=1s');
    expect(unknown.status).toBe(404);
  });

  it("outlasts the server's request timeout, which bounds receiving a request, not answering it", async () => {
    const { api, release } = await startHost({}, { headersTimeoutMs: 300, requestTimeoutMs: 500 });
    const created = await api('/tasks', { method: 'POST', body: { input: 'q', agent: 'slow' } });
    const id = created.json<{ task: { id: string } }>().task.id;
    const t0 = Date.now();
    const answer = await api(`/tasks/${id}/wait?timeout=2s`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ done: false });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    release();
  });

  it('ends a wait when the host stops, so the drain is not held up', async () => {
    const { api, host, release } = await startHost();
    const created = await api('/tasks', { method: 'POST', body: { input: 'q', agent: 'slow' } });
    const id = created.json<{ task: { id: string } }>().task.id;
    const waiting = api(`/tasks/${id}/wait?timeout=120s`);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const stopped = host.stop('test');
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ done: false });
    release();
    await stopped;
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
