import { createHost, HttpServerToken } from '@agentd/core';
import { describeChannelContract, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { WEB_CHANNEL } from './api-chat.js';
import { dashboard } from './index.js';
import { DashboardChat } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-web-contract-');
let next = 0;

// The dashboard's `web` channel over real HTTP on loopback, read the way the Chat page reads it:
// posts to api/chat with the CSRF token, a loop of waiting reads for what the host sends.
describeChannelContract('web (dashboard chat)', async (parts) => {
  const host = createHost({
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    runner: { pollMs: 20 },
    agents: parts.agents,
    plugins: [
      sqlite({ path: dbPath() }),
      webhook({ port: 0, host: '127.0.0.1' }),
      dashboard(),
      ...parts.plugins,
    ],
  });
  hosts.push(host);
  await host.start();
  const chat = await DashboardChat.open(host.resolve(HttpServerToken).address!.url);
  chat.follow();
  return {
    host,
    channel: WEB_CHANNEL,
    to: { channel: WEB_CHANNEL, id: 'local' },
    inject: async (text) => {
      const id = `contract-${++next}`;
      const posted = await chat.post({ text, id });
      if (posted.status >= 300) throw new Error(`chat post answered ${posted.status}`);
      return { id };
    },
    redeliver: async ({ id }) => {
      // The browser sends a message again when it did not see the answer: same id, refused.
      const again = await chat.post({ text: 'only once', id: String(id) });
      if (again.status !== 409) throw new Error(`a repeated id answered ${again.status}`);
    },
    sent: () => chat.replies(),
    transportCalls: () => chat.seen.length,
    close: async () => {
      chat.stop();
      await host.stop();
    },
  };
});
