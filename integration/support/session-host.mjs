// A host for the orphan tests: one command agent in session mode, a fake chat channel. At ready
// it prints READY, dispatches one message (unless the 4th argument is `quiet`, or `observer`: quiet
// and running no tasks, `runner: false`) and prints every
// answer sent (the answer holds the session process's PID); each line on stdin is dispatched as
// one more message from the same user. Runs until killed.
// Usage: node session-host.mjs <db> <agent-script> <fail-flag> [quiet]
import { createInterface } from 'node:readline';
import { ChannelRegistryToken, commandAgent, createHost, InboundRouterToken } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { sqlite } from '@agentd/store-sqlite';

const [db, script, failFlag, mode] = process.argv.slice(2);
const host = createHost({
  logger: { level: 'warn' },
  runner: mode === 'observer' ? false : { pollMs: 50 },
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
let n = 0;
const say = (text) =>
  host.resolve(InboundRouterToken).dispatch({
    id: `m${process.pid}-${++n}`,
    from: { channel: 'chat', id: 'u1' },
    sender: { id: 'u1' },
    text,
    receivedAt: Date.now(),
  });
host.events.once('host.ready', () => {
  process.stdout.write('READY\n');
  if (mode === undefined) void say('hello');
  createInterface({ input: process.stdin }).on('line', (line) => void say(line));
});
process.exitCode = await runUntilSignal(host);
