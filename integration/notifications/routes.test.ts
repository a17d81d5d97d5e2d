// Notification routes as a user configures them: by severity and source to Telegram chats
// (through the fake Bot API server and the reply outbox), to a Standard Webhooks receiver on
// 127.0.0.1, to the log; quiet hours held in a real SQLite file across a restart.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, type Host, NotifierToken } from '@agentd/core';
import type { NotificationsConfig } from '@agentd/core/host';
import { ManualClock, memoryLogger } from '@agentd/core/testing';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { sqlite } from '@agentd/store-sqlite';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';

const SECRET = `whsec_${Buffer.from('integration-signing-secret-32byt').toString('base64')}`;
const OPS = 1001;
const REPORTS = 1002;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received };
}

async function startHost(options: {
  api: FakeBotApi;
  dir: string;
  notifications: NotificationsConfig;
  clock?: ManualClock;
  alerts?: { chats: number[] };
}): Promise<{ host: Host; logs: () => string }> {
  const log = memoryLogger();
  const host = createHost({
    logger: log.logger,
    ...(options.clock && { clock: options.clock }),
    runner: { pollMs: 20 },
    timeouts: { drainMs: 5000, stopMs: 5000 },
    notifications: options.notifications,
    plugins: [
      sqlite({ path: join(options.dir, 'agentd.db') }),
      telegram({
        token: options.api.token,
        apiRoot: options.api.url,
        allowedUsers: [OPS],
        pollTimeoutSeconds: 1,
        ...(options.alerts && { alerts: options.alerts }),
      }),
    ],
  });
  await host.start();
  return { host, logs: log.text };
}

async function fixture() {
  const api = await FakeBotApi.start({ token: '5151:routes-token' });
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'agentd-routes-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { api, dir };
}

describe('notification routes', () => {
  it('routes by severity and source to Telegram chats, a signed webhook and the log', async () => {
    const { api, dir } = await fixture();
    const hook = await receiver();
    const { host, logs } = await startHost({
      api,
      dir,
      notifications: {
        routes: [
          { name: 'pager', minSeverity: 'error', targets: [{ channel: 'telegram', id: OPS }] },
          {
            name: 'reports',
            sources: ['report'],
            targets: [{ channel: 'telegram', id: String(REPORTS) }],
          },
          {
            name: 'ops-hook',
            minSeverity: 'warning',
            targets: [{ webhook: { url: hook.url, secret: SECRET } }, { log: true }],
          },
        ],
      },
    });
    cleanups.push(() => host.stop('test end'));
    const notifier = host.resolve(NotifierToken);
    await notifier.notify({ severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
    await notifier.notify({
      severity: 'critical',
      title: 'Runner stalled',
      message: '12 tasks wait',
      source: 'monitor',
    });
    // A notice that is not an alert: the daily report goes through the same call.
    await notifier.notify({
      severity: 'info',
      title: 'Daily report',
      message: 'tasks: 40 completed, 1 failed',
      source: 'report',
      dedupeKey: 'report:2026-12-03',
    });

    const [paged] = await api.waitForMessages(1, { chatId: OPS });
    expect(paged?.text).toBe('🚨 Runner stalled\n12 tasks wait\n— monitor');
    const [report] = await api.waitForMessages(1, { chatId: REPORTS });
    expect(report?.text).toBe('ℹ️ Daily report\ntasks: 40 completed, 1 failed\n— report');

    await expect.poll(() => hook.received.length).toBe(2);
    const verifier = new Webhook(SECRET);
    const payloads = hook.received.map(({ headers, body }) =>
      verifier.verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }),
    );
    expect(payloads).toEqual([
      expect.objectContaining({
        type: 'notification.alert',
        data: expect.objectContaining({ title: 'Disk 91% full' }),
      }),
      expect.objectContaining({
        data: expect.objectContaining({ title: 'Runner stalled', route: 'ops-hook' }),
      }),
    ]);
    expect(logs()).toContain('NOTIFY: Disk 91% full');
    expect(logs()).not.toContain(SECRET);
    // Only what the routes asked for: nothing else reached the chats.
    await new Promise((r) => setTimeout(r, 100));
    expect(api.messages(OPS)).toHaveLength(1);
    expect(api.messages(REPORTS)).toHaveLength(1);
  });

  it('keeps the alerts held in quiet hours across a restart and sends one digest after', async () => {
    const { api, dir } = await fixture();
    const notifications: NotificationsConfig = {
      routes: [
        {
          name: 'night',
          targets: [{ channel: 'telegram', id: OPS }],
          quiet: { from: '22:00', to: '07:00', timezone: 'UTC' },
        },
      ],
    };
    const clock = new ManualClock(Date.parse('2026-12-02T23:00:00Z'));
    const first = await startHost({ api, dir, notifications, clock });
    const notifier = first.host.resolve(NotifierToken);
    await notifier.notify({ severity: 'warning', title: 'Queue deep', source: 'monitor' });
    await notifier.notify({ severity: 'critical', title: 'Disk 99% full', source: 'monitor' });
    const [critical] = await api.waitForMessages(1, { chatId: OPS });
    expect(critical?.text).toBe('🚨 Disk 99% full\n— monitor');
    // (The clock is not advanced: the runner's 20 ms polls would fire for every step of it.)
    await notifier.notify({ severity: 'error', title: 'Channel failing', source: 'monitor' });
    await first.host.stop('restart');

    // The host comes back after quiet hours ended: the held alerts arrive as one message.
    const later = new ManualClock(Date.parse('2026-12-03T07:30:00Z'));
    const second = await startHost({ api, dir, notifications, clock: later });
    cleanups.push(() => second.host.stop('test end'));
    const messages = await api.waitForMessages(2, { chatId: OPS });
    expect(messages[1]?.text).toBe(
      '❗ 2 alerts during quiet hours\n23:00 ⚠️ Queue deep (monitor)\n23:00 ❗ Channel failing (monitor)\n— notifier',
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(api.messages(OPS)).toHaveLength(2);
  });

  it('keeps Telegram’s alerts: { chats } working as a route next to the configured ones', async () => {
    const { api, dir } = await fixture();
    const { host } = await startHost({
      api,
      dir,
      alerts: { chats: [OPS] },
      notifications: {
        routes: [
          { name: 'reports', sources: ['report'], targets: [{ channel: 'telegram', id: REPORTS }] },
        ],
      },
    });
    cleanups.push(() => host.stop('test end'));
    const notifier = host.resolve(NotifierToken);
    await notifier.notify({ severity: 'info', title: 'Backup done', source: 'store' });
    await notifier.notify({ severity: 'warning', title: 'Memory 88%', source: 'monitor' });
    await notifier.notify({ severity: 'info', title: 'Daily report', source: 'report' });
    const [warned] = await api.waitForMessages(1, { chatId: OPS });
    expect(warned?.text).toBe('⚠️ Memory 88%\n— monitor');
    await api.waitForMessages(1, { chatId: REPORTS });
    await new Promise((r) => setTimeout(r, 100));
    expect(api.messages(OPS)).toHaveLength(1);
  });
});
