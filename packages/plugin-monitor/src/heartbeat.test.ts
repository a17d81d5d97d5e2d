// The dead man's switch against a real HTTP receiver on 127.0.0.1: /start, pings, /fail while
// /health fails (secrets masked), a receiver that is down or hangs, Uptime Kuma's push URLs, and
// a host in another process whose event loop hangs: its pings stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HealthRegistryToken, type Plugin, SecretMaskerToken } from '@agentd/core';
import { ManualClock, memoryLogger, useTestHosts } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeartbeatOptions } from './heartbeat.js';
import { settle, startRulesHost } from './rules/rules-test-support.js';

interface Ping {
  method: string;
  path: string;
  body: string;
  at: number;
}

/** A heartbeat receiver: records every request; `hang` makes it never answer. */
async function startReceiver(): Promise<{
  url: string;
  pings: Ping[];
  hang: boolean;
  next(count: number, timeoutMs?: number): Promise<Ping[]>;
}> {
  const pings: Ping[] = [];
  const receiver = {
    url: '',
    pings,
    hang: false,
    async next(count: number, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (pings.length < count) {
        if (Date.now() > until) throw new Error(`${pings.length} of ${count} pings arrived`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return pings;
    },
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      pings.push({ method: req.method ?? '', path: req.url ?? '', body, at: Date.now() });
      if (!receiver.hang) res.end('OK');
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  receiver.url = `http://127.0.0.1:${address.port}`;
  return receiver;
}

const servers: Server[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});
const { hosts, store } = useTestHosts('agentd-heartbeat-');

/** A plugin whose health check fails on demand, with a secret in its output. */
function breakable(): Plugin & { broken: boolean } {
  const plugin = {
    name: 'breakable',
    broken: false,
    register(ctx: Parameters<NonNullable<Plugin['register']>>[0]) {
      ctx.resolve(SecretMaskerToken).add('pg-password-0123456789');
      ctx.resolve(HealthRegistryToken).add({
        name: 'database',
        check: () =>
          plugin.broken
            ? {
                status: 'fail',
                output: 'cannot connect to postgres://agentd:pg-password-0123456789@db/agentd',
              }
            : { status: 'pass' },
      });
    },
  };
  return plugin;
}

async function startBeating(heartbeat: HeartbeatOptions, extra: Plugin[] = []) {
  const log = memoryLogger();
  const h = await startRulesHost(
    hosts,
    store(),
    { defaultRules: false, heartbeat },
    { logger: log.logger, plugins: extra },
    new ManualClock(),
  );
  return { ...h, log };
}

const SECRET_ID = '5f1c9a7e-23d4-4b8e-9d6a-0c3e1f2a4b5c';

describe('heartbeat (dead man switch)', () => {
  it('sends /start at boot, a ping every period, and /fail with the masked reason while /health fails', async () => {
    const receiver = await startReceiver();
    const db = breakable();
    const url = `${receiver.url}/ping/${SECRET_ID}`;
    const h = await startBeating({ url, every: '5m' }, [db]);
    await receiver.next(2);
    expect(receiver.pings.map((p) => `${p.method} ${p.path}`)).toEqual([
      `GET /ping/${SECRET_ID}/start`,
      `GET /ping/${SECRET_ID}`,
    ]);
    await h.clock.advance(4 * 60_000);
    await settle();
    expect(receiver.pings).toHaveLength(2);
    await h.clock.advance(60_000);
    await receiver.next(3);

    db.broken = true;
    await h.clock.advance(5 * 60_000);
    const [, , , fail] = await receiver.next(4);
    expect(fail?.method).toBe('POST');
    expect(fail?.path).toBe(`/ping/${SECRET_ID}/fail`);
    expect(fail?.body).toBe('database: cannot connect to postgres://agentd:[redacted]@db/agentd');

    db.broken = false;
    await h.clock.advance(5 * 60_000);
    const pings = await receiver.next(5);
    expect(pings[4]?.path).toBe(`/ping/${SECRET_ID}`);
    // The URL is a secret: no log line shows it.
    expect(JSON.stringify(h.log.lines())).not.toContain(SECRET_ID);
    expect(h.log.lines().some((l) => l.msg === 'heartbeat to [redacted] every 5m')).toBe(true);
  });

  it('never holds or crashes the host when the receiver is down or hangs, and skips rather than piles up', async () => {
    const receiver = await startReceiver();
    receiver.hang = true;
    const h = await startBeating({
      url: `${receiver.url}/${SECRET_ID}`,
      every: '1m',
      start: false,
      timeoutSeconds: 1,
    });
    await receiver.next(1);
    // Due three times while the first ping hangs: skipped, not queued.
    for (let i = 0; i < 3; i++) {
      await h.clock.advance(60_000);
      await settle();
    }
    expect(receiver.pings).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1200)); // the ping times out
    const warnings = h.log.lines().filter((l) => l.msg?.startsWith('heartbeat: could not reach'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/^heartbeat: could not reach \[redacted\] \(TimeoutError: /);
    receiver.hang = false;
    await h.clock.advance(60_000);
    await receiver.next(2);
    await settle();
    expect(h.log.lines().some((l) => l.msg === 'heartbeat: reaching [redacted] again')).toBe(true);

    // A receiver that is gone: the host goes on, quietly.
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await h.clock.advance(60_000);
    await settle();
    const report = await h.host.resolve(HealthRegistryToken).run();
    expect(report.status).not.toBe('fail');
  });

  it('speaks Uptime Kuma push URLs: status=up, and status=down with the reason', async () => {
    const receiver = await startReceiver();
    const db = breakable();
    const h = await startBeating(
      { url: `${receiver.url}/api/push/${SECRET_ID}?status=up&msg=OK&ping=`, style: 'uptime-kuma' },
      [db],
    );
    const [up] = await receiver.next(1);
    expect(up?.path).toBe(`/api/push/${SECRET_ID}?status=up&msg=OK&ping=`);
    db.broken = true;
    await h.clock.advance(5 * 60_000);
    const [, down] = await receiver.next(2);
    const query = new URL(down?.path ?? '', receiver.url).searchParams;
    expect(query.get('status')).toBe('down');
    expect(query.get('msg')).toBe(
      'database: cannot connect to postgres://agentd:[redacted]@db/agentd',
    );
  });

  it('refuses a heartbeat URL that is not http(s) and a period under a second', async () => {
    const { monitorOptionsSchema } = await import('./options.js');
    const result = monitorOptionsSchema.safeParse({
      heartbeat: { url: 'ftp://example.com/x', every: '500ms' },
    });
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort()).toEqual([
      'heartbeat.every: 500ms is out of range: at least 1s and at most 7d',
      'heartbeat.url: the heartbeat URL must be http:// or https://',
    ]);
  });

  it('stops pinging while the host process is hung, and sends one ping (not the missed ones) after', async () => {
    const receiver = await startReceiver();
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('./test-fixtures/heartbeat-host.mjs', import.meta.url)),
        `${receiver.url}/${SECRET_ID}`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    const saw = async (text: string) => {
      for (let i = 0; i < 500 && !out.includes(text); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out).toContain(text);
    };
    await saw('ready');
    await receiver.next(4, 10_000); // /start and three pings, a second apart
    child.stdin?.write('hang 4000\n');
    const hungAt = Date.now();
    await saw('unhung');
    const unhungAt = Date.now();
    await new Promise((r) => setTimeout(r, 700));
    // The loop was blocked for 4 s from about hungAt (stdin takes a moment to arrive).
    expect(unhungAt - hungAt).toBeGreaterThanOrEqual(3900);
    const during = receiver.pings.filter((p) => p.at > hungAt + 300 && p.at < hungAt + 3700);
    expect(during).toEqual([]);
    // One late ping as it wakes, not the four it missed.
    const after = receiver.pings.filter((p) => p.at >= hungAt + 3700 && p.at < unhungAt + 700);
    expect(after).toHaveLength(1);
    await receiver.next(receiver.pings.length + 1, 3000); // and beating again
    child.stdin?.write('stop\n');
    await once(child, 'exit');
  }, 30_000);
});
