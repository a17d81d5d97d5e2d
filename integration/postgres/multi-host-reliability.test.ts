import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NewTask, Task } from '@agentd/core';
import { openPostgresStore, type PostgresStore } from '@agentd/store-postgres';
import {
  type PrivateCluster,
  probePrivateCluster,
  startPrivateCluster,
} from '@agentd/store-postgres/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JournalEntry,
  journalEntries,
  roleHoldings,
  roleWorkEpochs,
  roleWorkOverlaps,
  sessionOrderViolations,
} from './reliability-journal.js';

// Three real host processes on one PostgreSQL database, killed with SIGKILL at random moments
// and restarted, while the database itself is crashed and restarted once. A server of this
// test's own (it is crashed; the shared one on 5432 must never be).
// By default 10,000 tasks and 15 kills (about two minutes on two cores); `npm run soak:postgres`
// runs the soak: 60 kills (AGENTD_PG_RELIABILITY_TASKS and _KILLS scale either).
const TASKS = Number(process.env.AGENTD_PG_RELIABILITY_TASKS ?? 10_000);
const KILLS = Number(
  process.env.AGENTD_PG_RELIABILITY_KILLS ?? Math.max(10, Math.round(TASKS / 650)),
);
const SESSIONS = 20;
const HOSTS = 3;
/** The hosts' `runner.leaseMs` (see pg-reliability-host.mjs). */
const LEASE_MS = 1500;
const here = dirname(fileURLToPath(import.meta.url));
const HOST_SCRIPT = join(here, '../support/pg-reliability-host.mjs');
const available = probePrivateCluster().available;

let cluster: PrivateCluster;
let dir: string;
beforeAll(async () => {
  for (const pkg of ['core', 'store-postgres']) {
    if (!existsSync(join(here, `../../packages/${pkg}/dist/index.js`))) {
      throw new Error(`packages/${pkg}/dist is missing: run "npm run build" before these tests`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'agentd-pg-reliability-'));
  if (available) cluster = await startPrivateCluster();
}, 60_000);
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The journal's clock, shared by every process on the machine: CLOCK_MONOTONIC (process.hrtime).
// Not performance.timeOrigin + now(): each process maps its own start to the wall clock once, and
// a process descheduled at that moment (a loaded machine) reads tens of ms off the others, which
// made two runs of one session look overlapped when they were not.
const now = () => Number(process.hrtime.bigint()) / 1e6;

interface HostProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | string | null>;
  /** What the host printed (its error log lines go to stdout), the last few KB. */
  output: () => string;
}

function spawnHost(schema: string, journal: string): HostProcess {
  const child = spawn(process.execPath, [HOST_SCRIPT, cluster.url, schema, journal], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
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
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ?? code);
    }),
  );
  return { child, ready, exited, output: () => `${out.slice(-3000)}${err.slice(-3000)}` };
}

/** The test's tasks: one in five in one of SESSIONS sessions, numbered in each in enqueue order. */
function newTask(i: number): NewTask {
  const session = i % 5 === 0 ? `s${(i / 5) % SESSIONS}` : undefined;
  return {
    input: { i },
    agent: 'work',
    idempotencyKey: `reliability:${i}`,
    maxAttempts: 1000,
    ...(session && { sessionKey: session }),
  };
}

