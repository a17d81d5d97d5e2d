// The dashboard's chat routes over real HTTP: a message becomes a stored task before the 202,
// the reply reaches a waiting read, commands answer, bad input is refused with nothing changed,
// one conversation per dashboard user, and the conversation survives a restart.
import { agent, createHost, HttpServerToken, type Plugin, TaskStoreToken } from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it, vi } from 'vitest';
import { dashboard } from './index.js';
import { DASHBOARD_TOKEN, DashboardChat } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-chat-');

async function startHost(
  options: { bind?: string; login?: boolean; path?: string; plugins?: Plugin[] } = {},
) {
  const host = createHost({
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    runner: { pollMs: 20 },
    // The loopback user may use the operator commands (/status).
    commands: { operators: ['web:local'] },
    agents: [agent('echo', (input) => `echo: ${String(input)}`)],
    plugins: [
      sqlite({ path: options.path ?? dbPath() }),
      webhook({ port: 0, host: options.bind ?? '127.0.0.1' }),
      dashboard(options.login ? { token: DASHBOARD_TOKEN } : {}),
      ...(options.plugins ?? []),
    ],
  });
  hosts.push(host);
  await host.start();
  const url = host.resolve(HttpServerToken).address!.url.replace('0.0.0.0', '127.0.0.1');
  const tasks = () => host.resolve(TaskStoreToken).list({ limit: 1000 });
  return { host, url, tasks };
}

