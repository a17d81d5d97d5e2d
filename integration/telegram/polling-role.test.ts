// Telegram hosts in child processes on one SQLite file and one fake Bot API: only the holder of
// the polling role calls getUpdates; when it is killed with SIGKILL, stopped, or frozen with
// SIGSTOP, another host takes over, and every message is answered exactly once.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JsonLinesChild, spawnJsonLines } from '../support/json-lines-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const TELEGRAM_HOST = join(here, '../support/telegram-host.mjs');
const USER = { id: 42, firstName: 'Alice' };
const LEASE_SECONDS = 5;

interface HostLine {
  event: 'ready' | 'role.acquired' | 'role.lost' | 'role.released';
  pid: number;
  at: number;
  role?: string;
  epoch?: number;
  reason?: string;
}

let dir: string;
const children: ChildProcess[] = [];
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  for (const pkg of ['core', 'store-sqlite', 'plugin-telegram']) {
    if (!existsSync(join(here, `../../packages/${pkg}/dist/index.js`))) {
      throw new Error(`packages/${pkg}/dist is missing: run "npm run build" before these tests`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'agentd-telegram-roles-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Telegram polling as a role', () => {
  it('polls from one host at a time and answers every message once across a SIGKILL, a stop and a freeze', async () => {
    const api = await FakeBotApi.start({ token: '4242:roles-test-token' });
    cleanups.push(() => api.close());
    const db = join(dir, 'telegram.db');
    const start = (name: string): JsonLinesChild<HostLine> => {
      const host = spawnJsonLines<HostLine>(
        TELEGRAM_HOST,
        [db, name, api.url, String(USER.id), String(LEASE_SECONDS)],
        { ...process.env, TELEGRAM_BOT_TOKEN: api.token },
      );
      children.push(host.child);
      return host;
    };
    const polls = () => api.calls.filter((c) => c.method === 'getUpdates').length;
    const texts: string[] = [];
    const send = (count: number) => {
      for (let i = 0; i < count; i++) {
        const text = `m${texts.length}`;
        texts.push(text);
        api.sendText(USER, text);
      }
    };
    const replies = () => api.messages(USER.id).map((m) => String(m.text));
    const allAnswered = () =>
      api.waitFor(
        () => texts.every((t) => replies().includes(`echo: ${t}`)),
        20_000,
        'every message answered',
      );
    const polling = (h: JsonLinesChild<HostLine>) =>
      h.waitFor((l) => l.event === 'role.acquired' && l.role === 'telegram:polling');

    // host-a starts alone and polls at once; host-b stands by.
    const a = start('host-a');
    await polling(a);
    const b = start('host-b');
    await b.waitFor((l) => l.event === 'ready');
    send(5);
    await allAnswered();
    expect(b.lines.some((l) => l.event === 'role.acquired')).toBe(false);

    // host-a dies: host-b takes over (at its next check: host-a's PID is gone).
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    const before = polls();
    send(5);
    const taken = await polling(b);
    expect(taken).toMatchObject({ epoch: 2, reason: 'holder-gone' });
    await allAnswered();
    expect(polls()).toBeGreaterThan(before);

    // host-c joins and stands by; host-b stops gracefully and hands over at once.
    const c = start('host-c');
    await c.waitFor((l) => l.event === 'ready');
    b.child.kill('SIGTERM');
    await b.waitFor((l) => l.event === 'role.released');
    expect(await b.exited).toBe(0);
    send(5);
    expect(await polling(c)).toMatchObject({ epoch: 3, reason: 'released' });
    await allAnswered();

    // host-d joins; host-c freezes (SIGSTOP) mid long poll: its process still exists, so host-d
    // waits out the lease. No long poll of host-c outlasts its lease, so none overlaps host-d's.
    const d = start('host-d');
    await d.waitFor((l) => l.event === 'ready');
    // Nothing arrives until host-d has polled, so a poll host-c left open would still be open.
    c.child.kill('SIGSTOP');
    const frozenAt = polls();
    expect(await polling(d)).toMatchObject({ epoch: 4, reason: 'expired' });
    await api.waitFor(() => polls() > frozenAt, 10_000, 'host-d to poll');
    await new Promise((r) => setTimeout(r, 200));
    send(5);
    await allAnswered();
    // host-c wakes: it finds its lease gone and stands by without polling again.
    c.child.kill('SIGCONT');
    await c.waitFor((l) => l.event === 'role.lost');
    send(2);
    await allAnswered();

    // Exactly once: one reply per message, and never two polls open at once.
    const counts = new Map<string, number>();
    for (const reply of replies()) counts.set(reply, (counts.get(reply) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(texts.length);
    expect(api.maxOpenPolls).toBe(1);
    expect(api.conflicts).toBe(0);
  });
});
