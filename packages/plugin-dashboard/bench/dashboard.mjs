// What the dashboard costs and how fast it shows, in a real Chromium against a real host (its
// own process, SQLite file), with the targets:
// - first view: Chromium navigation start to the paint of the overview's data (Element Timing of
//   the first card's heading, which only the data shows, marked by the bench's own script: the
//   frame's presentation time, as for the first contentful paint the reference is measured by;
//   cold cache, a fresh browser context per run), median of FIRST_VIEW_RUNS; also the page's own
//   `agentd:first-data` mark (taken when that frame begins, before its style, layout and paint)
//   and the first contentful paint. Target 300 ms.
// - idle tab: the host process's CPU while tabs sit open on the overview and tasks pages, live
//   stream connected, nothing happening: (with 20 tabs - with none) / 20. Target under 1 % of a core.
// - runner: tasks/s with no tab and with 20 tabs open (each task event reaches every tab, which
//   refetches its page), alternated RUNS times, medians and their ratio. Target: no measurable
//   slow-down, taken as a ratio of at least 0.90 (the spread of the no-tab runs is printed beside),
//   and the host's CPU per task with and without the tabs (Chromium shares the machine's cores, so
//   throughput alone also counts the browser's own work).
// The 20 tabs are 20 browser contexts (20 operators' browsers), so the host serves 20 streams:
// tabs of one browser share one stream (client/src/live.ts).
// Run: npm run bench:dashboard  (needs /usr/bin/chromium, or AGENTD_TEST_CHROMIUM)
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { chromium } from 'playwright-core';
import { DATA_PAINT_PROBE } from './first-view-probe.mjs';

// The browser tests' Chromium and flags (src/test-browser.ts, read through jiti: Node 20 cannot
// import TypeScript).
const { TEST_CHROMIUM: CHROMIUM, CHROMIUM_ARGS } = await createJiti(import.meta.url).import(
  '../src/test-browser.ts',
);
const FIRST_VIEW_RUNS = Number(process.env.FIRST_VIEW_RUNS ?? 15);
const TABS = 20;
const IDLE_MS = Number(process.env.IDLE_MS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 3);
const TASKS = Number(process.env.TASKS ?? 2000);

if (!existsSync(CHROMIUM)) {
  console.log(`dashboard bench skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  process.exit(0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const dir = mkdtempSync(join(tmpdir(), 'agentd-dashboard-bench-'));
const child = fork(fileURLToPath(new URL('./dashboard-host.mjs', import.meta.url)), [
  join(dir, 'agentd.db'),
]);
const replies = [];
const waiting = [];
child.on('message', (m) => (waiting.length ? waiting.shift()(m) : replies.push(m)));
const next = () =>
  replies.length ? Promise.resolve(replies.shift()) : new Promise((r) => waiting.push(r));
const ask = (message) => {
  child.send(message);
  return next();
};
const { url } = await next();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

/** The host's CPU share of one core over `ms` of wall time. */
async function hostCpu(ms) {
  const a = await ask({ cmd: 'cpu' });
  await new Promise((r) => setTimeout(r, ms));
  const b = await ask({ cmd: 'cpu' });
  const used = b.cpu.user - a.cpu.user + (b.cpu.system - a.cpu.system);
  return (used / 1000 / (b.at - a.at)) * 100;
}

/**
 * `n` tabs, alternately on the overview and the tasks page, live stream up. Each in its own
 * browser context (as `n` operators' browsers): every tab holds its own stream, the most the host
 * can be asked to serve.
 */
async function openTabs(n) {
  const contexts = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${url}/dashboard/${i % 2 ? '#/tasks' : ''}`, { timeout: 120_000 });
    await page.locator('.live.up').waitFor({ timeout: 120_000 });
  }
  return { close: () => Promise.all(contexts.map((c) => c.close())) };
}

