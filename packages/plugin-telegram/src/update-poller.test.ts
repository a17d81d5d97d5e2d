import { memoryLogger } from '@agentd/core/testing';
import type { Api } from 'grammy';
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

describe('UpdatePoller with lanes', () => {
  const textOf = (u: Update) => `${u.message?.chat.id}:${u.message?.text}`;
  /** A poller whose lanes are the chats, stopped after the test. */
  const lanePoller = (api: Api, handle: (u: Update) => Promise<void>) => {
    const poller = new UpdatePoller({
      api,
      handle,
      laneOf: (u) => String(u.message?.chat.id),
      isStopping: () => false,
      logger: memoryLogger().logger,
      timeoutSeconds: 30,
      now: Date.now,
    });
    cleanups.push(() => poller.stop());
    return poller;
  };

  it('takes the chats of a polled batch side by side, each chat in order', async () => {
    const { api, client } = await setup();
    const log: string[] = [];
    let open = 0;
    let mostOpen = 0;
    const poller = lanePoller(client, async (u) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      log.push(`start ${textOf(u)}`);
      await new Promise((r) => setTimeout(r, 20));
      log.push(`end ${textOf(u)}`);
      open--;
    });
    // Queued before the first poll: one batch.
    for (const text of ['a', 'b', 'c']) for (const id of [1, 2, 3]) api.sendText({ id }, text);
    void poller.run();
    await api.waitFor(() => api.confirmedBelow > 9, 5_000, 'all nine confirmed');
    // Three chats at once, never two updates of one chat at once, each chat in its order.
    expect(mostOpen).toBe(3);
    for (const id of [1, 2, 3]) {
      const mine = log.filter((line) => line.includes(` ${id}:`));
      expect(mine).toEqual([
        `start ${id}:a`,
        `end ${id}:a`,
        `start ${id}:b`,
        `end ${id}:b`,
        `start ${id}:c`,
        `end ${id}:c`,
      ]);
    }
  });

  it('after a failure confirms only the updates handled from the batch start on, and gets the rest again', async () => {
    const { api, client } = await setup();
    const handled: string[] = [];
    let failOnce = true;
    let confirmedWhenRetried = Number.NaN;
    const poller = lanePoller(client, async (u) => {
      // Chat 2's first update fails once (the store is down, say); chat 1 goes on meanwhile.
      if (textOf(u) === '2:x') {
        if (failOnce) {
          failOnce = false;
          throw new Error('store unavailable');
        }
        confirmedWhenRetried = api.confirmedBelow;
      }
      if (u.message?.chat.id === 1) await new Promise((r) => setTimeout(r, 5));
      handled.push(textOf(u));
    });
    const first = api.sendText({ id: 1 }, 'x'); // handled
    const failing = api.sendText({ id: 2 }, 'x'); // fails: the offset stops here
    api.sendText({ id: 1 }, 'y'); // handled in its lane before the failure is seen, or not
    void poller.run();
    await api.waitFor(() => handled.includes('2:x'), 10_000, 'the failed update taken again');
    // The poll after the failure confirmed the first update only: the failed one came back
    // unconfirmed.
    expect(
      api.calls.filter((c) => c.method === 'getUpdates').map((c) => c.params.offset),
    ).toContain(first + 1);
    expect(confirmedWhenRetried).toBe(first + 1);
    expect(confirmedWhenRetried).toBeLessThanOrEqual(failing);
    await api.waitFor(() => api.confirmedBelow > failing + 1, 10_000, 'everything confirmed');
    // Chat 1's updates stayed in order; a repeat of one already taken is what the store recognises.
    const chatOne = handled.filter((t) => t.startsWith('1:'));
    expect(chatOne.slice(0, 2)).toEqual(['1:x', '1:y']);
    expect(handled.filter((t) => t === '2:x')).toHaveLength(1);
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
