import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@agentd/core';
import { openSqliteStore } from '@agentd/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const HOST_SCRIPT = join(here, '../support/crash-host.mjs');
// `npm run soak` raises it (500 kills); each kill-and-restart cycle takes under a second here.
const KILLS = Number(process.env.AGENTD_CRASH_KILLS ?? 50);

let dir: string;
beforeAll(() => {
  for (const pkg of ['core', 'store-sqlite']) {
    if (!existsSync(join(here, `../../packages/${pkg}/dist/index.js`))) {
      throw new Error(
        `packages/${pkg}/dist is missing: run "npm run build" (npm test does) before these tests`,
      );
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'agentd-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spawnHost(
  db: string,
  journal: string,
  workMs = 5,
): {
  child: ChildProcess;
  ready: Promise<void>;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [HOST_SCRIPT, db, journal, String(workMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.on('exit', () => reject(new Error(`host exited before ready: ${err}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, ready, stderr: () => err, exited };
}

function journalEntries(path: string): { id: string; attempt: number; pid: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety (real processes, SIGKILL)', () => {
  it(
    `loses no accepted task and never exceeds max attempts across ${KILLS} kill -9s at random moments`,
    async () => {
      const db = join(dir, 'kill.db');
      const journal = join(dir, 'kill.journal');
      const store = openSqliteStore({ path: db });
      const accepted: string[] = [];
      const enqueueSome = async (n: number) => {
        const results = await store.tasks.enqueueMany(
          Array.from({ length: n }, (_, i) => ({
            input: `t${accepted.length + i}`,
            agent: 'work',
            maxAttempts: 1000,
          })),
          Date.now(),
        );
        for (const r of results) accepted.push(r.task.id);
      };
      await enqueueSome(200);
      let killedWhileRunning = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const host = spawnHost(db, journal, 20);
        await host.ready;
        // Enqueue while the host runs, then kill it at a random moment.
        const concurrentEnqueue = enqueueSome(25);
        await sleep(Math.random() * 60);
        const running = (await store.tasks.counts()).running;
        host.child.kill('SIGKILL');
        await host.exited;
        await concurrentEnqueue;
        if (running > 0) killedWhileRunning++;
      }
      // A final host runs until everything accepted is done, then stops cleanly.
      const final = spawnHost(db, journal);
      await final.ready;
      const deadline = Date.now() + 60_000;
      while ((await store.tasks.counts()).completed < accepted.length && Date.now() < deadline)
        await sleep(50);
      final.child.kill('SIGTERM');
      expect(await final.exited).toBe(0);

      const counts = await store.tasks.counts();
      expect(counts).toEqual({
        pending: 0,
        held: 0,
        running: 0,
        completed: accepted.length,
        failed: 0,
        cancelled: 0,
      });
      const tasks = new Map<string, Task>();
      for (const t of await store.tasks.list({ limit: accepted.length + 10 })) tasks.set(t.id, t);
      const runs = new Map<string, number>();
      for (const e of journalEntries(journal)) runs.set(e.id, (runs.get(e.id) ?? 0) + 1);
      let repeated = 0;
      for (const id of accepted) {
        const task = tasks.get(id)!;
        expect(task.status).toBe('completed');
        expect(task.attempts).toBeLessThanOrEqual(task.maxAttempts);
        // The agent ran at least once; more than once only when an attempt was cut short by a kill.
        const ran = runs.get(id) ?? 0;
        expect(ran).toBeGreaterThanOrEqual(1);
        if (ran > 1) {
          repeated++;
          expect(task.attempts).toBeGreaterThanOrEqual(ran);
        }
      }
      expect(killedWhileRunning).toBeGreaterThan(KILLS / 4);
      // Kills hit running tasks, so some re-runs are expected, but only a small share.
      expect(repeated).toBeLessThan(accepted.length / 4);
      await store.close();
    },
    Math.max(300_000, KILLS * 3_000),
  );

  it('runs each task once with two hosts on one database file, without SQLITE_BUSY', async () => {
    const db = join(dir, 'shared.db');
    const journal = join(dir, 'shared.journal');
    const store = openSqliteStore({ path: db });
    const n = 2000;
    const hosts = [spawnHost(db, journal, 1), spawnHost(db, journal, 1)];
    // Enqueue once both are up: a host that started first could otherwise drain the queue
    // before the other one is ready.
    await Promise.all(hosts.map((h) => h.ready));
    await store.tasks.enqueueMany(
      Array.from({ length: n }, (_, i) => ({
        input: i,
        agent: 'work',
        sessionKey: i % 10 === 0 ? `s${i % 7}` : undefined,
      })),
      Date.now(),
    );
    const deadline = Date.now() + 60_000;
    while ((await store.tasks.counts()).completed < n && Date.now() < deadline) await sleep(50);
    for (const h of hosts) h.child.kill('SIGTERM');
    expect(await Promise.all(hosts.map((h) => h.exited))).toEqual([0, 0]);
    const entries = journalEntries(journal);
    expect(entries).toHaveLength(n);
    expect(new Set(entries.map((e) => e.id)).size).toBe(n);
    // Both hosts did real work.
    expect(new Set(entries.map((e) => e.pid)).size).toBe(2);
    for (const h of hosts) expect(h.stderr()).not.toMatch(/SQLITE_BUSY|database is locked/);
    expect((await store.tasks.counts()).completed).toBe(n);
    await store.close();
  }, 120_000);
});
