import { createHost } from '@agentd/core';
import { describeChannelContract, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { telegram } from './plugin.js';
import { TELEGRAM_TEXT_LIMIT } from './split-text.js';
import { FakeBotApi } from './testing/fake-bot-api.js';

const { hosts, dbPath } = useTestHosts('agentd-telegram-contract-');
const USER = { id: 42, firstName: 'Contract' };

// The Telegram channel against the fake Bot API server on loopback: real HTTP, real long polling.
describeChannelContract('telegram', async (parts) => {
  const api = await FakeBotApi.start({ token: '123456:CONTRACT-test' });
  const host = createHost({
    logger: memoryLogger().logger,
    agents: parts.agents,
    plugins: [
      sqlite({ path: dbPath() }),
      telegram({
        token: api.token,
        apiRoot: api.url,
        allowedUsers: [USER.id],
        pollTimeoutSeconds: 1,
      }),
      ...parts.plugins,
    ],
  });
  hosts.push(host);
  try {
    await host.start();
  } catch (error) {
    await api.close();
    throw error;
  }
  return {
    host,
    channel: 'telegram',
    to: { channel: 'telegram', id: String(USER.id) },
    inject: async (text) => ({ id: api.sendText(USER, text) }),
    redeliver: async ({ id }) => {
      const updateId = Number(id);
      await api.waitFor(() => api.confirmedBelow > updateId);
      api.redeliverFrom(updateId);
      await api.waitFor(() => api.confirmedBelow > updateId);
    },
    sent: () => api.messages(USER.id).map((m) => String(m.text)),
    transportCalls: () => api.calls.length,
    textLimit: TELEGRAM_TEXT_LIMIT,
    publishedCommands: () => api.commandMenu()?.map((c) => c.command),
    close: async () => {
      await host.stop();
      await api.close();
    },
  };
});
