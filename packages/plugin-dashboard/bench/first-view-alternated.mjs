// The dashboard's first view, two builds alternated in the same window: each checkout's own bench
// host (dashboard-host.mjs: SQLite file, webhook(), dashboard(), 200 tasks run first) in its own
// process, and cold first views (a fresh browser context each) taken in rounds, old then new, then
// new then old, with the load average at the start of each. Per view: the overview's data painted
// (first-view-probe.mjs, as in dashboard.mjs), the page's agentd:first-data mark, and the first
// contentful paint. Both checkouts must be built.
// Run: node packages/plugin-dashboard/bench/first-view-alternated.mjs <old checkout> <new checkout> [rounds] [views a round]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createJiti } from 'jiti';
import { chromium } from 'playwright-core';
import { DATA_PAINT_PROBE } from './first-view-probe.mjs';

const { TEST_CHROMIUM: CHROMIUM, CHROMIUM_ARGS } = await createJiti(import.meta.url).import(
  '../src/test-browser.ts',
);
const [oldRepo, newRepo, rounds = '3', perRound = '15'] = process.argv.slice(2);
if (!oldRepo || !newRepo) {
  console.log(
    'usage: first-view-alternated.mjs <old checkout> <new checkout> [rounds] [views a round]',
  );
  process.exit(2);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const dirs = [];

async function startHost(repo) {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-first-view-'));
  dirs.push(dir);
  const child = fork(
    join(resolve(repo), 'packages/plugin-dashboard/bench/dashboard-host.mjs'),
    [join(dir, 'agentd.db')],
    { cwd: resolve(repo) },
  );
  const next = () => new Promise((r) => child.once('message', r));
  const { url } = await next();
  child.send({ cmd: 'run', tasks: 200 });
  await next();
  return { url, child };
}

const hosts = { old: await startHost(oldRepo), new: await startHost(newRepo) };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

async function view(url) {
  const context = await browser.newContext();
  await context.addInitScript(DATA_PAINT_PROBE);
  const page = await context.newPage();
  await page.goto(`${url}/dashboard/`);
  const times = await page.waitForFunction(() =>
    window.__benchDataPaint && performance.getEntriesByName('agentd:first-data')[0]
      ? {
          painted: window.__benchDataPaint,
          mark: performance.getEntriesByName('agentd:first-data')[0].startTime,
          fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        }
      : false,
  );
  const result = await times.jsonValue();
  await context.close();
  return result;
}

const line = (views) => {
  const painted = views.map((v) => v.painted);
  return `data painted median ${median(painted).toFixed(0)} ms (min ${Math.min(...painted).toFixed(0)}, max ${Math.max(...painted).toFixed(0)}), mark ${median(views.map((v) => v.mark)).toFixed(0)} ms, first contentful paint ${median(views.filter((v) => v.fcp !== null).map((v) => v.fcp)).toFixed(0)} ms`;
};

try {
  // One view each first: warms each host's routes (every view has a cold browser cache).
  for (const name of ['old', 'new']) await view(hosts[name].url);
  const all = { old: [], new: [] };
  const medians = { old: [], new: [] };
  for (let round = 0; round < Number(rounds); round++) {
    for (const name of round % 2 ? ['new', 'old'] : ['old', 'new']) {
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      const views = [];
      for (let i = 0; i < Number(perRound); i++) views.push(await view(hosts[name].url));
      all[name].push(...views);
      medians[name].push(median(views.map((v) => v.painted)));
      console.log(`round ${round + 1} ${name.padEnd(3)} (load ${load}): ${line(views)}`);
    }
  }
  for (const name of ['old', 'new']) {
    console.log(
      `${name}: round medians ${medians[name].map((m) => m.toFixed(0)).join(', ')} ms, median of medians ${median(medians[name]).toFixed(0)} ms; all ${all[name].length} views: ${line(all[name])}`,
    );
  }
  console.log(
    `new / old, median of round medians (data painted): ${(median(medians.new) / median(medians.old)).toFixed(2)}`,
  );
} finally {
  await browser.close();
  await Promise.all(
    Object.values(hosts).map(
      ({ child }) =>
        new Promise((r) => {
          child.once('exit', r);
          child.send({ cmd: 'stop' });
        }),
    ),
  );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
