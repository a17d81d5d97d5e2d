// A host for crash tests: runs tasks from the SQLite file given in argv, writing one journal line
// per finished agent run (appendFileSync: the line is on disk before the task is completed).
// Usage: node crash-host.mjs <db> <journal> [workMs]
import { appendFileSync } from 'node:fs';
import { agent, createHost } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { sqlite } from '@agentd/store-sqlite';

const [db, journal, workMs = '5'] = process.argv.slice(2);
const maxWork = Number(workMs);

const host = createHost({
  name: 'crash-host',
  logger: { level: 'warn' },
  agents: [
    agent('work', async (input, ctx) => {
      await new Promise((r) => setTimeout(r, Math.random() * maxWork));
      appendFileSync(
        journal,
        `${JSON.stringify({ id: ctx.task.id, attempt: ctx.task.attempts, pid: process.pid })}\n`,
      );
      return { done: input };
    }),
  ],
  runner: {
    concurrency: 4,
    leaseMs: 400,
    pollMs: 20,
    recoverEveryMs: 100,
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
  },
  timeouts: { drainMs: 2000 },
  plugins: [sqlite({ path: db })],
});
host.events.once('host.ready', () => process.stdout.write('READY\n'));
process.exitCode = await runUntilSignal(host);
