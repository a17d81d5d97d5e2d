import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type JsonLinesChild, spawnJsonLines } from '../support/json-lines-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const HOST = join(here, '../support/pause-host.mjs');
const dir = mkdtempSync(join(tmpdir(), 'agentd-pause-'));
const children: JsonLinesChild<{ url: string }>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(db: string) {
  const host = spawnJsonLines<{ url: string }>(HOST, [db]);
  children.push(host);
  const { url } = await host.waitFor((l) => typeof l.url === 'string', 30_000);
  const me = await fetch(`${url}/dashboard/api/me`);
  const { csrf } = (await me.json()) as { csrf: string };
  const post = (path: string) =>
    fetch(`${url}/dashboard/api${path}`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: '{}',
    });
  return { host, url, post };
}

/** The slots (epoch ms) of the schedule's tasks in the SQLite file, read beside the host. */
async function firedSlots(db: string): Promise<number[]> {
  const store = openSqliteStore({ path: db });
  try {
    const tasks = await store.tasks.list({ type: 'schedule', order: 'oldest', limit: 10_000 });
    return tasks.map((t) => Date.parse(String(t.metadata.slot))).filter((s) => !Number.isNaN(s));
  } finally {
    await store.close();
  }
}

describe('a paused schedule (real processes, SIGKILL)', () => {
  it('stays paused through a kill -9 and a restart, fires nothing meanwhile, and resumes without catch-up', {
    timeout: 90_000,
  }, async () => {
    const db = join(dir, 'pause.db');
    const first = await start(db);
    await expect
      .poll(async () => (await firedSlots(db)).length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    const paused = await first.post('/schedules/every-second/pause');
    expect(paused.status).toBe(200);
    const pausedAt = ((await paused.json()) as { schedule: { pausedAt: number } }).schedule
      .pausedAt;
    // Killed right after the answer: the pause must already be in the file.
    first.host.child.kill('SIGKILL');
    await first.host.exited;
    const beforeRestart = await firedSlots(db);

    await sleep(2500);
    const second = await start(db);
    await sleep(2500);
    // Nothing fired while paused: not on time, not as catch-up of the downtime (policy `all`).
    expect(await firedSlots(db)).toEqual(beforeRestart);
    expect(beforeRestart.every((slot) => slot <= pausedAt)).toBe(true);
    const listed = await fetch(`${second.url}/dashboard/api/schedules`);
    const { schedules } = (await listed.json()) as {
      schedules: { name: string; pausedAt: number | null }[];
    };
    expect(schedules.find((s) => s.name === 'every-second')?.pausedAt).toBe(pausedAt);

    const resumed = await second.post('/schedules/every-second/resume');
    expect(resumed.status).toBe(200);
    const resumedAt = Date.now();
    await expect
      .poll(async () => (await firedSlots(db)).length, { timeout: 15_000 })
      .toBeGreaterThan(beforeRestart.length);
    const after = (await firedSlots(db)).slice(beforeRestart.length);
    // Only slots from the resume on: the paused seconds (several) were not caught up.
    expect(after.every((slot) => slot >= resumedAt - 1500)).toBe(true);
    expect(after.length).toBeLessThan(8);
  });
});
