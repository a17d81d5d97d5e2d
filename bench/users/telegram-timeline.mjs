#!/usr/bin/env node
// The timeline of one Telegram burst through agentd (a diagnostic, not a bench figure): when each
// `getUpdates` leaves and returns, when tasks are stored, started and completed, when replies
// leave and are answered, and how busy the event loop was in each 10 ms window; printed as a
// per-poll table and a per-50 ms strip, to find where the pipeline waits. The fake Bot API
// server runs in its own process, as in telegram.mjs. Options: --updates N (default 2000),
// --chats N (default 100), --warmup N (unmeasured bursts first, default 1), --summary (one
// line of figures instead: rate, CPU per update of the process and of its main thread, event
// loop utilisation; for alternating old and new code quickly), --profile FILE (a CPU profile
// of the measured burst alone, written to FILE as a .cpuprofile).
import { fork } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { agent, createHost } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { telegram } from '@agentd/plugin-telegram';
import { sqlite } from '@agentd/store-sqlite';
import { sleep, tempDir } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    updates: { type: 'string', default: '2000' },
    chats: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '1' },
    summary: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const UPDATES = Number(args.updates);
const CHATS = Number(args.chats);
const dir = tempDir('agentd-bench-telegram-timeline-');
let fileNo = 0;
const now = () => performance.timeOrigin + performance.now();

let recording = false;
const marks = [];
const mark = (kind, extra) => {
  if (recording) marks.push({ t: now(), kind, ...extra });
};
// undici's diagnostics: a request is created when a connection of its pool takes it (one queued
// behind a full pool is not out yet), and its trailers come once its answer was read whole.
const kindOf = (request) => (request.path.endsWith('/getUpdates') ? 'poll' : 'send');
subscribe('undici:request:create', ({ request }) => mark(`${kindOf(request)}.out`));
subscribe('undici:request:trailers', ({ request }) => mark(`${kindOf(request)}.in`));

