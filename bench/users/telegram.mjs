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
//   --profile     agentd only, one burst (for `node --cpu-prof`), no figures
// Figures: updates/s, CPU per update (this process: the bot and the fake server), and reply
// latency from the push to the reply's arrival at the fake (p50/p99).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { sqlite } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { Bot } from 'grammy';
import { alternate, line, med, percentile, printMachine, sleep, tempDir } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    updates: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '500' },
    chats: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const UPDATES = Number(args.updates);
const RATE = Number(args.rate);
const CHATS = Number(args.chats);
const WARMUP = Number(args.warmup);
const LATENCY_SECONDS = 4;
const dir = tempDir('agentd-bench-telegram-');
let fileNo = 0;
const freshDb = () => join(dir, `t${fileNo++}.db`);

/**
 * Follows the replies the fake receives as they are recorded (a waiter's predicate runs on each
 * recorded call), measuring latency from the push of the update to the reply, and checking that
 * every update is answered exactly once and each chat's replies come in order.
 */
function follow(api, expected) {
  const pushedAt = new Map();
  const answered = new Map();
  const lastSeq = new Map();
  const latencies = [];
  let seen = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let lastReplyAt = 0;
  const scan = () => {
    for (; seen < api.calls.length; seen++) {
      const call = api.calls[seen];
      if (call.method !== 'sendMessage' || call.failed) continue;
      const key = String(call.params.text).replace(/^ok /, '');
      const t = pushedAt.get(key);
      if (t === undefined) continue;
      if (answered.has(key)) duplicates++;
      answered.set(key, true);
      latencies.push(call.at - t);
      lastReplyAt = call.at;
      const [chat, seq] = key.split(':').slice(1).map(Number);
      if ((lastSeq.get(chat) ?? -1) > seq) outOfOrder++;
      lastSeq.set(chat, seq);
    }
    return answered.size >= expected.count;
  };
  return {
    push(chat, seq) {
      const key = `m:${chat}:${seq}`;
      pushedAt.set(key, Date.now());
      api.sendText({ id: chat }, key);
    },
    done: () => api.waitFor(scan, 120_000, `${expected.count} replies`),
    result: () => ({ latencies, duplicates, outOfOrder, answered: answered.size, lastReplyAt }),
  };
}

/** Pushes a burst of UPDATES (round-robin over the chats), or paces them at RATE for the latency run. */
async function drive(api, mode) {
  const count = mode === 'burst' ? UPDATES : RATE * LATENCY_SECONDS;
  const f = follow(api, { count });
  const seq = new Map();
  const pushOne = (i) => {
    const chat = 1 + (i % CHATS);
    const s = seq.get(chat) ?? 0;
    seq.set(chat, s + 1);
    f.push(chat, s);
  };
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  if (mode === 'burst') {
    for (let i = 0; i < count; i++) pushOne(i);
  } else {
    // 10 ms ticks, each pushing its share of the offered rate.
    const perTick = RATE / 100;
    for (let tick = 0, i = 0; i < count; tick++) {
      for (let k = 0; k < perTick && i < count; k++) pushOne(i++);
      const wait = t0 + (tick + 1) * 10 - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  await f.done();
  const cpu = process.cpuUsage(cpu0);
  const r = f.result();
  return {
    updatesPerSecond: Math.round(count / ((r.lastReplyAt - t0) / 1000)),
    // CPU of this process (the bot and the fake server alike) per update: less swayed by the
    // machine's load than the rate, since time spent waiting for a core is not counted.
    cpuUsPerUpdate: Math.round((cpu.user + cpu.system) / count),
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    answered: r.answered,
    expected: count,
    duplicates: r.duplicates,
    outOfOrder: r.outOfOrder,
  };
}

async function agentdRun(mode) {
  const api = await FakeBotApi.start();
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
    return await drive(api, mode);
  } finally {
    await host.stop('bench');
    await api.close();
  }
}

/** The reference: grammY's own long polling, each update stored in SQLite, then answered. */
async function grammyRun(mode) {
  const api = await FakeBotApi.start();
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
    return await drive(api, mode);
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
  `agentd Telegram pipeline bench: ${CHATS} chats, bursts of ${UPDATES} updates, latency at ${RATE} updates/s offered for ${LATENCY_SECONDS} s, ${WARMUP} warm-up burst(s) each, then ${RUNS} alternating runs, medians`,
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
  'CPU per update (burst; bot + fake server)',
  med(burst.agentd, 'cpuUsPerUpdate'),
  'µs',
  med(burst.grammY, 'cpuUsPerUpdate'),
  'grammY+SQLite',
  { lowerIsBetter: true },
);
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
