#!/usr/bin/env node
// Telegram pipeline bench (`npm run bench:telegram`): updates from the fake Bot API server over
// CHATS chats, through the telegram plugin, the router, the SQLite store and a no-op agent, to
// the replies the fake server receives. Same-run reference: a hand-written grammY bot on the same
// fake server that stores each update in SQLite (better-sqlite3) and answers it. Options:
//   --runs N      alternating runs per contender, median reported (default 3)
//   --updates N   updates per throughput burst (default 3000)
//   --rate N      offered updates/s for the latency run (default 500)
//   --chats N     chats (default 100)
//   --warmup N    unmeasured bursts per contender first (default 1): a host runs for days, so its
//                 code is compiled by V8 long before; a cold first burst of a thousand updates
//                 measured mostly JIT compilation (on V8's helper threads, counted in the CPU)
//   --fake WHERE  process (default): the fake Bot API server runs in a process of its own, as
//                 Telegram is never in the bot's process; shared: in the bot's process (the
//                 method of rounds 1 and 2, where the fake's CPU counted as the bot's and a bot
//                 waiting for each call never waited for another process)
//   --profile     agentd only, one burst (for `node --cpu-prof`), no figures
// Figures: updates/s, CPU per update (the bot's process, and its main thread alone; with --fake
// shared the fake's too), the fake process's CPU per update, and reply latency from the push to the reply's arrival at the
// fake (p50/p99).
import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { sqlite } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { Bot } from 'grammy';
import { alternate, line, med, printMachine, sleep, tempDir } from './lib.mjs';
import { drive } from './telegram-drive.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    updates: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '500' },
    chats: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '1' },
    fake: { type: 'string', default: 'process' },
    profile: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const UPDATES = Number(args.updates);
const RATE = Number(args.rate);
const CHATS = Number(args.chats);
const WARMUP = Number(args.warmup);
const LATENCY_SECONDS = 4;
if (!['process', 'shared'].includes(args.fake)) throw new Error('--fake is process or shared');
const SHARED = args.fake === 'shared';
const dir = tempDir('agentd-bench-telegram-');
let fileNo = 0;
const freshDb = () => join(dir, `t${fileNo++}.db`);

/**
 * CPU time of this process's main thread (µs; NaN where /proc is missing): without V8's
 * compiler and GC helper threads, which `process.cpuUsage()` counts and which sway with how warm
 * the process is. Clock ticks of 10 ms, so read over whole runs only.
 */
function mainThreadCpuUs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/**
 * The fake Bot API server for one run: in a process of its own (default, see telegram-fake.mjs),
 * or in this process beside the bot (`--fake shared`, the method of rounds 1 and 2). `drive`
 * pushes the load and waits for every reply; `cpuUsPerUpdate` is this process's CPU per update
 * over it (the bot's alone, or the bot's and the fake's when shared), `fakeCpuUsPerUpdate` the
 * fake process's.
 */
