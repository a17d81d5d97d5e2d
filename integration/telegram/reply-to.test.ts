// A task created through the HTTP API with `replyTo` a Telegram chat: its result reaches the chat
// through the fake Bot API server; an address Telegram cannot have is refused before anything is
// stored.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, createHost, type Host, HttpServerToken, TaskStoreToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';

const TOKEN = 'reply-to-api-token-0123456789';
const CHAT = 4242;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<{ host: Host; api: FakeBotApi; url: string }> {
  const api = await FakeBotApi.start({ token: '4242:reply-to-token' });
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'agentd-reply-to-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const host = createHost({
    logger: memoryLogger().logger,
    runner: { pollMs: 20 },
    timeouts: { drainMs: 5000, stopMs: 5000 },
    agents: [agent('reporter', (input) => `Report: ${String(input)}`)],
    plugins: [
      sqlite({ path: join(dir, 'agentd.db') }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [CHAT],
        pollTimeoutSeconds: 1,
      }),
      webhook({ port: 0, api: { token: TOKEN } }),
    ],
  });
  cleanups.push(() => host.stop('test end'));
  await host.start();
  return { host, api, url: host.resolve(HttpServerToken).address!.url };
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('replyTo a Telegram chat', () => {
  it("delivers an API task's result to the chat", async () => {
    const { api, url } = await start();
    const answer = await post(url, {
      input: 'disk usage',
      agent: 'reporter',
      replyTo: { channel: 'telegram', id: String(CHAT) },
    });
    expect(answer.status).toBe(201);
    const [message] = await api.waitForMessages(1, { chatId: CHAT });
    expect(message).toMatchObject({ text: 'Report: disk usage' });

    // The wait route sees it finished, woken by the event bus.
    const { task } = (await answer.json()) as { task: { id: string } };
    const waited = await fetch(`${url}/api/v1/tasks/${task.id}/wait?timeout=5s`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await waited.json()).toMatchObject({ done: true, task: { status: 'completed' } });
  });

  it('refuses a chat id Telegram cannot have, storing nothing', async () => {
    const { host, url } = await start();
    for (const id of ['not a chat', '12ab', '@x', '']) {
      const answer = await post(url, { input: 'x', replyTo: { channel: 'telegram', id } });
      expect(answer.status, id).toBe(400);
      const body = (await answer.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/invalid_address|bad_request/);
    }
    const topic = await post(url, {
      input: 'x',
      replyTo: { channel: 'telegram', id: String(CHAT), thread: 'general' },
    });
    expect(topic.status).toBe(400);
    expect(await host.resolve(TaskStoreToken).list({ limit: 10 })).toHaveLength(0);
  });
});
