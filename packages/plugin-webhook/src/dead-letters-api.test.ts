import {
  agent,
  createHost,
  HealthRegistryToken,
  HttpServerToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { describe, expect, it } from 'vitest';
import { webhook } from './plugin.js';
import { send } from './test-support.js';

const API_TOKEN = 'dead-letter-api-token-0123456789';
const { hosts, dbPath } = useTestHosts('agentd-dead-letters-api-');

function api(url: string, path: string, method = 'GET') {
  return send(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
}

describe('the dead letters API', () => {
  it('lists open dead letters, shows one, discards it, and /health warns only while one is open', async () => {
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => `echo: ${String(input)}`)],
      plugins: [sqlite({ path: dbPath() }), webhook({ port: 0, api: { token: API_TOKEN } })],
    });
    hosts.push(host);
    await host.start();
    const url = host.resolve(HttpServerToken).address!.url;
    const store = host.resolve(TaskStoreToken);
    const { letter } = await store.addDeadLetter!(
      {
        channel: 'telegram',
        key: 'telegram:update:7',
        code: 'E_INVALID_INPUT',
        reason: 'the message has no chat with a numeric id',
        raw: '{"update_id":7,"message":{}}',
      },
      Date.now(),
    );

    const unauthenticated = await send(`${url}/api/v1/dead-letters`);
    expect(unauthenticated.status).toBe(401);

    const listed = await api(url, '/dead-letters');
    expect(listed.status).toBe(200);
    expect(listed.json()).toMatchObject({
      deadLetters: [{ id: letter.id, status: 'open', code: 'E_INVALID_INPUT', truncated: false }],
      limit: 50,
    });
    expect((await api(url, `/dead-letters/${letter.id}`)).json()).toMatchObject({
      deadLetter: { id: letter.id, raw: '{"update_id":7,"message":{}}' },
    });
    const health = await host.resolve(HealthRegistryToken).run();
    expect(health.checks['dead-letters']).toMatchObject({ status: 'warn', observedValue: 1 });

    // Its channel does not run in this host: nothing to hand it back to.
    const retry = await api(url, `/dead-letters/${letter.id}/retry`, 'POST');
    expect(retry.status).toBe(409);
    expect(retry.json()).toEqual({
      error: {
        code: 'conflict',
        message:
          'channel "telegram" does not run in this host, or cannot take its dead letters again',
      },
    });
    expect((await api(url, '/dead-letters/dl_404/retry', 'POST')).status).toBe(404);

    const discarded = await api(url, `/dead-letters/${letter.id}/discard`, 'POST');
    expect(discarded.json()).toMatchObject({ deadLetter: { id: letter.id, status: 'discarded' } });
    const again = await api(url, `/dead-letters/${letter.id}/discard`, 'POST');
    expect(again.status).toBe(409);
    expect(again.json()).toEqual({
      error: { code: 'conflict', message: `dead letter ${letter.id} is already discarded` },
    });
    expect((await api(url, '/dead-letters/dl_404/discard', 'POST')).status).toBe(404);
    expect((await api(url, '/dead-letters')).json()).toMatchObject({ deadLetters: [] });
    expect((await api(url, '/dead-letters?status=discarded,open')).json()).toMatchObject({
      deadLetters: [{ id: letter.id, status: 'discarded' }],
    });
    expect((await api(url, '/dead-letters?status=lost')).status).toBe(400);
    expect((await host.resolve(HealthRegistryToken).run()).checks['dead-letters']?.status).toBe(
      'pass',
    );
  });
});
