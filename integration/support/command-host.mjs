// A host for the process-ownership tests: one task-mode command agent (`node <agent-script>
// <marker>`), a fake chat channel that prints each answer as `SENT <user> <text>`, the runner's
// default lease (30 s). Prints READY when ready; each stdin line `<user> <text>` is dispatched as
// a chat message. Runs until killed. Usage: node command-host.mjs <db> <agent-script> <marker>
import { createInterface } from 'node:readline';
import { ChannelRegistryToken, commandAgent, createHost, InboundRouterToken } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { sqlite } from '@agentd/store-sqlite';

const [db, script, marker] = process.argv.slice(2);
const host = createHost({
  logger: { level: 'warn' },
  runner: { killGraceMs: 2_000 },
  agents: [
    commandAgent({
      name: 'cli',
      command: process.execPath,
      args: [script, marker],
      killGraceMs: 2_000,
    }),
  ],
  plugins: [
    sqlite({ path: db }),
    {
      name: 'chat',
      register: (ctx) =>
        ctx.resolve(ChannelRegistryToken).add({
          name: 'chat',
          send: async (to, message) => {
            process.stdout.write(`SENT ${to.id} ${message.text}\n`);
            return { ids: [] };
          },
        }),
    },
  ],
});
let n = 0;
host.events.once('host.ready', () => {
  process.stdout.write('READY\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [user, ...words] = line.split(' ');
    void host.resolve(InboundRouterToken).dispatch({
      id: `m${process.pid}-${++n}`,
      from: { channel: 'chat', id: user },
      sender: { id: user },
      text: words.join(' '),
      receivedAt: Date.now(),
    });
  });
});
process.exitCode = await runUntilSignal(host);
