// A host in its own process with a heartbeat every second to the URL given. It prints "ready"
// once started; a line "hang <ms>" on stdin blocks its event loop that long (a busy loop, as a
// runaway synchronous parse or an infinite loop would), then it prints "unhung".
import { createHost } from '@agentd/core';
import { monitor } from '@agentd/plugin-monitor';

const [url] = process.argv.slice(2);
const host = createHost({
  name: 'hb-child',
  logger: { level: 'silent' },
  plugins: [
    monitor({
      command: false,
      intervalSeconds: 3600,
      defaultRules: false,
      sampler: async () => ({
        cpuPercent: 1,
        memory: { usedPercent: 1, totalBytes: 1e9, availableBytes: 1e9 },
        disks: [],
      }),
      heartbeat: { url, every: 1, timeoutSeconds: 2 },
    }),
  ],
});
await host.start();
process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  for (const line of chunk.split('\n')) {
    const [command, ms] = line.trim().split(' ');
    if (command === 'hang') {
      const until = Date.now() + Number(ms);
      while (Date.now() < until) {
        // blocked: no timer, no I/O callback runs
      }
      process.stdout.write('unhung\n');
    }
    if (command === 'stop') void host.stop('test').then(() => process.exit(0));
  }
});