/** Median ms from navigation start to the first contentful paint of `path` (a fresh context each run). */
async function paintOf(path, runs) {
  const paints = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}${path}`);
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint')[0]);
    paints.push(
      await page.evaluate(
        () => performance.getEntriesByName('first-contentful-paint')[0].startTime,
      ),
    );
    await context.close();
  }
  return median(paints);
}

try {
  console.log(
    `dashboard bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, Node ${process.version}, ${await browser.version()}`,
  );
  await ask({ cmd: 'run', tasks: TASKS }); // warm-up, and tasks for the pages to show

  const views = [];
  const marks = [];
  const paints = [];
  for (let i = 0; i < FIRST_VIEW_RUNS + 1; i++) {
    const context = await browser.newContext();
    await context.addInitScript(DATA_PAINT_PROBE);
    const page = await context.newPage();
    await page.goto(`${url}/dashboard/`);
    // In the page's clock: ms since navigation start. The client's own mark (client/src/data.ts)
    // is taken when the frame with the data begins; the probe's time is when it was painted.
    const rendered = await page.waitForFunction(() =>
      window.__benchDataPaint && performance.getEntriesByName('agentd:first-data')[0]
        ? {
            painted: window.__benchDataPaint,
            mark: performance.getEntriesByName('agentd:first-data')[0].startTime,
          }
        : false,
    );
    const fcp = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    );
    if (i > 0) {
      // The first run warms the host's routes; every run has a cold browser cache.
      const { painted, mark } = await rendered.jsonValue();
      views.push(painted);
      marks.push(mark);
      if (fcp !== null) paints.push(fcp);
    }
    await context.close();
  }
  const view = median(views);
  // Same-run reference: the cheapest page this host serves (a small JSON answer), painted.
  const reference = await paintOf('/dashboard/api/me', FIRST_VIEW_RUNS);
  console.log(
    `reference (navigation -> first paint of /dashboard/api/me, cold cache)  median ${reference.toFixed(0)} ms; first view / reference ${(view / reference).toFixed(2)}`,
  );
  console.log(
    `first view (navigation -> the overview's data painted, cold cache)  median ${view.toFixed(0)} ms of ${views.length} (min ${Math.min(...views).toFixed(0)}, max ${Math.max(...views).toFixed(0)}), the page's agentd:first-data mark median ${median(marks).toFixed(0)} ms, first contentful paint median ${median(paints).toFixed(0)} ms; target 300 ms, ratio ${(view / 300).toFixed(2)}`,
  );

  const idleNone = await hostCpu(IDLE_MS);
  const one = await openTabs(1);
  // Let the pages' first reads (and the charts' script) finish: idle means idle.
  await new Promise((r) => setTimeout(r, 3000));
  const idleOne = await hostCpu(IDLE_MS);
  await one.close();
  const many = await openTabs(TABS);
  // Let the pages' first reads (and the charts' script) finish: idle means idle.
  await new Promise((r) => setTimeout(r, 3000));
  const idleMany = await hostCpu(IDLE_MS);
  await many.close();
  const idleAfter = await hostCpu(IDLE_MS);
  const perTab = (idleMany - (idleNone + idleAfter) / 2) / TABS;
  console.log(
    `idle host CPU (${IDLE_MS / 1000} s each)  no tab ${idleNone.toFixed(2)} % / ${idleAfter.toFixed(2)} % (before/after), 1 tab ${idleOne.toFixed(2)} %, ${TABS} tabs ${idleMany.toFixed(2)} % of a core`,
  );
  console.log(
    `idle tab cost  ${perTab.toFixed(3)} % of a core per tab (1 tab alone: ${(idleOne - idleNone).toFixed(3)} %); target < 1 %, ratio ${Math.max(0, perTab).toFixed(3)}`,
  );

  const without = [];
  const withTabs = [];
  for (let r = 0; r < RUNS; r++) {
    without.push(await ask({ cmd: 'run', tasks: TASKS }));
    const tabs = await openTabs(TABS);
    await new Promise((r) => setTimeout(r, 3000));
    withTabs.push(await ask({ cmd: 'run', tasks: TASKS }));
    await tabs.close();
  }
  const rate = (runs) => median(runs.map((x) => x.tasksPerSecond));
  const cost = (runs) => median(runs.map((x) => x.cpuMsPerTask));
  const a = rate(without);
  const b = rate(withTabs);
  const list = (runs) => runs.map((x) => x.tasksPerSecond.toFixed(0)).join(', ');
  const spread =
    (Math.max(...without.map((x) => x.tasksPerSecond)) -
      Math.min(...without.map((x) => x.tasksPerSecond))) /
    a;
  console.log(
    `runner (${TASKS} tasks a run, ${RUNS} runs alternated)  no tab median ${a.toFixed(0)}/s [${list(without)}], ${TABS} tabs median ${b.toFixed(0)}/s [${list(withTabs)}]; ratio ${(b / a).toFixed(2)} (target >= 0.90; no-tab spread ${(spread * 100).toFixed(0)} %)`,
  );
  console.log(
    `runner host CPU per task  no tab median ${cost(without).toFixed(3)} ms, ${TABS} tabs ${cost(withTabs).toFixed(3)} ms; ratio ${(cost(withTabs) / cost(without)).toFixed(2)} (what serving the tabs adds on the host, whatever Chromium takes from the same 2 cores)`,
  );
} finally {
  await browser.close();
  await ask({ cmd: 'stop' }).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
