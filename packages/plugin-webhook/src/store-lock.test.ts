import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agent, createHost, HttpServerToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { webhook } from './plugin.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-webhook-store-lock-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const TOKEN = 'a-long-enough-api-token-for-tests-0123456789';
// Another process that takes the database's write lock (BEGIN IMMEDIATE) and holds it.
const HOLD_LOCK = fileURLToPath(
  new URL('../../store-sqlite/src/test-fixtures/hold-lock.mjs', import.meta.url),
);

describe('the host while another process holds the store write lock', () => {
  it('keeps answering /live at once, and the API write that waited succeeds after the release', async () => {
    const path = join(dir, 'agentd.db');
    const ran: unknown[] = [];
    const host = createHost({
      logger: memoryLogger().logger,
      agents: [agent('echo', (input) => void ran.push(input))],
      runner: { pollMs: 50 },
      plugins: [
        sqlite({ path, busyTimeoutMs: 15_000, backup: false }),
        webhook({ port: 0, api: { token: TOKEN } }),
      ],
    });
    await host.start();
    const url = host.resolve(HttpServerToken).address!.url;
    try {
      const child = spawn(process.execPath, [HOLD_LOCK, path, '5000'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const lockedAt = Date.now();
      const write = fetch(`${url}/api/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'waited for the lock' }),
      });
      const live: number[] = [];
      while (Date.now() - lockedAt < 4000) {
        const t0 = performance.now();
        const res = await fetch(`${url}/live`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        live.push(performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const created = await write;
      expect(await exited).toBe(0);
      // The write waited for the lock to go: it could not have been answered before.
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(4500);
      expect(created.status).toBe(201);
      // A blocked event loop would hold every /live for the whole 5 s lock. Room is left for a
      // machine loaded by other test runs; on an idle one every answer takes a few ms.
      const sorted = [...live].sort((a, b) => a - b);
      expect(sorted.length).toBeGreaterThan(20);
      expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(100);
      expect(sorted.at(-1)).toBeLessThan(1000);
      await expect.poll(() => ran, { timeout: 10_000 }).toEqual(['waited for the lock']);
    } finally {
      await host.stop();
    }
  }, 40_000);
});
