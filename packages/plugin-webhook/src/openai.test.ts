// The OpenAI-compatible endpoint, driven by the official `openai` npm client (and raw requests
// for what a client would never send), on a real server and SQLite store.
import {
  agent,
  createHost,
  type HostConfig,
  HttpServerToken,
  type JsonValue,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { WebhookOptions } from './options.js';
import { webhook } from './plugin.js';
import { pingCommand, send } from './test-support.js';

const TOKEN = 'openai-api-token-0123456789';
const { hosts, dbPath } = useTestHosts('agentd-openai-');

async function startHost(options: { config?: HostConfig; webhook?: WebhookOptions } = {}) {
  const inputs: JsonValue[] = [];
  const host = createHost({
    name: 'openai-test-host',
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    runner: { pollMs: 20 },
    agents: [
      agent('writer', (input) => {
        inputs.push(input);
        return `wrote: ${String(input)}`;
      }),
      agent('broken', () => {
        throw new Error('provider down');
      }),
    ],
    ...options.config,
    plugins: [
      sqlite({ path: dbPath() }),
      webhook({ port: 0, api: { token: TOKEN }, openai: true, ...options.webhook }),
      pingCommand,
    ],
  });
  hosts.push(host);
  await host.start();
  const url = host.resolve(HttpServerToken).address!.url;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  const tasks = () => host.resolve(TaskStoreToken).list({ limit: 1000 });
  return { host, url, client, inputs, tasks };
}

const raw = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  send(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });

