// A separate process that writes tasks through every counted path until it is killed: batches
// of mixed priorities (some tasks with idempotency keys, some keys repeated), single enqueues,
// claims, completions, failures and cancellations. Prints "ready" once it has written. The test
// kills it with SIGKILL mid-write and checks what `stats()` reads against a count of the rows.
// Imports the built package: tests run after `npm run build`.
import { openSqliteStore } from '../../dist/index.js';

const [dbPath, name] = process.argv.slice(2);
const store = openSqliteStore({ path: dbPath });
let round = 0;
for (;;) {
  round++;
  const size = 1 + Math.floor(Math.random() * 3000);
  await store.tasks.enqueueMany(
    Array.from({ length: size }, (_, i) => ({
      input: i,
      priority: i % 4,
      // Keys repeat across rounds: some of these tasks exist already and are not created again.
      ...(i % 97 === 0 ? { idempotencyKey: `${name}-${i % 5}-${round % 3}` } : {}),
    })),
    Date.now(),
  );
  await store.tasks.enqueue({ input: round, priority: round % 4 }, Date.now());
  const claimed = await store.tasks.claim({
    owner: name,
    leaseMs: 60_000,
    limit: 50,
    now: Date.now(),
  });
  for (const [i, task] of claimed.entries()) {
    if (i % 5 === 0)
      await store.tasks.fail(task.id, name, { name: 'E', message: 'x' }, { now: Date.now() });
    else if (i % 7 === 0) await store.tasks.cancel(task.id, Date.now());
    else await store.tasks.complete(task.id, name, null, Date.now());
  }
  if (round === 1) process.stdout.write('ready\n');
}
