// Webhook mode: a real host with the webhook plugin's HTTP server on 127.0.0.1, Telegram's side
// played by the fake Bot API (which records setWebhook) and by requests posted here.
import {
  agent,
  createHost,
  HealthRegistryToken,
  type Host,
  HttpServerToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { telegram } from './plugin.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath } = useTestHosts('agentd-telegram-webhook-');

const SECRET = 'hook-secret_0123';
const ALICE = 42;

/** A host with the webhook plugin and the Telegram plugin in webhook mode, not started yet. */
function webhookHost(
  api: FakeBotApi,
  run: (input: unknown) => unknown = (input) => `echo: ${String(input)}`,
): Host {
  const host = createHost({
    logger: memoryLogger().logger,
    agents: [agent('echo', async (input) => String(await run(input)))],
    plugins: [
      sqlite({ path: dbPath() }),
      webhook({ port: 0 }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [ALICE],
        webhook: { url: 'https://bot.example.com/hooks/telegram', secretToken: SECRET },
      }),
    ],
  });
  hosts.push(host);
  return host;
}

async function fakeApi(): Promise<FakeBotApi> {
  const api = await FakeBotApi.start();
  apis.push(api);
  return api;
}

async function startWebhookBot(
  run?: (input: unknown) => unknown,
): Promise<{ host: Host; api: FakeBotApi; post: Post }> {
  const api = await fakeApi();
  const host = webhookHost(api, run);
  await host.start();
  const base = host.resolve(HttpServerToken).address?.url;
  const post: Post = (body, secret: string | null = SECRET) =>
    fetch(`${base}/hooks/telegram`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { host, api, post };
}

/** Posts an update as Telegram would; `secret: null` leaves the secret header out. */
type Post = (body: unknown, secret?: string | null) => Promise<Response>;

const update = (id: number, text: string, messageId = id) => ({
  update_id: id,
  message: {
    message_id: messageId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: ALICE, type: 'private' },
    from: { id: ALICE, is_bot: false, first_name: 'Alice' },
    text,
  },
});

describe('telegram plugin in webhook mode', () => {
  it('sets the webhook with its secret, takes an update as a task, and answers in the chat', async () => {
    const { host, api, post } = await startWebhookBot();
    expect(api.calls.find((c) => c.method === 'setWebhook')?.params).toMatchObject({
      url: 'https://bot.example.com/hooks/telegram',
      secret_token: SECRET,
      allowed_updates: ['message'],
    });
    expect(api.calls.some((c) => c.method === 'getUpdates')).toBe(false);

    const answer = await post(update(500, 'hello by webhook'));
    expect(answer.status).toBe(200);
    const [reply] = await api.waitForMessages(1);
    expect(reply?.text).toBe('echo: hello by webhook');
    const report = await host.resolve(HealthRegistryToken).run();
    expect(report.checks.telegram).toMatchObject({ status: 'pass' });
  });

  it('stores an update Telegram delivers twice once', async () => {
    const { host, api, post } = await startWebhookBot();
    expect((await post(update(501, 'once'))).status).toBe(200);
    expect((await post(update(501, 'once'))).status).toBe(200);
    await api.waitForMessages(1);
    const tasks = await host.resolve(TaskStoreToken).list({ limit: 10 });
    expect(tasks.map((t) => t.input)).toEqual(['once']);
  });

  it('refuses a request without the secret token, or with a wrong one, and stores nothing', async () => {
    const { host, post } = await startWebhookBot();
    const missing = await post(update(502, 'no secret'), null);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: { code: 'unauthorized', message: 'missing or wrong X-Telegram-Bot-Api-Secret-Token' },
    });
    expect((await post(update(503, 'wrong secret'), 'guess')).status).toBe(401);
    expect(await host.resolve(TaskStoreToken).list({ limit: 10 })).toEqual([]);
  });

  it('answers 400 to a body that is not a Telegram update', async () => {
    const { post } = await startWebhookBot();
    expect((await post('{"update_id": ')).status).toBe(400);
    expect((await post({ hello: 'world' })).status).toBe(400);
  });

  it('answers 400 to a body nested too deeply or not UTF-8, saying so, and stores nothing', async () => {
    const { host, post } = await startWebhookBot();
    const deep = await post(`{"update_id":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(deep.status).toBe(400);
    expect(JSON.stringify(await deep.json())).toMatch(/nested|depth/i);
    const base = host.resolve(HttpServerToken).address?.url;
    const latin1 = await fetch(`${base}/hooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: Buffer.from('{"update_id":2,"message":"caf\xe9"}', 'latin1'),
    });
    expect(latin1.status).toBe(400);
    expect(await host.resolve(TaskStoreToken).list({ limit: 10 })).toEqual([]);
  });

  it('without the webhook plugin, refuses to start and says which service is missing', async () => {
    const api = await fakeApi();
    const host = createHost({
      logger: memoryLogger().logger,
      plugins: [
        sqlite({ path: dbPath() }),
        telegram({
          token: api.token,
          apiRoot: api.url,
          allowedUsers: [ALICE],
          webhook: { url: 'https://bot.example.com/tg', secretToken: SECRET },
        }),
      ],
    });
    hosts.push(host);
    await expect(host.start()).rejects.toThrow(/service "agentd\.http", but no plugin provides it/);
  });

  it('refuses to start when Telegram rejects the webhook for good, saying why', async () => {
    const api = await fakeApi();
    api.failNext('setWebhook', {
      status: 400,
      description: 'Bad Request: bad webhook: Failed to resolve host',
    });
    await expect(webhookHost(api).start()).rejects.toThrow(
      /Telegram refused to set up channel "telegram": setWebhook: Bad Request: bad webhook/,
    );
  });

  it('answers 503 while the host stops, so Telegram delivers the update again later', async () => {
    let release: () => void = () => {};
    const { host, post } = await startWebhookBot(async (input) => {
      await new Promise<void>((r) => (release = r));
      return `done: ${String(input)}`;
    });
    const started = host.events.next('task.started');
    expect((await post(update(600, 'slow'))).status).toBe(200);
    await started;
    // The stop waits in its drain for the running task: intake is closed, the server still up.
    const stopping = host.stop('test');
    const during = await post(update(601, 'during the stop'));
    release();
    await stopping;
    expect(during.status).toBe(503);
  });
});