describe('OpenAI-compatible endpoint', () => {
  it("lists the host's agents as models", async () => {
    const { client } = await startHost();
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id).sort()).toEqual(['broken', 'writer']);
    expect(models[0]).toMatchObject({ object: 'model', owned_by: 'openai-test-host' });
  });

  it('answers a completion through a durable task run by the named agent', async () => {
    const { client, tasks } = await startHost();
    const completion = await client.chat.completions.create({
      model: 'writer',
      messages: [{ role: 'user', content: 'a haiku' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message).toMatchObject({
      role: 'assistant',
      content: 'wrote: a haiku',
    });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    const stored = await tasks();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ agent: 'writer', status: 'completed', replyTo: null });
    expect(completion.id).toBe(`chatcmpl-${stored[0]!.id}`);
  });

  it('streams the answer as server-sent chunks ending in [DONE]', async () => {
    const { client } = await startHost();
    const stream = await client.chat.completions.create({
      model: 'writer',
      messages: [{ role: 'user', content: 'stream me' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe('wrote: stream me');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('ends the raw event stream with data: [DONE]', async () => {
    const { url } = await startHost();
    const answer = await raw(
      url,
      JSON.stringify({ model: 'writer', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toContain('text/event-stream');
    expect(answer.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('keeps a conversation per user: the same session, only the new message as input', async () => {
    const { client, tasks, inputs } = await startHost();
    for (const content of ['first', 'second']) {
      await client.chat.completions.create({
        model: 'writer',
        user: 'alice',
        messages: [
          { role: 'user', content: 'earlier' },
          { role: 'assistant', content: 'wrote: earlier' },
          { role: 'user', content },
        ],
      });
    }
    expect(inputs).toEqual(['first', 'second']);
    const stored = await tasks();
    const sessions = new Set(stored.map((t) => t.sessionKey));
    expect(sessions.size).toBe(1);
    expect([...sessions][0]).toMatch(/^session:/);
  });

  it('gives a request without a user its history as a transcript', async () => {
    const { client, inputs } = await startHost();
    await client.chat.completions.create({
      model: 'writer',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'bye' },
      ],
    });
    expect(inputs).toEqual(['system: be brief\n\nuser: hi\n\nassistant: hello\n\nuser: bye']);
  });

  it("answers the host's commands at once", async () => {
    const { client, tasks } = await startHost();
    const completion = await client.chat.completions.create({
      model: 'writer',
      user: 'bob',
      messages: [{ role: 'user', content: '/ping' }],
    });
    expect(completion.choices[0]!.message.content).toBe('pong');
    expect(await tasks()).toHaveLength(0);
  });

  it('reports an unknown model, a failed task and a bad key as OpenAI errors', async () => {
    const { client, url } = await startHost();
    const unknown = await client.chat.completions
      .create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');

    const failed = await client.chat.completions
      .create({ model: 'broken', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((failed as Error).message).not.toContain('provider down');

    const streamed = await (async () => {
      const stream = await client.chat.completions.create({
        model: 'broken',
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      for await (const _ of stream) {
        // the error arrives as an event
      }
    })().catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect((streamed as Error).message).toContain('could not answer');

    const stranger = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("applies the model's failover chain: a failing agent's work is answered by the next", async () => {
    const { client, tasks } = await startHost({
      config: { failover: { chains: ['broken -> writer'] } },
    });
    const completion = await client.chat.completions.create({
      model: 'broken',
      messages: [{ role: 'user', content: 'anyone there?' }],
    });
    expect(completion.choices[0]!.message.content).toBe('wrote: anyone there?');
    expect((await tasks())[0]).toMatchObject({ agent: 'broken', status: 'completed' });
  });

  it('applies the budgets: over the rate limit, a 429', async () => {
    const { client } = await startHost({ config: { budgets: { rateLimits: { perMinute: 1 } } } });
    const ask = () =>
      client.chat.completions.create({
        model: 'writer',
        user: 'carol',
        messages: [{ role: 'user', content: 'x' }],
      });
    await ask();
    const refused = await ask().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it.each([
    ['malformed JSON', '{"model": "writer", "messages": ['],
    ['an array', '[]'],
    ['no messages', JSON.stringify({ model: 'writer' })],
    ['empty messages', JSON.stringify({ model: 'writer', messages: [] })],
    ['a number model', JSON.stringify({ model: 5, messages: [{ role: 'user', content: 'x' }] })],
    [
      'an unknown role',
      JSON.stringify({ model: 'writer', messages: [{ role: 'god', content: 'x' }] }),
    ],
    [
      'no user message',
      JSON.stringify({ model: 'writer', messages: [{ role: 'system', content: 'x' }] }),
    ],
    [
      'a blank question',
      JSON.stringify({ model: 'writer', messages: [{ role: 'user', content: '  ' }] }),
    ],
    [
      'content as a number',
      JSON.stringify({ model: 'writer', messages: [{ role: 'user', content: 7 }] }),
    ],
    [
      'an image part',
      JSON.stringify({
        model: 'writer',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
      }),
    ],
    [
      'an escape sequence',
      JSON.stringify({
        model: 'writer',
        messages: [{ role: 'user', content: 'hi\u001b]0;pwned\u0007' }],
      }),
    ],
    [
      'a NUL in user',
      JSON.stringify({
        model: 'writer',
        user: 'a\u0000b',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ],
    [
      'stream as a string',
      JSON.stringify({
        model: 'writer',
        stream: 'yes',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ],
    [
      'n = 3',
      JSON.stringify({ model: 'writer', n: 3, messages: [{ role: 'user', content: 'x' }] }),
    ],
    [
      'deep nesting',
      `{"model":"writer","messages":[{"role":"user","content":"x"}],"x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    ],
    [
      'too many messages',
      JSON.stringify({
        model: 'writer',
        messages: Array.from({ length: 1001 }, () => ({ role: 'user', content: 'x' })),
      }),
    ],
  ])('refuses %s with an OpenAI-style 400, storing nothing', async (_, body) => {
    const { url, tasks } = await startHost();
    const answer = await raw(url, body);
    expect(answer.status).toBe(400);
    const error = answer.json<{ error: Record<string, unknown> }>().error;
    expect(error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
    expect(error).toHaveProperty('code');
    expect(await tasks()).toHaveLength(0);
  });

  it('refuses a body over its limit (413) and a form body (415), storing nothing', async () => {
    const { url, tasks } = await startHost({
      webhook: { openai: { timeoutMs: 60_000, bodyLimitBytes: 4096 } },
    });
    const huge = JSON.stringify({
      model: 'writer',
      messages: [{ role: 'user', content: 'x'.repeat(10_000) }],
    });
    expect((await raw(url, huge)).status).toBe(413);
    const form = await raw(url, 'model=writer', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(await tasks()).toHaveLength(0);
  });

  it('is off unless enabled, and needs the API token to be enabled', async () => {
    const { url } = await startHost({ webhook: { openai: false } });
    const answer = await send(`${url}/v1/models`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(404);
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [sqlite({ path: dbPath() }), webhook({ port: 0, openai: true })],
    });
    await expect(host.start()).rejects.toMatchObject({
      issues: expect.arrayContaining([expect.stringMatching(/openai.*api\.token/)]),
    });
  });
});
