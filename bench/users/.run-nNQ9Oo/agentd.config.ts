import { agent, defineConfig } from '@agentd/core';
import { monitor } from '@agentd/plugin-monitor';
import { telegram } from '@agentd/plugin-telegram';
import { sqlite } from '@agentd/store-sqlite';
import { greeter } from 'agentd-example-custom-plugin';

/**
 * The starter host: the embedded SQLite store (`.agentd/agentd.db` here), the `greeter` plugin
 * from ../custom-plugin (which adds an agent named `greeter`), a small function agent, and a
 * schedule that greets every minute. Run it with `npm start` from the repository root, or
 * `npx agentd start` here; stop it with Ctrl-C.
 *
 * While it runs, try from another terminal in this directory:
 *   npx agentd enqueue "Ada" --agent greeter
 *   npx agentd tasks
 *   npx agentd schedules
 *
 *
 * The monitor watches CPU, memory and the disk under `.agentd`. With TELEGRAM_BOT_TOKEN set (and
 * TELEGRAM_ALLOWED_USERS, comma-separated user ids), the host is also a Telegram bot whose
 * messages go to the greeter, and whose allowed users receive the host's alerts.
 */
const telegramUsers = (process.env.TELEGRAM_ALLOWED_USERS ?? '').split(',').filter(Boolean);

export default defineConfig({
  name: 'starter',
  agents: [agent('clock', () => `It is ${new Date().toISOString()}`)],
  defaultAgent: 'greeter',
  plugins: [
    sqlite(),
    greeter({ greeting: 'Hello', heartbeatMs: 0 }),
    monitor(),
    process.env.TELEGRAM_BOT_TOKEN &&
      telegram({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: agentd fills ${NAME} in from the environment, and keeps the token out of logs
        token: '${TELEGRAM_BOT_TOKEN}',
        allowedUsers: telegramUsers,
        ...(telegramUsers.length > 0 ? { alerts: { chats: telegramUsers } } : {}),
      }),
  ],
  schedules: [
    {
      name: 'greet-every-minute',
      every: '1m',
      missed: 'skip',
      task: { agent: 'greeter', input: 'world' },
    },
  ],
});
