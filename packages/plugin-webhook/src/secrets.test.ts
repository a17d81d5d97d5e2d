import { createHost, HttpServerToken, llmAgent, TaskStoreToken } from '@agentd/core';
import { type FakeOpenAI, memoryLogger, startFakeOpenAI, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhook } from './plugin.js';
import { send, until } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-webhook-secrets-');

// Filled in from ${ENV} by the host: both are secrets it must never print.
const API_KEY = 'sk-proj-WEBHOOKTESTKEY0123456789ab';
const API_TOKEN = 'api-token-from-env-0123456789';
const FOREIGN = ['gsk_FOREIGNGROQKEY0123456789', 'hunter2-db-pass'];

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY });
});
afterEach(() => fake.close());

describe('the HTTP API never answers with a secret', () => {
  it('masks provider errors in /api/v1/tasks and config secrets anywhere in an answer', async () => {
    fake.respond(() => ({
      status: 500,
      body: {
        error: {
          message: `boom for ${API_KEY}; tried ${FOREIGN[0]} via postgres://app:${FOREIGN[1]}@db/x`,
        },
      },
    }));
    const log = memoryLogger();
    const host = createHost(
      {
        logger: log.logger,
        agents: [
          llmAgent({
            name: 'gpt',
            baseUrl: '${LLM_BASE_URL}',
            apiKey: '${OPENAI_API_KEY}',
            model: 'm',
          }),
        ],
        plugins: [
          sqlite({ path: dbPath() }),
          webhook({ port: 0, api: { token: '${AGENTD_API_TOKEN}' } }),
        ],
      },
      {
        env: {
          OPENAI_API_KEY: API_KEY,
          AGENTD_API_TOKEN: API_TOKEN,
          LLM_BASE_URL: fake.baseUrl,
        },
      },
    );
    hosts.push(host);
    await host.start();
    const url = host.resolve(HttpServerToken).address!.url;
    const api = (path: string, body?: unknown) =>
      send(`${url}/api/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });

    // A caller pastes the host's own secrets into a task: the store keeps the input as given,
    // every answer masks them.
    const created = await api('/tasks', {
      input: `use ${API_KEY} and ${API_TOKEN}`,
      agent: 'gpt',
      maxAttempts: 1,
    });
    expect(created.status).toBe(201);
    const { id } = created.json<{ task: { id: string } }>().task;
    const tasks = host.resolve(TaskStoreToken);
    await until(async () => (await tasks.get(id))?.status === 'failed', 10_000);
    expect((await tasks.get(id))?.input).toBe(`use ${API_KEY} and ${API_TOKEN}`);

    const list = await api('/tasks');
    const one = await api(`/tasks/${id}`);
    const health = await send(`${url}/health`);
    for (const answer of [created, list, one, health]) {
      for (const secret of [API_KEY, API_TOKEN, ...FOREIGN]) {
        expect(answer.text).not.toContain(secret);
      }
    }
    expect(one.json<{ task: unknown }>().task).toMatchObject({
      input: 'use [redacted] and [redacted]',
      status: 'failed',
      error: { message: expect.stringContaining('HTTP 500: boom for [redacted]') },
    });
    expect(JSON.parse(list.text)).toBeTruthy();
    for (const secret of [API_KEY, API_TOKEN, ...FOREIGN]) {
      expect(log.text()).not.toContain(secret);
    }
  });
});
