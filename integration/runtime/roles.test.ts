import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestSchema,
  probePostgres,
  TEST_POSTGRES_URL,
} from '../../packages/store-postgres/src/test-database.js';
import { type JsonLinesChild, spawnJsonLines } from '../support/json-lines-child.js';

// Real hosts in real processes on one store (a SQLite file; a PostgreSQL schema where a server
// answers), each campaigning for one role: the holder is killed with SIGKILL, frozen with
// SIGSTOP, or stopped with SIGTERM, and another takes over.
const here = dirname(fileURLToPath(import.meta.url));
const ROLE_HOST = join(here, '../support/role-host.mjs');
const LEASE_SECONDS = 2;
const LEASE_MS = LEASE_SECONDS * 1000;
const CHECK_MS = LEASE_MS / 10;
/** Room for process scheduling on a busy machine. */
const SLACK_MS = 700;

interface RoleLine {
  event: 'ready' | 'role.acquired' | 'role.lost' | 'role.released';
  pid: number;
  at: number;
  role?: string;
  holder?: string;
  epoch?: number;
  reason?: string;
  previous?: string;
  by?: string;
}

type RoleHost = JsonLinesChild<RoleLine>;

let dir: string;
let db: string;
let count = 0;
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const pkg of ['core', 'store-sqlite', 'store-postgres']) {
    if (!existsSync(join(here, `../../packages/${pkg}/dist/index.js`))) {
      throw new Error(`packages/${pkg}/dist is missing: run "npm run build" before these tests`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'agentd-roles-'));
});
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startHost(name: string): RoleHost {
  const host = spawnJsonLines<RoleLine>(ROLE_HOST, [db, name, String(LEASE_SECONDS)]);
  children.push(host.child);
  return host;
}

const acquired = (line: RoleLine) => line.event === 'role.acquired';

/** Starts a holder and two standbys; resolves once all three are ready and the first holds. */
async function threeHosts(store: StoreKind): Promise<[RoleHost, RoleHost, RoleHost]> {
  db = await store.open();
  const holder = startHost('host-a');
  await holder.waitFor(acquired);
  const standbys = [startHost('host-b'), startHost('host-c')];
  await Promise.all(standbys.map((h) => h.waitFor((l) => l.event === 'ready')));
  // A few checks pass: the standbys have seen the holder renew.
  await new Promise((r) => setTimeout(r, 3 * CHECK_MS));
  for (const h of standbys) expect(h.lines.filter(acquired)).toEqual([]);
  return [holder, standbys[0]!, standbys[1]!];
}

/**
 * Freezes `host` (SIGSTOP) between two of its writes. A process frozen inside a SQLite write
 * transaction keeps the file's write lock, and then no process can write the file at all until
 * it goes on or dies (SQLite's one-writer limit, the same for every user of the file, which roles
 * cannot work around); the test is of the role's handover, so it freezes the holder again when
 * the first freeze caught it inside a write.
 */
async function freezeBetweenWrites(host: RoleHost, store: StoreKind): Promise<number> {
  for (;;) {
    const at = Date.now();
    host.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5));
    if (!store.writeLocked?.(db)) return at;
    host.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The one standby that took the role (failing if both or neither did). */
async function takeover(standbys: RoleHost[]): Promise<RoleLine> {
  const line = await Promise.race(standbys.map((h) => h.waitFor(acquired)));
  // The other one keeps standing by for a while.
  await new Promise((r) => setTimeout(r, 4 * CHECK_MS));
  expect(standbys.flatMap((h) => h.lines.filter(acquired))).toEqual([line]);
  return line;
}

interface StoreKind {
  name: string;
  /** A fresh store for one test: a SQLite path, or `postgres://...#schema`. */
  open(): Promise<string>;
  /** Whether a connection holds the store's write lock now (SQLite: one writer per file). */
  writeLocked?(db: string): boolean;
}

const STORES: StoreKind[] = [
  {
    name: 'one SQLite file',
    open: async () => join(dir, `roles-${++count}.db`),
    writeLocked(path) {
      const probe = new Database(path, { timeout: 0 });
      try {
        probe.exec('BEGIN IMMEDIATE');
        probe.exec('ROLLBACK');
        return false;
      } catch (error) {
        if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
        throw error;
      } finally {
        probe.close();
      }
    },
  },
];
if ((await probePostgres()).available) {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  STORES.push({
    name: 'one PostgreSQL schema',
    async open() {
      const { schema, drop } = await createTestSchema();
      drops.push(drop);
      return `${TEST_POSTGRES_URL}#${schema}`;
    },
  });
}

describe.each(STORES)('roles across processes on $name', (store) => {
  it('hands the role of a holder killed with SIGKILL to exactly one standby within one lease', async () => {
    const [a, b, c] = await threeHosts(store);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    const taken = await takeover([b, c]);
    // On the same machine the dead PID is noticed at the next check; elsewhere within a lease.
    expect(taken.at - killedAt).toBeLessThanOrEqual(LEASE_MS + CHECK_MS + SLACK_MS);
    expect(taken).toMatchObject({ role: 'test:singleton', epoch: 2, reason: 'holder-gone' });
    expect(taken.previous).toMatch(/^host-a:/);
  });

  it('hands the role of a frozen holder (SIGSTOP) over after its lease; the holder learns it lost', async () => {
    const [a, b, c] = await threeHosts(store);
    const frozenAt = await freezeBetweenWrites(a, store);
    const taken = await takeover([b, c]);
    // The holder's process still exists: the standby waits until the record stood still a lease.
    expect(taken).toMatchObject({ epoch: 2, reason: 'expired' });
    expect(taken.at - frozenAt).toBeGreaterThanOrEqual(LEASE_MS - LEASE_MS / 3 - CHECK_MS);
    expect(taken.at - frozenAt).toBeLessThanOrEqual(LEASE_MS + 2 * CHECK_MS + SLACK_MS);
    a.child.kill('SIGCONT');
    const lost = await a.waitFor((l) => l.event === 'role.lost');
    expect(lost).toMatchObject({ role: 'test:singleton', epoch: 1 });
    expect(['taken', 'expired']).toContain(lost.reason);
    // It stands by now: the role stays where it is.
    await new Promise((r) => setTimeout(r, LEASE_MS));
    expect(a.lines.filter(acquired)).toHaveLength(1);
  });

  it('hands the role over within one check when the holder stops gracefully', async () => {
    const [a, b, c] = await threeHosts(store);
    a.child.kill('SIGTERM');
    const released = await a.waitFor((l) => l.event === 'role.released');
    expect(released).toMatchObject({ role: 'test:singleton', epoch: 1 });
    expect(await a.exited).toBe(0);
    const taken = await takeover([b, c]);
    expect(taken).toMatchObject({ epoch: 2, reason: 'released' });
    expect(taken.at - released.at).toBeLessThanOrEqual(CHECK_MS + SLACK_MS);
  });
});
