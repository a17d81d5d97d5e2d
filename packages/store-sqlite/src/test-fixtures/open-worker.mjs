// A separate process that opens a (possibly brand-new) database at an agreed moment, so several
// of them race on creating and migrating it, then enqueues and prints what it saw as JSON.
import { openSqliteStore } from '../../dist/index.js';

const [dbPath, name, startAt] = process.argv.slice(2);
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

const ids = [];
for (let round = 0; round < 5; round++) {
  const store = openSqliteStore({ path: dbPath });
  ids.push((await store.tasks.enqueue({ input: `${name}-${round}` }, Date.now())).task.id);
  ids.push(
    (await store.tasks.enqueue({ input: name, idempotencyKey: 'shared' }, Date.now())).task.id,
  );
  await store.close();
}
process.stdout.write(JSON.stringify({ name, ids }));