describe('the dashboard chat', () => {
  it('stores a message as a web task before answering 202, and delivers the reply to a waiting read', async () => {
    const { url, tasks } = await startHost();
    const chat = await DashboardChat.open(url);
    const waiting = chat.read('', 20_000);
    const posted = await chat.post({ text: 'hello', id: 'm-1' });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({
      outcome: 'accepted',
      id: 'm-1',
      taskId: expect.any(String),
    });
    // Persisted before acknowledged: the task is in the store when the 202 arrives.
    const stored = await tasks();
    expect(stored.map((t) => t.id)).toContain(posted.body.taskId);
    expect(stored.find((t) => t.id === posted.body.taskId)).toMatchObject({
      input: 'hello',
      replyTo: { channel: 'web', id: 'local' },
    });
    // The waiting read returns the message itself first (both sides are kept).
    const first = await waiting;
    expect(first.user).toBe('local');
    expect(first.messages[0]).toMatchObject({ text: 'hello', from: 'client' });
    let after = first.cursor;
    const texts = first.messages.map((m) => m.text);
    while (!texts.includes('echo: hello')) {
      const more = await chat.read(after, 20_000);
      texts.push(...more.messages.map((m) => m.text));
      after = more.cursor;
    }
    expect(texts).toEqual(['hello', 'echo: hello']);
    // Nothing newer after the cursor.
    expect((await chat.read(after)).messages).toEqual([]);
  });

  it('answers the chat commands (/help, /tasks, /status) without a task', async () => {
    const { url, tasks } = await startHost();
    const chat = await DashboardChat.open(url);
    for (const [i, text] of ['/help', '/tasks', '/status'].entries()) {
      const posted = await chat.post({ text, id: `c-${i}` });
      expect(posted.status).toBe(200);
      expect(posted.body).toMatchObject({ outcome: 'handled' });
    }
    const { messages } = await chat.read();
    const replies = messages.filter((m) => m.from !== 'client').map((m) => m.text);
    expect(replies).toHaveLength(3);
    expect(replies[0]).toContain('/tasks');
    // /status is the operators' (web:local is one): the host's line and its queue.
    expect(replies[2]).toMatch(/plugins\n(.|\n)*Queue: /);
    expect((await tasks()).filter((t) => t.type === 'message')).toEqual([]);
  });

  it('refuses bad input with a clear 4xx and changes nothing; the next good message is served', async () => {
    const { url, tasks } = await startHost();
    const chat = await DashboardChat.open(url);
    expect((await chat.post({ text: 'first', id: 'ok-1' })).status).toBe(202);
    // Its answer comes a moment after the 202: wait for it, so the count below is settled.
    await vi.waitFor(
      async () => {
        const { messages } = await chat.read();
        expect(messages.some((m) => m.from !== 'client')).toBe(true);
      },
      { timeout: 10_000, interval: 20 },
    );
    const before = { tasks: (await tasks()).length, chat: (await chat.read()).messages.length };

    const cases: [string, () => ReturnType<DashboardChat['post']>, number, string][] = [
      ['empty text', () => chat.post({ text: '' }), 400, 'bad_request'],
      ['blank text', () => chat.post({ text: '   \n ' }), 400, 'bad_request'],
      ['too long', () => chat.post({ text: 'x'.repeat(16_001) }), 400, 'bad_request'],
      ['control characters', () => chat.post({ text: 'clear \u001b[2J' }), 400, 'bad_request'],
      ['NUL', () => chat.post({ text: 'a\u0000b' }), 400, 'bad_request'],
      ['a number', () => chat.post({ text: 42 }), 400, 'bad_request'],
      ['an array', () => chat.post([{ text: 'hi' }]), 400, 'bad_request'],
      ['an unknown field', () => chat.post({ text: 'hi', agent: 'x' }), 400, 'bad_request'],
      ['a bad id', () => chat.post({ text: 'hi', id: 'a/b' }), 400, 'bad_request'],
      ['not JSON', () => chat.post('{"text":'), 400, 'bad_request'],
      [
        'a form',
        () => chat.post('text=hi', { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      ],
      [
        'over the body cap',
        () => chat.post({ text: '€'.repeat(30_000) }),
        413,
        'payload_too_large',
      ],
      [
        'no CSRF header',
        () => chat.post({ text: 'hi' }, { 'x-agentd-csrf': '' }),
        403,
        'forbidden',
      ],
      [
        'another origin',
        () => chat.post({ text: 'hi' }, { origin: 'https://evil.example' }),
        403,
        'forbidden',
      ],
      ['a replayed id', () => chat.post({ text: 'first again', id: 'ok-1' }), 409, 'duplicate'],
    ];
    for (const [what, send, status, code] of cases) {
      const answer = await send();
      expect({ what, status: answer.status }).toEqual({ what, status });
      expect(answer.body.error?.code, what).toBe(code);
      expect(
        String((answer.body.error as { message?: string } | undefined)?.message ?? ''),
      ).not.toBe('');
    }
    expect((await tasks()).length).toBe(before.tasks);
    expect((await chat.read()).messages.length).toBe(before.chat);
    const good = await chat.post({ text: 'second', id: 'ok-2' });
    expect(good.status).toBe(202);
  });

  it('refuses a malformed read', async () => {
    const { url } = await startHost();
    for (const query of ['after=%1b', 'after=abc', 'wait=-1', 'wait=99999999', 'wait=x']) {
      const response = await fetch(`${url}/dashboard/api/chat?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
  });

  it('keeps one conversation per dashboard user when bound beyond loopback, and needs a login', async () => {
    const { url, tasks } = await startHost({ bind: '0.0.0.0', login: true });
    const anonymous = await fetch(`${url}/dashboard/api/chat`);
    expect(anonymous.status).toBe(401);
    const stranger = await fetch(`${url}/dashboard/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'let me in' }),
    });
    expect(stranger.status).toBe(401);
    const badName = await fetch(`${url}/dashboard/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: DASHBOARD_TOKEN, user: 'no spaces' }),
    });
    expect(badName.status).toBe(400);
    const alice = await DashboardChat.open(url, await DashboardChat.login(url, 'alice'));
    const bob = await DashboardChat.open(url, await DashboardChat.login(url, 'bob'));
    // The same client id from two users is two messages.
    expect((await alice.post({ text: 'from alice', id: 'same' })).status).toBe(202);
    expect((await bob.post({ text: 'from bob', id: 'same' })).status).toBe(202);
    alice.follow();
    bob.follow();
    await expect.poll(() => alice.replies(), { timeout: 10_000 }).toEqual(['echo: from alice']);
    await expect.poll(() => bob.replies(), { timeout: 10_000 }).toEqual(['echo: from bob']);
    expect((await alice.read()).user).toBe('alice');
    const replyTos = (await tasks()).map((t) => t.replyTo?.id).sort();
    expect(replyTos).toEqual(['alice', 'bob']);
    alice.stop();
    bob.stop();
  });

  it('keeps the conversation, both sides, across a restart', async () => {
    const path = dbPath();
    const first = await startHost({ path });
    const chat = await DashboardChat.open(first.url);
    await chat.post({ text: 'remember me', id: 'r-1' });
    chat.follow();
    await expect.poll(() => chat.replies(), { timeout: 10_000 }).toEqual(['echo: remember me']);
    chat.stop();
    await first.host.stop();
    const second = await startHost({ path });
    const again = await DashboardChat.open(second.url);
    const { messages } = await again.read();
    expect(messages.map((m) => m.text)).toEqual(['remember me', 'echo: remember me']);
    // The id is still known after the restart: a replay is refused.
    expect((await again.post({ text: 'remember me', id: 'r-1' })).status).toBe(409);
  });
});
