import { memoryLogger } from '@agentd/core/testing';
import type { Update } from 'grammy/types';
import { afterEach, describe, expect, it } from 'vitest';
import { pollingApi } from './apis.js';
import { FakeBotApi } from './testing/fake-bot-api.js';
import { UpdatePoller } from './update-poller.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A lease as the roles service hands it out, ended by hand. */
function testLease(validForMs: number) {
  const controller = new AbortController();
  const lease = {
    signal: controller.signal,
    validUntil: Date.now() + validForMs,
    isValid: () => !controller.signal.aborted && Date.now() < lease.validUntil,
  };
  return { lease, lose: () => controller.abort() };
}

async function setup() {
  const api = await FakeBotApi.start({ token: '123:POLLER-test' });
  cleanups.push(() => api.close());
  const handled: Update[] = [];
  return { api, handled, client: pollingApi(api.token, api.url, 30) };
}

describe('UpdatePoller with a role lease', () => {
  it('never asks for a long poll that outlasts the lease', async () => {
    const { api, handled, client } = await setup();
    const { lease } = testLease(4_500);
    const poller = new UpdatePoller({
      api: client,
      handle: async (u) => void handled.push(u),
      isStopping: () => false,
      logger: memoryLogger().logger,
      timeoutSeconds: 30,
      now: Date.now,
      lease,
    });
    cleanups.push(() => poller.stop());
    void poller.run();
    await api.waitFor(() => api.calls.some((c) => c.method === 'getUpdates'));
    const [first] = api.calls.filter((c) => c.method === 'getUpdates');
    // 4.5 s left: at most 3 s, so Telegram ends the request before the lease does.
    expect(first!.params.timeout).toBe(3);
    api.sendText({ id: 1 }, 'hi');
    await api.waitFor(() => handled.length === 1);
  });

  it('ends the loop when the lease is lost, closing the open poll and confirming nothing', async () => {
    const { api, handled, client } = await setup();
    const { lease, lose } = testLease(60_000);
    const poller = new UpdatePoller({
      api: client,
      handle: async (u) => void handled.push(u),
      isStopping: () => false,
      logger: memoryLogger().logger,
      timeoutSeconds: 30,
      now: Date.now,
      lease,
    });
    const done = poller.run();
    api.sendText({ id: 1 }, 'one');
    await api.waitFor(() => handled.length === 1);
    // The next long poll (which confirms update one) is open; then the role moves away.
    await api.waitFor(() => api.calls.filter((c) => c.method === 'getUpdates').length === 2);
    const callsBefore = api.calls.length;
    lose();
    await done;
    await new Promise((r) => setTimeout(r, 100));
    // No final confirmation: another host polls now.
    expect(api.calls.length).toBe(callsBefore);
    expect(api.conflicts).toBe(0);
  });
});

describe('FakeBotApi', () => {
  it('ends an open long poll with 409 Conflict when a second one comes, and counts it', async () => {
    const { api } = await setup();
    const a = pollingApi(api.token, api.url, 30);
    const b = pollingApi(api.token, api.url, 30);
    const first = a.getUpdates({ timeout: 20 }).then(
      () => 'ok',
      (e: { error_code?: number }) => e.error_code,
    );
    await api.waitFor(() => api.calls.length === 1);
    const second = b.getUpdates({ timeout: 0 });
    expect(await first).toBe(409);
    expect(await second).toEqual([]);
    expect(api.maxOpenPolls).toBe(2);
    expect(api.conflicts).toBe(1);
  });
});
