import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '@agentd/core';
import { openPostgresStore } from '@agentd/store-postgres';
import { createTestSchema, probePostgres, TEST_POSTGRES_URL } from '@agentd/store-postgres/testing';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { writerHostConfig } from '../support/cli-project.js';
import { CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

const available = (await probePostgres()).available;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const T0 = 1_700_000_000_000;
const ALICE = { channel: 'telegram', id: '42' };

async function project() {
  const { schema, drop } = await createTestSchema();
  cleanup.push(drop);
  const p = tempProject({
    'agentd.config.ts': writerHostConfig('copy-source'),
    // The target's config: only the store matters to `store copy`.
    'agentd.postgres.json': JSON.stringify({
      plugins: [['@agentd/store-postgres', { url: '${DATABASE_URL}', schema }]],
    }),
    'agentd.back.json': JSON.stringify({
      plugins: [['@agentd/store-sqlite', { path: './data/back.db', backup: false }]],
    }),
  });
  symlinkSync(
    join(CORE_DIR, '../store-postgres'),
    join(p.dir, 'node_modules/@agentd/store-postgres'),
    'dir',
  );
  cleanup.push(p.cleanup);
  const cli = async (args: string[]) => {
    const run = runCli(args, p.dir, { DATABASE_URL: TEST_POSTGRES_URL });
    const code = await run.exited;
    return { code, out: run.stdout(), err: run.stderr() };
  };
  return { dir: p.dir, schema, cli };
}

/** A store with a bit of everything: every task status (held too), keys, run-at, owed replies, sessions. */
async function fill(path: string): Promise<void> {
  const store = openSqliteStore({ path });
  try {
    const t = store.tasks;
    const owner = 'old-host:1';
    await t.enqueue({ input: 'later', runAt: T0 + 3_600_000, idempotencyKey: 'k:later' }, T0);
    await t.enqueue({ input: { chat: 'hi' }, sessionKey: 's:1', replyTo: ALICE }, T0 + 1);
    await t.enqueue({ input: 'second of s:1', sessionKey: 's:1', priority: 1 }, T0 + 2);
    const done = await t.enqueue(
      { input: 'done', replyTo: ALICE, idempotencyKey: 'k:done', metadata: { a: [1, 2] } },
      T0 + 3,
    );
    await t.enqueue({ input: 'failing', maxAttempts: 1, description: 'will fail' }, T0 + 4);
    const cancelled = await t.enqueue({ input: 'cancel me', agent: 'writer' }, T0 + 5);
    await t.cancel(cancelled.task.id, T0 + 6);
    // A paused reminder: held, never claimed, and copied as held.
    const paused = await t.enqueue(
      { input: 'paused reminder', runAt: T0 + 7_200_000, idempotencyKey: 'k:paused' },
      T0 + 7,
    );
    await t.hold(paused.task.id);
    // Claim order is priority first: the priority-1 task of s:1 is held back by its session
    // (its older sibling waits), so the claims take the others in order.
    const claimed = await t.claim({ owner, leaseMs: 60_000, limit: 10, now: T0 + 10 });
    const byInput = (input: unknown) =>
      claimed.find((c) => JSON.stringify(c.input) === JSON.stringify(input))!;
    await t.complete(byInput('done').id, owner, { answer: 'ok' }, T0 + 11);
    await t.fail(byInput('failing').id, owner, { name: 'Error', message: 'no' }, { now: T0 + 12 });
    expect(done.created).toBe(true);
    await t.addDeadLetter!(
      { channel: 'telegram', key: 'tg:1', code: 'E_INVALID_INPUT', reason: 'bad', raw: '{}' },
      T0 + 13,
    );
    const session = await store.sessions.create(
      { userKey: 'telegram:42', address: ALICE, name: 'main', agent: 'writer' },
      T0 + 14,
    );
    await store.sessions.activate('telegram:42', session.id);
    await store.sessions.appendHistory(session.id, {
      role: 'user',
      content: 'hi',
      at: T0 + 15,
      taskId: done.task.id,
    });
    await store.sessions.appendHistory(session.id, {
      role: 'assistant',
      content: 'ok',
      at: T0 + 16,
    });
    await store.state.set('scheduler', 'slot:daily-report', T0 + 86_400_000);
    await store.state.set('telegram', 'offset', 1007);
  } finally {
    await store.close();
  }
}

/** A task without what a copy renumbers, for comparing stores. */
const comparable = (task: Task) => {
  const { id: _, ...rest } = task;
  return rest;
};

describe.skipIf(!available)('agentd store copy', () => {
  it('copies SQLite into PostgreSQL and back: every task, reply, session and state value', async () => {
    const p = await project();
    const sourcePath = join(p.dir, 'data/agentd.db');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(p.dir, 'data'));
    await fill(sourcePath);

    const copied = await p.cli(['store', 'copy', '--to', 'agentd.postgres.json']);
    expect(copied.err).toBe('');
    expect(copied.code).toBe(0);
    // (The target's URL is a secret option, so the CLI masks it, password or not.)
    expect(copied.out).toContain(`copying sqlite:${sourcePath} -> [redacted]?schema=${p.schema}`);
    expect(copied.out).toMatch(/tasks\s+7\s+7\n/);
    expect(copied.out).toMatch(
      / {2}pending\s+2\s+2\n {2}held\s+1\s+1\n {2}running\s+1\s+1\n {2}completed\s+1\s+1\n/,
    );
    expect(copied.out).toMatch(/sessions\s+1\s+1\n/);
    expect(copied.out).toMatch(/session history\s+2\s+2\n/);
    expect(copied.out).toMatch(/state values\s+2\s+2\n/);
    expect(copied.out).toContain('the counts match');

    const source = openSqliteStore({ path: sourcePath });
    const target = await openPostgresStore({ url: TEST_POSTGRES_URL, schema: p.schema });
    cleanup.push(
      () => target.close(),
      () => source.close(),
    );
    const all = { limit: 100, order: 'oldest' as const };
    const [from, to] = [await source.tasks.list(all), await target.tasks.list(all)];
    expect(to.map(comparable)).toEqual(from.map(comparable));
    expect(await target.tasks.countOwedReplies()).toBe(await source.tasks.countOwedReplies());
    expect(await target.tasks.countOwedReplies()).toBe(1);
    // Idempotency keys hold in the target: a re-delivery is recognised.
    const again = await target.tasks.enqueue({ input: 'done', idempotencyKey: 'k:done' }, T0 + 20);
    expect(again.created).toBe(false);
    // The session keeps its id, its activity and its history; the history's task reference
    // follows the task to its new id.
    const [session] = await target.sessions.listByUser('telegram:42');
    expect(session).toEqual(await source.sessions.get(session!.id));
    const history = await target.sessions.history(session!.id, 10);
    expect(history.map((h) => h.content)).toEqual(['hi', 'ok']);
    expect(history[0]!.taskId).toBe((await target.tasks.findByIdempotencyKey('k:done'))!.id);
    expect(await target.state.get('scheduler', 'slot:daily-report')).toBe(T0 + 86_400_000);
    expect(await target.state.get('telegram', 'offset')).toBe(1007);
    expect(await target.tasks.listDeadLetters!({})).toMatchObject([
      { channel: 'telegram', key: 'tg:1', status: 'open' },
    ]);
    // The copied session-key rule still holds: the running task of s:1 blocks its sibling.
    expect(
      (
        await target.tasks.claim({ owner: 'new', leaseMs: 1000, limit: 10, now: T0 + 3_600_001 })
      ).map((t) => t.input),
    ).toEqual(['later']);

    // A second copy into the now full store is refused; --force merges.
    const refused = await p.cli(['store', 'copy', '--to', 'agentd.postgres.json']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/already holds data; copy into an empty store, or pass --force/);
    const forced = await p.cli(['store', 'copy', '--to', 'agentd.postgres.json', '--force']);
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
    // Keyed records are kept once (the held reminder too); the four tasks without an idempotency key come again (what
    // merging another store in needs), and the second running task of session s:1 comes in
    // pending, as lease recovery would have made it.
    const merged = await target.tasks.list(all);
    expect(merged.length).toBe(11);
    expect(merged.filter((t) => t.idempotencyKey !== null).length).toBe(3);
    expect(merged.filter((t) => t.status === 'held').map((t) => t.input)).toEqual([
      'paused reminder',
    ]);
    expect((await target.tasks.counts()).running).toBe(2); // s:1 and the claim of "later" above
    expect(await target.state.list('telegram')).toEqual([{ key: 'offset', value: 1007 }]);

    // And back, from PostgreSQL into a new SQLite file.
    const back = await p.cli([
      'store',
      'copy',
      '--config',
      'agentd.postgres.json',
      '--to',
      'agentd.back.json',
    ]);
    expect(back.err).toBe('');
    expect(back.code).toBe(0);
    const returned = openSqliteStore({ path: join(p.dir, 'data/back.db') });
    cleanup.push(() => returned.close());
    const backTasks = await returned.tasks.list(all);
    // The claim above ran in the target only: compare with the target.
    expect(backTasks.map(comparable)).toEqual((await target.tasks.list(all)).map(comparable));
    expect(await returned.state.get('telegram', 'offset')).toBe(1007);
  }, 120_000);

  it('refuses to copy a store into itself, and a bad --batch, changing nothing', async () => {
    const p = await project();
    const self = await p.cli(['store', 'copy', '--to', 'agentd.config.ts']);
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/--to names the source's own config/);
    const batch = await p.cli(['store', 'copy', '--to', 'agentd.postgres.json', '--batch', '0']);
    expect(batch.code).toBe(1);
    expect(batch.err).toMatch(/--batch must be a whole number from 1 to 10000/);
  }, 60_000);
});