async function startFake() {
  const child = fork(fileURLToPath(new URL('./telegram-fake.mjs', import.meta.url)));
  const next = (type) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  const { url, token } = await next('ready');
  return {
    url,
    token,
    drive: async () => {
      const done = next('done');
      child.send({
        type: 'drive',
        mode: 'burst',
        updates: UPDATES,
        rate: 0,
        seconds: 0,
        chats: CHATS,
      });
      return (await done).result;
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

async function burst(record) {
  const api = await startFake();
  const host = createHost({
    logger: silentLogger(),
    agents: [agent('noop', (input) => `ok ${String(input)}`)],
    plugins: [
      sqlite({ path: join(dir, `t${fileNo++}.db`) }),
      telegram({ token: api.token, apiRoot: api.url, allowedUsers: '*', pollTimeoutSeconds: 1 }),
    ],
  });
  await host.start();
  const bus = host.events;
  bus.on('task.enqueued', () => mark('stored'));
  bus.on('task.started', () => mark('started'));
  bus.on('task.completed', () => mark('completed'));
  bus.on('channel.sent', () => mark('sent'));
  await sleep(300);
  const elu = [];
  let last = performance.eventLoopUtilization();
  const sampler = setInterval(() => {
    const cur = performance.eventLoopUtilization();
    if (recording)
      elu.push({ t: now(), u: performance.eventLoopUtilization(cur, last).utilization });
    last = cur;
  }, 10);
  recording = record;
  const session = record && args.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const t0 = now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const elu0 = performance.eventLoopUtilization();
  const result = await api.drive();
  const cpu = process.cpuUsage(cpu0);
  result.cpuUsPerUpdate = Math.round((cpu.user + cpu.system) / UPDATES);
  result.mainThreadUsPerUpdate = Math.round((mainThreadCpuUs() - main0) / UPDATES);
  result.eventLoopUtilization = Number(
    performance.eventLoopUtilization(elu0).utilization.toFixed(2),
  );
  recording = false;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(args.profile, JSON.stringify(profile));
    session.disconnect();
  }
  clearInterval(sampler);
  await host.stop('bench');
  await api.close();
  return { t0, result, elu };
}

/** CPU time of this process's main thread (µs), from /proc (10 ms ticks). */
function mainThreadCpuUs() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

for (let i = 0; i < Number(args.warmup); i++) await burst(false);
if (args.summary) {
  const { result } = await burst(Boolean(args.profile));
  const { updatesPerSecond, p50, cpuUsPerUpdate, mainThreadUsPerUpdate, eventLoopUtilization } =
    result;
  const ok = result.answered === UPDATES && result.duplicates === 0 && result.outOfOrder === 0;
  console.log(
    JSON.stringify({
      updatesPerSecond,
      p50,
      cpuUsPerUpdate,
      mainThreadUsPerUpdate,
      eventLoopUtilization,
      guarantees: ok ? 'HOLD' : 'BROKEN',
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}
marks.length = 0;
const { t0, result, elu } = await burst(true);
const rel = (t) => (t - t0).toFixed(1);
console.log(
  `burst of ${UPDATES}: ${result.updatesPerSecond} updates/s, p50 ${result.p50} ms, answered ${result.answered}, duplicates ${result.duplicates}, out of order ${result.outOfOrder}`,
);
// Per poll: when it left, when it came back, and what happened until the next one left.
const polls = [];
for (const m of marks) {
  const p = polls[polls.length - 1];
  if (m.kind === 'poll.out') polls.push({ out: m.t, in: undefined, stored: 0, started: 0 });
  else if (m.kind === 'poll.in' && p) p.in = m.t;
  else if (m.kind === 'stored' && p) {
    p.stored++;
    p.firstStored ??= m.t;
    p.lastStored = m.t;
  } else if (m.kind === 'started' && p) p.started++;
}
console.log(
  'poll  left(ms)  back(ms)  round trip  stored  stored from..to (after back)  started  next poll leaves (after back)',
);
polls.forEach((p, i) => {
  const nextOut = polls[i + 1]?.out;
  console.log(
    `${String(i).padStart(4)}  ${rel(p.out).padStart(8)}  ${p.in ? rel(p.in).padStart(8) : '       -'}  ${p.in ? (p.in - p.out).toFixed(1).padStart(10) : '         -'}  ${String(p.stored).padStart(6)}  ${p.firstStored ? `${(p.firstStored - p.in).toFixed(1)}..${(p.lastStored - p.in).toFixed(1)}` : '-'}  ${p.started}  ${nextOut && p.in ? (nextOut - p.in).toFixed(1) : '-'}`,
  );
});
// A strip per 50 ms: counts of each kind, and the event loop's utilisation.
const STEP = 50;
const end = Math.max(...marks.map((m) => m.t));
const before = (t, kind) => marks.filter((m) => m.t < t && m.kind === kind).length;
console.log(
  'window(ms)   stored started completed sends.out sends.in sent  ELU  in flight, not yet sent (at the end)',
);
for (let w = t0; w < end; w += STEP) {
  const inW = (m) => m.t >= w && m.t < w + STEP;
  const c = (k) => marks.filter((m) => inW(m) && m.kind === k).length;
  const us = elu.filter(inW).map((e) => e.u);
  const u = us.length ? us.reduce((a, b) => a + b, 0) / us.length : Number.NaN;
  console.log(
    `${rel(w).padStart(7)}-${String(Math.round(w - t0 + STEP)).padEnd(5)} ${String(c('stored')).padStart(6)} ${String(c('started')).padStart(7)} ${String(c('completed')).padStart(9)} ${String(c('send.out')).padStart(9)} ${String(c('send.in')).padStart(8)} ${String(c('sent')).padStart(4)}  ${u.toFixed(2)}  ${before(w + STEP, 'send.out') - before(w + STEP, 'send.in')}, ${before(w + STEP, 'completed') - before(w + STEP, 'sent')}`,
  );
}
rmSync(dir, { recursive: true, force: true });
