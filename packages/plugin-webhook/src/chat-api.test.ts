// The `api` chat channel: messages through the inbound router, replies fetched with a long poll,
// kept in the StateStore across a restart; bad input refused with nothing stored.
import { agent, createHost, HttpServerToken, TaskStoreToken } from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { webhook } from './plugin.js';
import { pingCommand, send } from './test-support.js';

const TOKEN = 'chat-api-token-0123456789';
const { hosts, dbPath } = useTestHosts('agentd-chat-');

interface Delivered {
  messages: { seq: string; text: string }[];
  cursor: string;
}

async function startHost() {
  const host = createHost({
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    runner: { pollMs: 20 },
    agents: [agent('writer', (input) => `wrote: ${String(input)}`)],
    plugins: [sqlite({ path: dbPath() }), webhook({ port: 0, api: { token: TOKEN } }), pingCommand],
  });
  hosts.push(host);
  await host.start();
  const url = host.resolve(HttpServerToken).address!.url;
  const chat = (conversation: string, init: { body?: string; query?: string } = {}) =>
    send(`${url}/api/v1/chat/${conversation}/messages${init.query ?? ''}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(init.body !== undefined && { body: init.body }),
    });
  const tasks = () => host.resolve(TaskStoreToken).list({ limit: 1000 });
  return { host, chat, tasks };
}

describe('chat routes of the API', () => {
  it("takes a message as the api channel's and delivers the reply to a waiting poll", async () => {
    const { chat, tasks } = await startHost();
    const waiting = chat('terminal-alice', { query: '?timeout=20s' });
    const posted = await chat('terminal-alice', { body: JSON.stringify({ text: 'hello' }) });
    expect(posted.status).toBe(202);
    expect(posted.json()).toMatchObject({ outcome: 'accepted', taskId: expect.any(String) });
    const delivered = (await waiting).json<Delivered>();
    expect(delivered.messages.map((m) => m.text)).toEqual(['wrote: hello']);
    const [task] = await tasks();
    expect(task).toMatchObject({ replyTo: { channel: 'api', id: 'terminal-alice' } });
    // Nothing newer after the cursor: an immediate poll comes back empty.
    const after = await chat('terminal-alice', { query: `?after=${delivered.cursor}` });
    expect(after.json<Delivered>().messages).toEqual([]);
  });

  it("answers the host's commands, and a repeated message id runs once", async () => {
    const { chat, tasks } = await startHost();
    const ping = await chat('c1', { body: JSON.stringify({ text: '/ping' }) });
    expect(ping.json()).toMatchObject({ outcome: 'handled' });
    const first = await chat('c1', { body: JSON.stringify({ text: 'once', id: 'm-1' }) });
    const again = await chat('c1', { body: JSON.stringify({ text: 'once', id: 'm-1' }) });
    expect(first.json()).toMatchObject({ outcome: 'accepted' });
    expect(again.json()).toMatchObject({ outcome: 'duplicate' });
    // The command's answer is in the outbox too (a record of type `answer`); one message task.
    expect((await tasks()).filter((t) => t.type === 'message')).toHaveLength(1);
    let texts: string[] = [];
    for (let i = 0; i < 50 && texts.length < 2; i++) {
      texts = (await chat('c1', { query: '?timeout=1s' }))
        .json<Delivered>()
        .messages.map((m) => m.text);
    }
    expect(texts).toEqual(['pong', 'wrote: once']);
  });

  it('keeps two conversations apart that number their messages alike', async () => {
    const { chat, tasks } = await startHost();
    const first = await chat('terminal-alice', { body: JSON.stringify({ text: 'a', id: 'm-1' }) });
    const second = await chat('terminal-bob', { body: JSON.stringify({ text: 'b', id: 'm-1' }) });
    expect(first.json()).toMatchObject({ outcome: 'accepted' });
    expect(second.json()).toMatchObject({ outcome: 'accepted' });
    const inputs = (await tasks()).map((t) => t.input).sort();
    expect(inputs).toEqual(['a', 'b']);
  });

  it('keeps delivered replies across a restart (StateStore)', async () => {
    const first = await startHost();
    const waiting = first.chat('keep', { query: '?timeout=20s' });
    await first.chat('keep', { body: JSON.stringify({ text: 'remember' }) });
    expect((await waiting).json<Delivered>().messages).toHaveLength(1);
    await first.host.stop('restart');
    const second = await startHost();
    const kept = (await second.chat('keep')).json<Delivered>();
    expect(kept.messages.map((m) => m.text)).toEqual(['wrote: remember']);
  });

  it.each([
    ['malformed JSON', 'c', '{"text": '],
    ['no text', 'c', '{}'],
    ['a number text', 'c', '{"text": 5}'],
    ['a blank text', 'c', '{"text": "   "}'],
    ['an escape sequence', 'c', JSON.stringify({ text: 'hi \u001b[2J' })],
    ['a NUL', 'c', JSON.stringify({ text: 'a\u0000b' })],
    ['a huge text', 'c', JSON.stringify({ text: 'x'.repeat(20_000) })],
    ['an extra key', 'c', JSON.stringify({ text: 'x', admin: true })],
    ['a bad id', 'c', JSON.stringify({ text: 'x', id: 'a b/c' })],
    ['a bad conversation', 'a%20b', JSON.stringify({ text: 'x' })],
    ['a long conversation', 'c'.repeat(101), JSON.stringify({ text: 'x' })],
    ['deep nesting', 'c', `{"text":"x","n":${'['.repeat(3000)}${']'.repeat(3000)}}`],
  ])('refuses %s (400), storing nothing', async (_, conversation, body) => {
    const { chat, tasks } = await startHost();
    const answer = await chat(conversation, { body });
    expect(answer.status).toBe(400);
    expect(answer.json<{ error: { code: string } }>().error.code).toMatch(
      /bad_request|invalid_address/,
    );
    expect(await tasks()).toHaveLength(0);
  });
});