async function startFake() {
  const load = (mode) => ({
    mode,
    updates: UPDATES,
    rate: RATE,
    seconds: LATENCY_SECONDS,
    chats: CHATS,
  });
  const measured = async (run) => {
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuUs();
    const elu0 = performance.eventLoopUtilization();
    const r = await run();
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const main = mainThreadCpuUs() - main0;
    const { fakeCpuUs, count, ...figures } = r;
    return {
      ...figures,
      cpuUsPerUpdate: Math.round((cpu.user + cpu.system) / count),
      mainThreadUsPerUpdate: Math.round(main / count),
      // Below 1, the bot's event loop waited for something (the fake, a timer) part of the run.
      eventLoopUtilization: Number(elu.toFixed(2)),
      ...(SHARED ? {} : { fakeCpuUsPerUpdate: Math.round(fakeCpuUs / count) }),
      expected: count,
    };
  };
  if (SHARED) {
    const api = await FakeBotApi.start();
    return {
      url: api.url,
      token: api.token,
      drive: (mode) => measured(() => drive(api, load(mode))),
      close: () => api.close(),
    };
  }
  const child = fork(fileURLToPath(new URL('./telegram-fake.mjs', import.meta.url)));
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code) => reject(new Error(`the fake Bot API process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { url, token } = await next('ready');
  return {
    url,
    token,
    drive: (mode) =>
      measured(async () => {
        const done = next('done');
        child.send({ type: 'drive', ...load(mode) });
        return (await done).result;
      }),
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

async function agentdRun(mode) {
  const api = await startFake();
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', (input) => `ok ${String(input)}`)],
    plugins: [
      sqlite({ path: freshDb() }),
      telegram({ token: api.token, apiRoot: api.url, allowedUsers: '*', pollTimeoutSeconds: 1 }),
    ],
  });
  await host.start();
  await sleep(300); // the store's checkpoint worker and the first poll settle, as in a live host
  try {
    return await api.drive(mode);
  } finally {
    await host.stop('bench');
    await api.close();
  }
}

/** The reference: grammY's own long polling, each update stored in SQLite, then answered. */
async function grammyRun(mode) {
  const api = await startFake();
  const db = new Database(freshDb());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE updates (update_id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, text TEXT, answered INTEGER NOT NULL DEFAULT 0)',
  );
  const insert = db.prepare(
    'INSERT OR IGNORE INTO updates (update_id, chat_id, text) VALUES (?, ?, ?)',
  );
  const markAnswered = db.prepare('UPDATE updates SET answered = 1 WHERE update_id = ?');
  const bot = new Bot(api.token, { client: { apiRoot: api.url } });
  bot.on('message:text', async (ctx) => {
    insert.run(ctx.update.update_id, ctx.chat.id, ctx.message.text);
    await ctx.reply(`ok ${ctx.message.text}`);
    markAnswered.run(ctx.update.update_id);
  });
  const started = new Promise((resolve) => bot.start({ timeout: 1, onStart: resolve }));
  await started;
  await sleep(300);
  try {
    return await api.drive(mode);
  } finally {
    await bot.stop();
    db.close();
    await api.close();
  }
}

if (args.profile) {
  console.log(await agentdRun('burst'));
  process.exit(0);
}
printMachine(
  `agentd Telegram pipeline bench: ${CHATS} chats, bursts of ${UPDATES} updates, latency at ${RATE} updates/s offered for ${LATENCY_SECONDS} s, ${WARMUP} warm-up burst(s) each, then ${RUNS} alternating runs, medians; fake Bot API server ${SHARED ? "in the bot's process" : 'in its own process'}`,
);
// Both contenders warm up alike, alternating; nothing of it counts.
for (let i = 0; i < WARMUP; i++) {
  console.log(
    `  warm-up ${i + 1}/${WARMUP}: agentd ${(await agentdRun('burst')).updatesPerSecond}/s, grammY ${(await grammyRun('burst')).updatesPerSecond}/s`,
  );
}
const burst = await alternate(RUNS, {
  agentd: () => agentdRun('burst'),
  grammY: () => grammyRun('burst'),
});
const paced = await alternate(RUNS, {
  agentd: () => agentdRun('paced'),
  grammY: () => grammyRun('paced'),
});

line(
  'updates/s end to end (burst)',
  med(burst.agentd, 'updatesPerSecond'),
  'updates/s',
  med(burst.grammY, 'updatesPerSecond'),
  'grammY+SQLite',
);
line(
  SHARED ? 'CPU per update (burst; bot + fake server)' : 'CPU per update (burst; bot process)',
  med(burst.agentd, 'cpuUsPerUpdate'),
  'µs',
  med(burst.grammY, 'cpuUsPerUpdate'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
line(
  'CPU per update (burst; main thread of it)',
  med(burst.agentd, 'mainThreadUsPerUpdate'),
  'µs',
  med(burst.grammY, 'mainThreadUsPerUpdate'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
if (!SHARED) {
  line(
    'CPU per update (burst; fake server process)',
    med(burst.agentd, 'fakeCpuUsPerUpdate'),
    'µs',
    med(burst.grammY, 'fakeCpuUsPerUpdate'),
    'grammY+SQLite',
    { lowerIsBetter: true },
  );
}
line(
  `reply latency p50 at ${RATE}/s`,
  med(paced.agentd, 'p50'),
  'ms',
  med(paced.grammY, 'p50'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
line(
  `reply latency p99 at ${RATE}/s`,
  med(paced.agentd, 'p99'),
  'ms',
  med(paced.grammY, 'p99'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
line(
  'reply latency p50 in the burst',
  med(burst.agentd, 'p50'),
  'ms',
  med(burst.grammY, 'p50'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
line(
  'reply latency p99 in the burst',
  med(burst.agentd, 'p99'),
  'ms',
  med(burst.grammY, 'p99'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
const all = [...burst.agentd, ...paced.agentd];
const ok = all.every((r) => r.answered === r.expected && r.duplicates === 0 && r.outOfOrder === 0);
console.log(
  `agentd guarantees over ${all.length} runs: every update answered ${ok ? 'exactly once' : 'NOT exactly once'}, ` +
    `duplicates ${all.reduce((s, r) => s + r.duplicates, 0)}, out of order per chat ${all.reduce((s, r) => s + r.outOfOrder, 0)} → ${ok ? 'HOLD' : 'BROKEN'}`,
);
console.log(`targets: ≥ 1,000 updates/s and ≥ 1.5x the reference`);
rmSync(dir, { recursive: true, force: true });
if (!ok) process.exitCode = 1;
