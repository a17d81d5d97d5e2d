import { agent, createHost, type Host, TaskStoreToken } from '@agentd/core';
import { type LogLine, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { telegram } from './plugin.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

// The reply outbox retries a failed send at its computed time (about 5 s for the first retry),
// not on the next recovery sweep, and carries a command's immediate answer too: one Telegram
// 500 loses nothing. The sweep is pushed far out here, so only the retry timer can explain a
// resend within seconds.

const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath } = useTestHosts('agentd-telegram-answers-');

const ALICE = { id: 42, firstName: 'Alice' };
/** Far beyond the test: no sweep runs while it waits. */
const NO_SWEEP_MS = 10 * 60_000;

async function startBot(): Promise<{
  host: Host;
  api: FakeBotApi;
  logs: () => string;
  lines: () => LogLine[];
}> {
  const api = await FakeBotApi.start({ token: '123456:ANSWERS-test' });
  apis.push(api);
  const { logger, text, lines } = memoryLogger();
  const host = createHost({
    logger,
    agents: [agent('echo', async (input) => `echo: ${String(input)}`)],
    runner: { recoverEveryMs: NO_SWEEP_MS },
    plugins: [
      sqlite({ path: dbPath() }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [ALICE.id],
        pollTimeoutSeconds: 1,
      }),
    ],
  });
  hosts.push(host);
  await host.start();
  return { host, api, logs: text, lines };
}

/** When the failed send and the one that got through reached the fake server. */
function sendTimes(api: FakeBotApi): { failedAt: number; resentAt: number } {
  const sends = api.calls.filter((c) => c.method === 'sendMessage');
  const failed = sends.findIndex((c) => c.failed);
  return {
    failedAt: sends[failed]?.at ?? Number.NaN,
    resentAt: sends[failed + 1]?.at ?? Number.NaN,
  };
}

describe('telegram answers and replies through the reply outbox', () => {
  it('retries a task reply that got a 500 at its computed time, not at the next sweep', async () => {
    const { api, lines } = await startBot();
    api.failNext('sendMessage', { status: 500 });
    api.sendText(ALICE, 'hello');
    const [reply] = await api.waitForMessages(1, { timeoutMs: 20_000 });
    expect(reply?.text).toBe('echo: hello');
    const { failedAt, resentAt } = sendTimes(api);
    // The retry time the outbox computed (about 5 s on, with decorrelated jitter, which can
    // also be well under a second) and logged: the resend comes then, not before and not at
    // a sweep minutes later.
    const retryAt = Number(
      lines().find((l) => l.msg === 'could not deliver the task result; will retry')?.retryAt,
    );
    expect(retryAt - failedAt).toBeGreaterThan(0);
    expect(retryAt - failedAt).toBeLessThan(12_000);
    expect(resentAt).toBeGreaterThanOrEqual(retryAt - 5);
    expect(resentAt - retryAt).toBeLessThan(3_000);
  }, 30_000);

  it('delivers a command answer (/sessions) after one Telegram 500, once', async () => {
    const { host, api } = await startBot();
    api.failNext('sendMessage', { status: 500 });
    const update = api.sendText(ALICE, '/sessions');
    const [answer] = await api.waitForMessages(1, { timeoutMs: 20_000 });
    expect(answer?.text).toBe('No sessions yet; send a message to start one.');
    expect(answer?.reply_parameters).toMatchObject({ message_id: 1 });
    const store = host.resolve(TaskStoreToken);
    await vi.waitFor(async () => expect(await store.countOwedReplies()).toBe(0));
    // Recorded as an answer task, sent once even when the same message comes again.
    const answers = (await store.list()).filter((t) => t.type === 'answer');
    expect(answers).toHaveLength(1);
    const replay = api.sendText(ALICE, '/sessions', { messageId: 1 });
    expect(replay).toBeGreaterThan(update);
    await api.waitFor(() => api.confirmedBelow > replay);
    await new Promise((r) => setTimeout(r, 300));
    expect(api.messages(ALICE.id)).toHaveLength(1);
  }, 30_000);
});
