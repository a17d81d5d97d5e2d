// What open dashboard tabs cost the host: CPU while 20 live-update streams sit idle, and the
// runner's throughput with 0 and with 20 streams open (each task sends every stream 3 events).
// The streams are read in this same process, so the figures are an upper bound.
// Run: npm run build && node packages/plugin-dashboard/bench/tabs.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, createHost, HttpServerToken, TaskQueueToken } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { dashboard } from '@agentd/plugin-dashboard';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';

const TABS = 20;
const TASKS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'agentd-tabs-bench-'));
const host = createHost({
  logger: silentLogger(),
  agents: [agent('echo', (input) => input)],
  runner: { concurrency: 8 },
  plugins: [sqlite({ path: join(dir, 'agentd.db') }), webhook({ port: 0 }), dashboard()],
});
await host.start();
const url = host.resolve(HttpServerToken).address.url;
const queue = host.resolve(TaskQueueToken);

const tabs = [];
let received = 0;
async function openTabs(n) {
  for (let i = 0; i < n; i++) {
    const abort = new AbortController();
    const response = await fetch(`${url}/dashboard/api/events`, { signal: abort.signal });
    if (response.status !== 200)
      throw new Error(`tab ${i}: ${response.status} ${await response.text()}`);
    const reader = response.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          received += value.length;
        }
      } catch (error) {
        if (!abort.signal.aborted) console.error(`tab ${i}:`, error);
      }
    })();
    tabs.push(abort);
  }
}

async function throughput(label) {
  let left = TASKS;
  const done = new Promise((resolve) => {
    host.events.on('task.completed', () => {
      if (--left === 0) resolve();
    });
  });
  const started = performance.now();
  await queue.enqueueMany(Array.from({ length: TASKS }, (_, i) => ({ agent: 'echo', input: i })));
  await done;
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(28)} ${Math.round(TASKS / seconds)} tasks/s`);
}

async function idleCpu(label) {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const used = process.cpuUsage(cpu);
  const share = ((used.user + used.system) / 1000 / (performance.now() - wall)) * 100;
  console.log(`${label.padEnd(28)} ${share.toFixed(2)} % of a core (whole process, 10 s)`);
}

try {
  await throughput('warm-up');
  for (let i = 0; i < 3; i++) await throughput('runner, no tabs');
  await idleCpu('idle, no tabs');
  await openTabs(TABS);
  await new Promise((r) => setTimeout(r, 500));
  await idleCpu(`idle, ${TABS} tabs open`);
  received = 0;
  for (let i = 0; i < 3; i++) await throughput(`runner, ${TABS} tabs open`);
  // The tabs read in this process: give them a moment to catch up with what was sent.
  await new Promise((r) => setTimeout(r, 1000));
  console.log(
    `bytes streamed to the tabs   ${received} (a tab 200 events behind gets one resync instead)`,
  );
} finally {
  for (const tab of tabs) tab.abort();
  await host.stop('bench');
  rmSync(dir, { recursive: true, force: true });
}
