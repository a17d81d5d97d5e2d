// A host for the PostgreSQL reliability test: runs tasks from a PostgreSQL schema, fires a
// schedule every second, and campaigns for the role `test:polling`. Every agent run and every
// role change is appended to the journal (appendFileSync: the line is on disk before the task
// is completed), with a sub-millisecond time comparable across processes.
// Usage: node pg-reliability-host.mjs <url> <schema> <journal>
import { appendFileSync } from 'node:fs';
import { agent, createHost } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { RolesToken } from '@agentd/core/roles';
import { postgres } from '@agentd/store-postgres';

const [url, schema, journal] = process.argv.slice(2);
// CLOCK_MONOTONIC, the same for every process on the machine (the test compares runs across
// hosts); performance.timeOrigin is fixed per process at start and can be off by tens of ms.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const record = (entry) =>
  appendFileSync(journal, `${JSON.stringify({ pid: process.pid, at: now(), ...entry })}\n`);

const host = createHost({
  name: `reliability-${process.pid}`,
  logger: { level: 'error' },
  agents: [
    agent('work', async (input, ctx) => {
      const run = { id: ctx.task.id, attempt: ctx.task.attempts };
      record({ kind: 'start', ...run });
      await new Promise((r) => setTimeout(r, Math.random() * 4));
      record({ kind: 'done', ...run });
      return { done: input };
    }),
  ],
  runner: {
    concurrency: 8,
    leaseMs: 1500,
    pollMs: 250,
    recoverEveryMs: 250,
    retry: { initialDelayMs: 10, maxDelayMs: 100 },
  },
  roles: { leaseSeconds: 2 },
  timezone: 'UTC',
  schedules: [
    {
      name: 'tick',
      cron: '* * * * * *',
      missed: 'all',
      overlap: 'queue',
      task: { agent: 'work', input: 'tick', maxAttempts: 1000 },
    },
  ],
  timeouts: { drainMs: 2000 },
  plugins: [
    postgres({
      url,
      schema,
      pool: { max: 4, connectionTimeoutMillis: 1000 },
      healthTimeoutMs: 500,
    }),
    (() => {
      let beat;
      return {
        name: 'polling-role',
        dependsOn: [RolesToken],
        start(ctx) {
          const campaign = ctx.resolve(RolesToken).campaign('test:polling');
          // The work only the holder may do, as a poller does it: guarded by the lease. The clock is
          // read before the check, so a lease valid at the check (no JS ran in between) was valid
          // at the time journaled. The role events are journaled too, but late when this process is
          // starved (a timer fires late): what must never overlap is the work, which is what this is.
          beat = setInterval(() => {
            const at = now();
            const lease = campaign.lease;
            if (lease?.isValid())
              record({ kind: 'role.work', role: lease.role, epoch: lease.epoch, at });
          }, 20);
        },
        stop() {
          clearInterval(beat);
        },
      };
    })(),
  ],
});
for (const event of ['role.acquired', 'role.lost', 'role.released']) {
  host.events.on(event, (payload) =>
    record({ kind: event, role: payload.role, epoch: payload.epoch }),
  );
}
// A run that failed (the agent never throws: a store write did) is a re-run in the making.
host.events.on('task.failed', ({ task }) =>
  record({ kind: 'failed', id: task.id, attempt: task.attempts, error: task.error?.message }),
);
host.events.once('host.ready', () => process.stdout.write('READY\n'));
process.exitCode = await runUntilSignal(host);