describe.skipIf(!available)('three hosts on one PostgreSQL database (kill -9s, a restart)', () => {
  it(
    `runs ${TASKS} tasks exactly once across ${KILLS} kill -9s and a PostgreSQL restart`,
    async () => {
      const schema = 'reliability';
      const journal = join(dir, 'runs.jsonl');
      const store: PostgresStore = await openPostgresStore({
        url: cluster.url,
        schema,
        pool: { max: 2, connectionTimeoutMillis: 1000 },
      });
      const hosts: HostProcess[] = [];
      for (let h = 0; h < HOSTS; h++) hosts.push(spawnHost(schema, journal));
      await Promise.all(hosts.map((h) => h.ready));
      const startedAt = now();

      // Intake: batches of 100, each retried (with the same idempotency keys) until it is
      // accepted, the way a sender retries a 503. What was accepted must all complete.
      // Paced by the kills, so that intake goes on through the chaos, and free-running while
      // the database is down: what it sends then is refused, and sent again.
      const accepted = new Set<number>();
      let refusals = 0;
      let databaseDown = false;
      const kills: { pid: number; at: number }[] = [];
      const batches = Math.ceil(TASKS / 100);
      const intake = (async () => {
        for (let i = 0; i < TASKS; i += 100) {
          while (!databaseDown && kills.length < ((i / 100) * KILLS) / batches) await sleep(20);
          const batch = Array.from({ length: Math.min(100, TASKS - i) }, (_, k) => i + k);
          for (;;) {
            try {
              await store.tasks.enqueueMany!(batch.map(newTask), Date.now());
              for (const n of batch) accepted.add(n);
              break;
            } catch {
              refusals++;
              await sleep(200);
            }
          }
          await sleep(5);
        }
      })();

      // Chaos: a random host killed with SIGKILL every so often and started again at once;
      // the database crashed (immediate stop) and started again halfway through the kills.
      let restartedAt = 0;
      const outage = { from: 0, to: 0 };
      for (let k = 0; k < KILLS; k++) {
        await sleep(200 + Math.random() * 600);
        if (k === Math.floor(KILLS / 2)) {
          restartedAt = now();
          outage.from = now();
          await cluster.stop('immediate');
          databaseDown = true;
          await sleep(1500);
          await cluster.start();
          outage.to = now();
          databaseDown = false;
        }
        const victim = Math.floor(Math.random() * HOSTS);
        const host = hosts[victim]!;
        const pid = host.child.pid!;
        const at = now();
        host.child.kill('SIGKILL');
        expect(await host.exited).toBe('SIGKILL');
        kills.push({ pid, at });
        hosts[victim] = spawnHost(schema, journal);
        await hosts[victim]!.ready;
      }
      await intake;
      const chaosEndedAt = now();

      // The survivors run until everything accepted is done, then stop cleanly.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const counts = await store.tasks.counts();
        if (counts.pending === 0 && counts.running === 0) break;
        await sleep(200);
      }
      await sleep(2500); // a few more schedule slots with no chaos
      for (const h of hosts) h.child.kill('SIGTERM');
      const exitCodes = await Promise.all(hosts.map((h) => h.exited));
      // A host that did not stop cleanly says why in its output.
      expect(exitCodes, hosts.map((h) => h.output()).join('\n---\n')).toEqual(
        Array.from({ length: HOSTS }, () => 0),
      );
      const endedAt = now();

      const tasks: Task[] = await store.tasks.list({ limit: TASKS * 10 });
      const entries: JournalEntry[] = journalEntries(journal);
      const counts = await store.tasks.counts();
      await store.close();

      // Nothing accepted was lost, and nothing was stored twice.
      expect(accepted.size).toBe(TASKS);
      expect(refusals).toBeGreaterThan(0);
      expect(counts).toMatchObject({ pending: 0, running: 0, failed: 0, cancelled: 0 });
      const byKey = new Map<string, Task>();
      for (const t of tasks) {
        expect(byKey.has(t.idempotencyKey!)).toBe(false);
        if (t.idempotencyKey) byKey.set(t.idempotencyKey, t);
      }
      const ours = tasks.filter((t) => t.idempotencyKey?.startsWith('reliability:'));
      expect(ours).toHaveLength(TASKS);
      expect(counts.completed).toBe(tasks.length);

      // Every task completed exactly once: a run started again only when a kill cut an
      // attempt (no `done` line for it), and the last attempt finished.
      const runs = new Map<string, JournalEntry[]>();
      for (const e of entries) {
        if (e.kind !== 'start' && e.kind !== 'done' && e.kind !== 'failed') continue;
        runs.set(e.id!, [...(runs.get(e.id!) ?? []), e]);
      }
      // A run cut by a kill: its host was killed after it started.
      const killedAt = new Map(kills.map((k) => [k.pid, k.at]));
      const cutByKill = (run: JournalEntry) => (killedAt.get(run.pid) ?? 0) > run.at;
      // A run that finished while the database was down (or its connections were still being
      // re-made) could not store its completion: its lease ran out and the task ran again.
      const completionLost = (run: JournalEntry) =>
        run.at >= outage.from - 500 && run.at <= outage.to + 3 * LEASE_MS;
      let rerun = 0;
      let rerunAfterOutage = 0;
      for (const t of tasks) {
        const lines = runs.get(t.id) ?? [];
        const finished = lines.filter((e) => e.kind === 'done');
        const started = lines.filter((e) => e.kind === 'start');
        expect(started.length, `task ${t.idempotencyKey} never ran`).toBeGreaterThanOrEqual(1);
        // At most one finished run, or more only if all but the last were cut short: by a kill
        // (finished, but killed before the completion was stored), or by the outage.
        for (const run of finished.slice(0, -1)) {
          if (completionLost(run)) rerunAfterOutage++;
          else expect(cutByKill(run), `${t.idempotencyKey}: ${JSON.stringify(lines)}`).toBe(true);
        }
        for (const run of started) {
          const finishedToo = finished.some((f) => f.pid === run.pid && f.attempt === run.attempt);
          if (!finishedToo) expect(cutByKill(run), JSON.stringify(lines)).toBe(true);
        }
        if (started.length > 1) rerun++;
        expect(t.status).toBe('completed');
      }

      // Each session's tasks ran in enqueue order, one at a time.
      const sessionOf = new Map(
        tasks.filter((t) => t.sessionKey).map((t) => [t.id, t.sessionKey!] as const),
      );
      // Our tasks in enqueue order; the schedule's (it queues overlapping slots in a session of
      // its own) in slot order.
      const order = new Map(
        tasks.map((t) => {
          const key = t.idempotencyKey ?? '';
          const slot = key.startsWith('schedule:tick:') ? Date.parse(key.slice(14)) : undefined;
          return [t.id, slot ?? (t.input as { i: number }).i] as const;
        }),
      );
      const killTimes = kills.map((k) => `${k.pid}@${(k.at - startedAt).toFixed(0)}`).join(' ');
      expect(
        sessionOrderViolations(entries, sessionOf, order),
        `kills ${killTimes}; database down at ${(restartedAt - startedAt).toFixed(0)}`,
      ).toEqual([]);

      // Each cron slot fired once: one task per slot, with no slot left out between the first
      // and the last (missed: 'all' catches up on slots missed while the database was down).
      const slots = tasks
        .filter((t) => t.idempotencyKey?.startsWith('schedule:tick:'))
        .map((t) => Date.parse(t.idempotencyKey!.slice('schedule:tick:'.length)))
        .sort((a, b) => a - b);
      expect(new Set(slots).size).toBe(slots.length);
      expect(slots.length).toBeGreaterThan((chaosEndedAt - startedAt) / 2000);
      const gaps = slots.slice(1).filter((s, i) => s - slots[i]! !== 1000);
      expect(gaps).toEqual([]);

      // The polling role: its work done by at most one host at any time, and handed over.
      const holdings = roleHoldings(entries, kills, 'test:polling', endedAt);
      expect(
        roleWorkOverlaps(entries, 'test:polling'),
        `holdings by the events: ${JSON.stringify(holdings)}`,
      ).toEqual([]);
      expect(roleWorkEpochs(entries, 'test:polling').length).toBeGreaterThan(1);

      expect(restartedAt).toBeGreaterThan(0);
      console.info(
        `reliability: ${TASKS} tasks, ${KILLS} kills, ${refusals} refused batches, ` +
          `${rerun} tasks run again (${rerunAfterOutage} of them after the outage), ${slots.length} schedule slots, ` +
          `${roleWorkEpochs(entries, 'test:polling').length} role holdings, ${((endedAt - startedAt) / 1000).toFixed(1)} s`,
      );
    },
    Math.max(300_000, KILLS * 6_000 + TASKS * 30),
  );
});
