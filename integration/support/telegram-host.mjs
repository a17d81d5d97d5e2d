// A Telegram host for polling-role tests: an echo agent, the Telegram plugin against the fake Bot
// API, on the SQLite file given in argv. Writes role events and READY as JSON lines on stdout.
// Usage: TELEGRAM_BOT_TOKEN=... node telegram-host.mjs <db> <name> <apiRoot> <userId> <leaseSeconds>
import { agent, createHost } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { telegram } from '@agentd/plugin-telegram';
import { sqlite } from '@agentd/store-sqlite';

const [db, name, apiRoot, userId, leaseSeconds = '5'] = process.argv.slice(2);
const line = (event) => process.stdout.write(`${JSON.stringify({ ...event, at: Date.now() })}\n`);

const host = createHost({
  name,
  logger: { level: 'warn' },
  roles: { leaseSeconds: Number(leaseSeconds) },
  runner: { leaseMs: 1000, pollMs: 50 },
  sessions: false,
  agents: [agent('echo', async (input) => `echo: ${input}`)],
  plugins: [
    sqlite({ path: db }),
    telegram({
      token: process.env.TELEGRAM_BOT_TOKEN,
      apiRoot,
      allowedUsers: [Number(userId)],
      pollTimeoutSeconds: 30,
    }),
  ],
});
for (const event of ['role.acquired', 'role.lost', 'role.released']) {
  host.events.on(event, (payload) => line({ event, pid: process.pid, ...payload }));
}
host.events.once('host.ready', () => line({ event: 'ready', pid: process.pid }));
process.exitCode = await runUntilSignal(host);
