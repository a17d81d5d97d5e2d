#!/usr/bin/env node
// Old build against new build against bare node:http, interleaved, for a loaded machine.
// `node packages/plugin-webhook/bench/http-alternated.mjs <old worktree, built> [options]`:
//   --mode live|hook  `GET /live` (default) or signed webhook intake
//   --rounds N        rounds (default 6); each round runs bare, old and new once, in an order
//                     rotated every round, each from a fresh server child
//   --duration S      seconds per run after a 1 s warm-up (default 3)
// The servers are `http.mjs --serve <kind>` of each worktree (this one is "new"). Prints, per
// round, req/s and server CPU per request (user + system time of the server process over the
// run, divided by the requests answered) with the 1-minute load, then the medians and the
// median per-round ratios to bare by req/s and by CPU (bare CPU / agentd CPU): when the load
// moves between runs the req/s ratio swings, the CPU ratio much less.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { signedDeliveries } from './signed-delivery.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: 'live' },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '3' },
  },
});
if (positionals.length !== 1 || !['live', 'hook'].includes(args.mode)) {
  process.stderr.write(
    'usage: http-alternated.mjs <old worktree> [--mode live|hook] [--rounds N] [--duration S]\n',
  );
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const bench = (root) => join(root, 'packages/plugin-webhook/bench/http.mjs');
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const live = args.mode === 'live';
const path = live ? '/live' : '/hooks/std';
const agentd = live ? 'agentd' : 'agentd-intake';
const servers = [
  { label: 'bare', file: join(here, 'http.mjs'), kind: 'bare' },
  { label: 'old', file: bench(resolve(positionals[0])), kind: agentd },
  { label: 'new', file: join(here, 'http.mjs'), kind: agentd },
];

// The children read the key from the environment, as http.mjs's own children do.
process.env.BENCH_WEBHOOK_KEY ??= randomBytes(24).toString('base64');
const KEY = Buffer.from(process.env.BENCH_WEBHOOK_KEY, 'base64');
const BODY = JSON.stringify({ type: 'order.created', data: { id: 'ord_1', amount: 4200 } });
const setupRequest = signedDeliveries(KEY, BODY);

/** CPU time (µs) of a process so far, all its threads, from /proc (Linux). */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4; // clock ticks of 10 ms
}

async function run(server) {
  const child = fork(server.file, ['--serve', server.kind], { stdio: 'inherit' });
  const { port } = await new Promise((ok, fail) => {
    child.once('message', ok);
    child.once('exit', (code) => fail(new Error(`${server.label} server exited with ${code}`)));
  });
  const opts = {
    url: `http://127.0.0.1:${port}${path}`,
    connections: 32,
    ...(live ? {} : { requests: [{ path, setupRequest }] }),
  };
  await autocannon({ ...opts, duration: 1 });
  const before = cpuOf(child.pid);
  const r = await autocannon({ ...opts, duration: DURATION });
  const after = cpuOf(child.pid);
  child.removeAllListeners('exit');
  const exited = new Promise((ok) => child.once('exit', ok));
  child.send('stop');
  await exited;
  const answered = r['2xx'] + r.non2xx;
  return { rps: r.requests.average, cpu: (after - before) / answered, bad: r.non2xx + r.errors };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const all = { bare: [], old: [], new: [] };
const ratio = { oldRps: [], newRps: [], oldCpu: [], newCpu: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = servers.map((_, i) => servers[(i + round) % servers.length]);
  const got = {};
  for (const server of order) got[server.label] = await run(server);
  for (const label of Object.keys(got)) all[label].push(got[label]);
  ratio.oldRps.push(got.old.rps / got.bare.rps);
  ratio.newRps.push(got.new.rps / got.bare.rps);
  ratio.oldCpu.push(got.bare.cpu / got.old.cpu);
  ratio.newCpu.push(got.bare.cpu / got.new.cpu);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  const cell = (label) =>
    `${label} ${Math.round(got[label].rps)}/s ${got[label].cpu.toFixed(1)} µs${got[label].bad ? ` (${got[label].bad} failed)` : ''}`;
  console.log(
    `round ${round + 1}, load ${load}, order ${order.map((s) => s.label).join(',')}: ${['bare', 'old', 'new'].map(cell).join(' | ')}`,
  );
}
const summary = (label) =>
  `${label} ${Math.round(median(all[label].map((r) => r.rps)))}/s ${median(all[label].map((r) => r.cpu)).toFixed(1)} µs`;
console.log(`medians: ${['bare', 'old', 'new'].map(summary).join('; ')}`);
console.log(
  `median per-round ratio to bare: req/s old ${median(ratio.oldRps).toFixed(2)}x, new ${median(ratio.newRps).toFixed(2)}x; by CPU old ${median(ratio.oldCpu).toFixed(2)}x, new ${median(ratio.newCpu).toFixed(2)}x`,
);
