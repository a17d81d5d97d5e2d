#!/usr/bin/env node
// Sessions bench (`npm run bench:sessions`, run with --expose-gc): messages per second for USERS
// users with live sessions (each message: the session lookup, its lock, the idle timer re-armed),
// through the router, the SQLite store and a no-op agent, to the reply the channel sends; and the
// memory each idle live session holds. Same-run reference: the same host without the sessions
// built-in (every message a plain task), so the ratio is what sessions cost. Options:
//   --runs N      alternating runs per contender, median reported (default 3)
//   --users N     users (default 1000)
//   --messages N  messages per user (default 5)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  agent,
  ChannelRegistryToken,
  createHost,
  InboundRouterToken,
  SessionStoreToken,
} from '@agentd/core';
import { failover } from '@agentd/core/failover';
import { silentLogger } from '@agentd/core/host';
import { sessions } from '@agentd/core/sessions';
import { sqlite } from '@agentd/store-sqlite';
import { alternate, line, med, printMachine, sleep, tempDir } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    users: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '5' },
  },
});
const RUNS = Number(args.runs);
const USERS = Number(args.users);
const MESSAGES = Number(args.messages);
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
const dir = tempDir('agentd-bench-sessions-');
let fileNo = 0;
const heap = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
};

async function run(withSessions) {
  let replies = 0;
  let allReplied;
  const done = new Promise((r) => (allReplied = r));
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', (input) => `ok ${String(input)}`)],
    plugins: [
      sqlite({ path: join(dir, `s${fileNo++}.db`) }),
      // The failover executor runs each message in its session (lock, live, idle timer).
      failover(),
      ...(withSessions ? [sessions({ resumeNotice: false })] : []),
      {
        name: 'bench-chat',
        register: (ctx) =>
          ctx.resolve(ChannelRegistryToken).add({
            name: 'chat',
            send: async () => {
              if (++replies === USERS * MESSAGES) allReplied();
              return { ids: [] };
            },
          }),
      },
    ],
  });
  await host.start();
  await sleep(300);
  const router = host.resolve(InboundRouterToken);
  const before = await heap();
  const t0 = performance.now();
  // Every user sends a message, then the next round: USERS users active at once.
  for (let m = 0; m < MESSAGES; m++) {
    await Promise.all(
      Array.from({ length: USERS }, (_, u) =>
        router.dispatch({
          id: `${u}-${m}`,
          from: { channel: 'chat', id: `u${u}` },
          sender: { id: `u${u}` },
          text: `m${m}`,
          receivedAt: Date.now(),
        }),
      ),
    );
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  await sleep(200); // the last runs' idle timers are armed after the reply
  const after = await heap();
  let live = 0;
  if (withSessions) {
    const store = host.resolve(SessionStoreToken);
    for (let u = 0; u < USERS; u++)
      if ((await store.findActive(`chat:u${u}`))?.status === 'live') live++;
  }
  await host.stop('bench');
  return {
    messagesPerSecond: Math.round((USERS * MESSAGES) / seconds),
    bytesPerUser: Math.round((after - before) / USERS),
    liveSessions: live,
  };
}

printMachine(
  `agentd sessions bench: ${USERS} users × ${MESSAGES} messages, ${RUNS} alternating runs, medians`,
);
const r = await alternate(RUNS, { sessions: () => run(true), plain: () => run(false) });
line(
  'messages/s, 1,000 users with live sessions',
  med(r.sessions, 'messagesPerSecond'),
  'msg/s',
  med(r.plain, 'messagesPerSecond'),
  'same host without sessions',
);
const perSession = med(r.sessions, 'bytesPerUser') - med(r.plain, 'bytesPerUser');
console.log(
  `memory per idle live session (heap after − before, per user, minus the no-sessions host's):  ${Math.round(perSession)} bytes ` +
    `(with sessions ${med(r.sessions, 'bytesPerUser')} B/user, without ${med(r.plain, 'bytesPerUser')} B/user)`,
);
console.log(
  `live sessions at the end (idle timers armed): ${med(r.sessions, 'liveSessions')} of ${USERS}`,
);
rmSync(dir, { recursive: true, force: true });
