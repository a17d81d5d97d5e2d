// The host the dashboard bench measures, in its own process so its CPU is its own (not the
// bench's, nor Chromium's). Driven over IPC by dashboard.mjs: `cpu` answers process.cpuUsage(),
// `run` runs a batch of tasks and answers tasks/s, `stop` stops the host.
import { agent, createHost, HttpServerToken, TaskQueueToken } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { dashboard } from '@agentd/plugin-dashboard';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';

const [dbPath] = process.argv.slice(2);
const host = createHost({
  name: 'bench-host',
  logger: silentLogger(),
  agents: [agent('echo', (input) => input)],
  runner: { concurrency: 8 },
  schedules: [{ name: 'nightly', cron: '0 3 * * *', task: { agent: 'echo', input: 'report' } }],
  plugins: [sqlite({ path: dbPath }), webhook({ port: 0 }), dashboard()],
});
await host.start();
const queue = host.resolve(TaskQueueToken);

async function run(tasks) {
  let left = tasks;
  let off;
  const done = new Promise((resolve) => {
    off = host.events.on('task.completed', () => {
      if (--left === 0) resolve();
    });
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  await queue.enqueueMany(Array.from({ length: tasks }, (_, i) => ({ agent: 'echo', input: i })));
  await done;
  off();
  const used = process.cpuUsage(cpu);
  return {
    tasksPerSecond: tasks / ((performance.now() - started) / 1000),
    // Host CPU per task, whoever else wants the machine's cores (Chromium does, here).
    cpuMsPerTask: (used.user + used.system) / 1000 / tasks,
  };
}

process.on('message', async (message) => {
  if (message.cmd === 'cpu') {
    process.send({ cpu: process.cpuUsage(), at: performance.now() });
  } else if (message.cmd === 'run') {
    process.send(await run(message.tasks));
  } else if (message.cmd === 'stop') {
    await host.stop('bench');
    process.send({ stopped: true }, () => process.exit(0));
  }
});
process.send({ url: host.resolve(HttpServerToken).address.url.replace('0.0.0.0', '127.0.0.1') });
