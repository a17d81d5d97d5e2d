// The story the product is for: the monitor sees a full disk, and the owner's phone buzzes.
// A real host with the monitor and the Telegram plugin, against a fake Bot API server.
import { createHost, HealthRegistryToken } from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { monitor } from './plugin.js';
import { startRulesHost } from './rules/rules-test-support.js';

const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath, store } = useTestHosts('agentd-monitor-telegram-');

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 50) {
    if (waited > 30_000) throw new Error(`waited 30 s for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('monitor alerts in a Telegram chat', () => {
  it('sends a disk over its threshold to the owner, and answers /system there', async () => {
    const api = await FakeBotApi.start();
    apis.push(api);
    const owner = { id: 111222333 };
    const host = createHost({
      name: 'home-bot',
      logger: memoryLogger().logger,
      plugins: [
        sqlite({ path: dbPath() }),
        // Any disk is over 0 %: the alert comes with the first sample, at start.
        monitor({ thresholds: { cpu: 100, memory: 100, disk: 0 }, cpuSamples: 100 }),
        telegram({
          token: api.token,
          apiRoot: api.url,
          allowedUsers: [owner.id],
          alerts: { chats: [owner.id] },
          pollTimeoutSeconds: 1,
        }),
      ],
      commands: { operators: [`telegram:${owner.id}`] },
    });
    hosts.push(host);
    await host.start();
    const [alert] = await api.waitForMessages(1, { chatId: owner.id });
    // ⚠️ below 95 % full, 🚨 from 95 %.
    expect(alert?.text).toMatch(
      /^(⚠️|🚨) Disk \/\S* at \d+% \(threshold 0%\)\n.+ free of .+\n— monitor$/,
    );

    api.sendText(owner, '/system');
    const messages = await api.waitForMessages(2, { chatId: owner.id });
    expect(messages[1]?.text).toMatch(/^home-bot: CPU \d+(\.\d)?%\nMemory /);

    // The built-in /status shows the monitor's figures under System (through its token: core
    // does not know this package).
    api.sendText(owner, '/status');
    const withStatus = await api.waitForMessages(3, { chatId: owner.id });
    const status = withStatus[2]?.text as string;
    expect(status).toMatch(/^home-bot: ready, up \d+ min, \d+ plugins\nQueue: /);
    expect(status).toMatch(/\nSystem:\nCPU \d+(\.\d)?%\nMemory \d+(\.\d)?% used .*\nDisk \//);
  });

  it('channel-failing: Telegram polls failing for 5 minutes page the owner, and the recovery follows', async () => {
    const api = await FakeBotApi.start();
    apis.push(api);
    const owner = { id: 444555666 };
    // Three polls in a row fail (with Telegram's backoff, a few seconds of real time).
    api.failNext('getUpdates', { status: 502 }, { times: 3 });
    const h = await startRulesHost(
      hosts,
      store(),
      {},
      {
        plugins: [
          telegram({
            token: api.token,
            apiRoot: api.url,
            allowedUsers: [owner.id],
            alerts: { chats: [owner.id] },
            pollTimeoutSeconds: 1,
          }),
        ],
      },
    );
    const health = h.host.resolve(HealthRegistryToken);
    const telegramCheck = async () => (await health.run()).checks.telegram?.status;
    await until('the telegram check to warn', async () => (await telegramCheck()) === 'warn');
    await h.minutes(6);
    expect(h.fresh()).toEqual(['Channel telegram failing for 5m']);
    const [page] = await api.waitForMessages(1, { chatId: owner.id });
    expect(page?.text).toMatch(
      /^.+ Channel telegram failing for 5m\n\d failed poll\(s\) in a row: /,
    );

    await until('polling to recover', async () => (await telegramCheck()) === 'pass');
    await h.minutes(1);
    expect(h.fresh()).toEqual(['Channel telegram healthy again']);
  }, 60_000);
});
