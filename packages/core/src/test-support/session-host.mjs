// A host for the orphan test: one command agent in session mode, a fake chat channel. At ready it
// dispatches one message and prints the agent's answer (which holds the session process's PID),
// then runs until killed. Usage: node session-host.mjs <db> <agent-script> <fail-flag>
import {
  ChannelRegistryToken,
  commandAgent,
  createHost,
  InboundRouterToken,
  runUntilSignal,
} from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';

const [db, script, failFlag] = process.argv.slice(2);
const host = createHost({
  logger: { level: 'warn' },
  runner: { pollMs: 50 },
  agents: [
    commandAgent({
      name: 'cli',
      command: process.execPath,
      args: [script, failFlag],
      mode: 'session',
      session: { resumeArgs: ['--continue'] },
    }),
  ],
  plugins: [
    sqlite({ path: db }),
    {
      name: 'chat',
      register: (ctx) =>
        ctx.resolve(ChannelRegistryToken).add({
          name: 'chat',
          send: async (_to, message) => {
            process.stdout.write(`SENT ${message.text}\n`);
            return { ids: [] };
          },
        }),
    },
  ],
});
host.events.once('host.ready', () => {
  void host.resolve(InboundRouterToken).dispatch({
    id: 'm1',
    from: { channel: 'chat', id: 'u1' },
    sender: { id: 'u1' },
    text: 'hello',
    receivedAt: Date.now(),
  });
});
process.exitCode = await runUntilSignal(host);
