// A host for the pause test: SQLite file, the dashboard on a free port, one schedule firing every
// second. At ready it writes {"url": ...} and runs until killed.
// Usage: node pause-host.mjs <db>
import { agent, createHost, HttpServerToken } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { dashboard } from '@agentd/plugin-dashboard';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';

const [db] = process.argv.slice(2);
const host = createHost({
  logger: { level: 'warn' },
  agents: [agent('echo', (input) => input)],
  schedules: [
    { name: 'every-second', every: 1000, missed: 'all', task: { agent: 'echo', input: 'tick' } },
  ],
  plugins: [sqlite({ path: db }), webhook({ port: 0 }), dashboard()],
});
host.events.once('host.ready', () => {
  const url = host.resolve(HttpServerToken).address.url.replace('0.0.0.0', '127.0.0.1');
  process.stdout.write(`${JSON.stringify({ url })}\n`);
});
process.exitCode = await runUntilSignal(host);
