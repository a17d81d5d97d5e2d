// A host for role tests: campaigns for the role `test:singleton` on the store given in argv (a
// SQLite file, or `postgres://...#schema`) and writes each role event and `ready` as JSON lines
// on stdout (with the time it saw it).
// Usage: node role-host.mjs <db> <name> <leaseSeconds>
import { createHost } from '@agentd/core';
import { runUntilSignal } from '@agentd/core/host';
import { RolesToken } from '@agentd/core/roles';
import { postgres } from '@agentd/store-postgres';
import { sqlite } from '@agentd/store-sqlite';

const [db, name, leaseSeconds = '2'] = process.argv.slice(2);
const line = (event) => process.stdout.write(`${JSON.stringify({ ...event, at: Date.now() })}\n`);

const host = createHost({
  name,
  logger: { level: 'warn' },
  roles: { leaseSeconds: Number(leaseSeconds) },
  runner: false,
  sessions: false,
  plugins: [
    db.startsWith('postgres://')
      ? postgres({ url: db.split('#')[0], schema: db.split('#')[1], pool: { max: 2 } })
      : sqlite({ path: db }),
    {
      name: 'singleton',
      dependsOn: [RolesToken],
      start(ctx) {
        ctx.resolve(RolesToken).campaign('test:singleton');
      },
    },
  ],
});
for (const event of ['role.acquired', 'role.lost', 'role.released']) {
  host.events.on(event, (payload) => line({ event, pid: process.pid, ...payload }));
}
host.events.once('host.ready', () => line({ event: 'ready', pid: process.pid }));
process.exitCode = await runUntilSignal(host);
