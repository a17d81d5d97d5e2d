import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address, OutboundMessage } from '../contracts/channel.js';
import type { Alert } from '../contracts/notifier.js';
import { ConfigError } from '../kernel/errors.js';
import { EventBus } from '../kernel/events.js';
import { validateConfig } from '../preset/host.js';
import { ManualClock } from '../testing/manual-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { MemoryStateStore } from '../testing/memory-store.js';
import { NotificationRouter } from './router.js';
import type { NotificationRouteInput } from './routes-schema.js';

const SECRET = `whsec_${Buffer.from('a-signing-secret-of-32-bytes-ok!').toString('base64')}`;

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
const routers: NotificationRouter[] = [];

afterEach(async () => {
  for (const r of routers.splice(0)) r.stop();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A receiver on 127.0.0.1 answering `status`, or never answering with `hang`. */
async function receiver(mode: { status?: number; hang?: boolean } = {}) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (mode.hang) return;
      res.statusCode = mode.status ?? 204;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

function makeRouter(
  routes: NotificationRouteInput[],
  options: { clock?: ManualClock; state?: MemoryStateStore; timezone?: string } = {},
) {
  const log = memoryLogger();
  const clock = options.clock ?? new ManualClock(Date.parse('2026-07-01T12:00:00Z'));
  const events = new EventBus(log.logger);
  const sent: { to: Address; message: OutboundMessage }[] = [];
  const channels = {
    add() {},
    get: () => undefined,
    list: () => [],
    async send(to: Address, message: OutboundMessage) {
      sent.push({ to, message });
      return { ids: ['1'] };
    },
  };
  const router = new NotificationRouter({
    events,
    logger: log.logger,
    clock,
    timezone: options.timezone ?? 'UTC',
    state: () => options.state,
    channels: () => channels,
    answers: () => undefined,
    webhookInitialDelayMs: 20,
  });
  routers.push(router);
  for (const r of routes) router.add(r);
  const raise = (alert: Alert) => events.emit('alert', alert);
  return { router, log, clock, sent, raise, events };
}

describe('NotificationRouter', () => {
  it('routes by minimum severity, by a list of severities and by source', async () => {
    const { router, sent, raise } = makeRouter([
      { name: 'pager', minSeverity: 'error', targets: [{ channel: 'telegram', id: '1' }] },
      {
        name: 'monitor-warnings',
        severities: ['warning'],
        sources: ['monitor'],
        targets: [{ channel: 'telegram', id: 2 }],
      },
    ]);
    raise({ severity: 'info', title: 'Backup done', source: 'store' });
    raise({ severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
    raise({ severity: 'warning', title: 'Slow agent', source: 'failover' });
    raise({ severity: 'critical', title: 'All agents failed', source: 'failover' });
    await router.idle();
    expect(sent.map((s) => [s.to.id, s.message.text])).toEqual([
      ['2', '⚠️ Disk 91% full\n— monitor'],
      ['1', '🚨 All agents failed\n— failover'],
    ]);
  });

  it('writes to the log at the alert’s level', async () => {
    const { router, log, raise } = makeRouter([{ name: 'everything', targets: [{ log: true }] }]);
    raise({ severity: 'error', title: 'Reply lost', message: 'chat 42', source: 'runner' });
    await router.idle();
    const line = log.lines().find((l) => l.msg === 'NOTIFY: Reply lost');
    expect(line?.level).toBe(50);
    expect(line?.notification).toEqual({
      route: 'everything',
      source: 'runner',
      message: 'chat 42',
    });
  });

  it('posts an alert signed by the Standard Webhooks spec', async () => {
    const hook = await receiver();
    const { router, raise } = makeRouter([
      { name: 'ops', targets: [{ webhook: { url: hook.url, secret: SECRET } }] },
    ]);
    raise({ severity: 'warning', title: 'Queue deep', source: 'monitor', dedupeKey: 'q' });
    await router.idle();
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    const id = String(got!.headers['webhook-id']);
    const timestamp = String(got!.headers['webhook-timestamp']);
    // The spec by hand: HMAC-SHA256 with the base64-decoded secret over `id.timestamp.body`.
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key)
      .update(`${id}.${timestamp}.${got!.body}`)
      .digest('base64');
    expect(got!.headers['webhook-signature']).toBe(`v1,${mac}`);
    // The manual clock's time: the body's timestamp and the header agree.
    expect(timestamp).toBe(String(Date.parse('2026-07-01T12:00:00Z') / 1000));
    expect(got!.headers['content-type']).toBe('application/json');
    const payload = JSON.parse(got!.body);
    expect(payload).toMatchObject({
      type: 'notification.alert',
      data: { route: 'ops', severity: 'warning', title: 'Queue deep', source: 'monitor' },
    });
  });

  it('signs with the real time, so a receiver verifies the delivery as it comes', async () => {
    const hook = await receiver();
    const { router, raise } = makeRouter(
      [{ name: 'ops', targets: [{ webhook: { url: hook.url, secret: SECRET } }] }],
      { clock: new ManualClock(Date.now()) },
    );
    raise({ severity: 'error', title: 'Runner stalled', source: 'monitor' });
    await router.idle();
    const [got] = hook.received;
    const verified = new Webhook(SECRET).verify(got!.body, {
      'webhook-id': String(got!.headers['webhook-id']),
      'webhook-timestamp': String(got!.headers['webhook-timestamp']),
      'webhook-signature': String(got!.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ data: { title: 'Runner stalled' } });
  });

  it('retries a failing receiver with the same webhook-id, then gives up with a log line', async () => {
    const hook = await receiver({ status: 503 });
    const { router, log, raise } = makeRouter([
      { name: 'ops', targets: [{ webhook: { url: hook.url, secret: SECRET, retries: 2 } }] },
    ]);
    raise({ severity: 'error', title: 'Circuit open', source: 'failover' });
    await router.idle();
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(log.text()).toContain('could not deliver a notification to the webhook 127.0.0.1');
    expect(log.text()).not.toContain('a-signing-secret');
    expect(log.text()).not.toContain(SECRET);
  });

  it('is not blocked by a receiver that is down or hangs; other targets go on', async () => {
    const hung = await receiver({ hang: true });
    const down = await receiver();
    const downUrl = down.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const { router, sent, log, raise } = makeRouter([
      {
        name: 'all',
        targets: [
          { webhook: { url: hung.url, secret: SECRET, timeout: 1, retries: 0 } },
          { webhook: { url: downUrl, secret: SECRET, retries: 1 } },
          { channel: 'telegram', id: '7' },
        ],
      },
    ]);
    const started = performance.now();
    raise({ severity: 'critical', title: 'Disk full', source: 'monitor' });
    expect(performance.now() - started).toBeLessThan(50);
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toHaveLength(1);
    await router.idle();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(hung.received).toHaveLength(1);
    expect(log.text().match(/could not deliver a notification/g)).toHaveLength(2);
  });

  it('holds non-critical alerts in quiet hours, sends critical ones at once, and one digest after', async () => {
    // 21:00 in Berlin (UTC+2 in July).
    const clock = new ManualClock(Date.parse('2026-07-01T19:00:00Z'));
    const state = new MemoryStateStore();
    const { router, sent, raise } = makeRouter(
      [
        {
          name: 'night',
          targets: [{ channel: 'telegram', id: '9' }],
          quiet: { from: '22:00', to: '07:00', timezone: 'Europe/Berlin' },
        },
      ],
      { clock, state },
    );
    router.start();
    await clock.advance(90 * 60_000); // 22:30
    raise({ severity: 'warning', title: 'Disk 91% full', source: 'monitor' });
    raise({ severity: 'critical', title: 'Disk 99% full', source: 'monitor' });
    await clock.advance(3 * 3_600_000); // 01:30
    raise({ severity: 'error', title: 'Runner stalled', source: 'monitor' });
    await router.idle();
    expect(sent.map((s) => s.message.text)).toEqual(['🚨 Disk 99% full\n— monitor']);
    expect(await state.list('notifier', 'held:night:')).toHaveLength(2);

    await clock.advance(5.5 * 3_600_000); // 07:00
    await router.flushQuiet();
    await router.idle();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.message.text).toBe(
      '❗ 2 alerts during quiet hours\n22:30 ⚠️ Disk 91% full (monitor)\n01:30 ❗ Runner stalled (monitor)\n— notifier',
    );
    expect(await state.list('notifier', 'held:night:')).toEqual([]);
    await clock.advance(3 * 60_000);
    await router.idle();
    expect(sent).toHaveLength(2);
  });

  it('applies a route’s cooldown per dedupe key', async () => {
    const { router, clock, sent, raise } = makeRouter([
      { name: 'calm', cooldown: '10m', targets: [{ channel: 'telegram', id: '3' }] },
    ]);
    raise({ severity: 'warning', title: 'Queue deep', source: 'monitor', dedupeKey: 'queue' });
    raise({ severity: 'warning', title: 'Queue deeper', source: 'monitor', dedupeKey: 'queue' });
    raise({ severity: 'warning', title: 'Disk', source: 'monitor', dedupeKey: 'disk' });
    await clock.advance(11 * 60_000);
    raise({
      severity: 'warning',
      title: 'Queue still deep',
      source: 'monitor',
      dedupeKey: 'queue',
    });
    await router.idle();
    expect(sent.map((s) => s.message.text.split('\n')[0])).toEqual([
      '⚠️ Queue deep',
      '⚠️ Disk',
      '⚠️ Queue still deep',
    ]);
  });
});

describe('notifications config', () => {
  it('reports each mistake with its path', async () => {
    const error = await validateConfig({
      notifications: {
        routes: [
          { minSeverity: 'loud', targets: [{ log: true }] },
          { targets: [{ webhook: { url: 'ftp://x', secret: 'plain' } }], cooldown: 'soon' },
          { targets: [{ log: true }], quiet: { from: '22:00', to: '7', timezone: 'Mars/Base' } },
          { targets: [] },
        ],
      },
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toContain('notifications.routes[0].minSeverity');
    expect(issues).toContain('notifications.routes[1].targets[0]');
    expect(issues).toContain('notifications.routes[1].cooldown: "soon" is not a duration');
    expect(issues).toContain('notifications.routes[2].quiet.to: must be a time of day');
    expect(issues).toContain('notifications.routes[2].quiet.timezone: unknown time zone');
    expect(issues).toContain('notifications.routes[3].targets');
  });
});
