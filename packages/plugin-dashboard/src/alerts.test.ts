import { raiseAlert } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { RECENT_ALERTS } from './api-alerts.js';
import { csrfOf, DASHBOARD_TOKEN, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-alerts-');

interface AlertsBody {
  alerts: { id: string; title: string; message: string | null; acknowledgedAt: number | null }[];
  open: number;
  alert?: { id: string; acknowledgedAt: number | null };
  error?: { code: string };
}

async function call(url: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}/dashboard/api${path}`, init);
  return { status: response.status, body: (await response.json()) as AlertsBody };
}

describe('the alerts page API', () => {
  it('lists the alerts raised on the bus, newest first, masked; acknowledging one changes it once', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    // The seeded host raised its own (the failed task's) alerts already.
    const before = (await call(seeded.url, '/alerts')).body.open;
    const events = seeded.host.events;
    await raiseAlert(undefined, events, {
      severity: 'warning',
      source: 'monitor',
      title: 'Disk 91% full',
      message: '/var has 2 GB left',
    });
    await raiseAlert(undefined, events, {
      severity: 'critical',
      source: 'runner',
      title: `Agent refused the key ${SEEDED_SECRET}`,
    });
    const listed = await call(seeded.url, '/alerts');
    expect(listed.status).toBe(200);
    expect(listed.body.open).toBe(before + 2);
    expect(listed.body.alerts.slice(0, 2).map((a) => a.title)).toEqual([
      expect.stringContaining('Agent refused the key'),
      'Disk 91% full',
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(SEEDED_SECRET);

    const csrf = await csrfOf(seeded.url);
    const disk = listed.body.alerts[1]!;
    const ack = await call(seeded.url, `/alerts/${disk.id}/acknowledge`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(ack.status).toBe(200);
    const first = ack.body.alert?.acknowledgedAt;
    expect(first).toBeGreaterThan(0);
    const again = await call(seeded.url, `/alerts/${disk.id}/acknowledge`, {
      method: 'POST',
      headers: { 'x-agentd-csrf': csrf, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(again.body.alert?.acknowledgedAt).toBe(first);
    expect((await call(seeded.url, '/alerts')).body.open).toBe(before + 1);
  });

  it('refuses unknown ids and requests without the CSRF header, changing nothing', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    await raiseAlert(undefined, seeded.host.events, {
      severity: 'error',
      source: 'test',
      title: 'one',
    });
    const {
      alerts: [alert],
      open,
    } = (await call(seeded.url, '/alerts')).body;
    const csrf = await csrfOf(seeded.url);
    const post = (id: string, headers: Record<string, string>) =>
      call(seeded.url, `/alerts/${encodeURIComponent(id)}/acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    for (const id of ['nope', '__proto__', 'x'.repeat(3000), `${alert!.id} `]) {
      const answer = await post(id, { 'x-agentd-csrf': csrf });
      expect([404, 414, 431]).toContain(answer.status);
    }
    expect((await post(alert!.id, {})).status).toBe(403);
    expect((await post(alert!.id, { 'x-agentd-csrf': 'forged' })).status).toBe(403);
    expect((await call(seeded.url, '/alerts')).body.open).toBe(open);
  });

  it(`keeps the newest ${RECENT_ALERTS}`, async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    for (let i = 0; i < RECENT_ALERTS + 10; i++) {
      seeded.host.events.emit('alert', { severity: 'info', source: 'test', title: `alert ${i}` });
    }
    const { body } = await call(seeded.url, '/alerts');
    expect(body.alerts).toHaveLength(RECENT_ALERTS);
    expect(body.alerts[0]?.title).toBe(`alert ${RECENT_ALERTS + 9}`);
    expect(body.alerts.at(-1)?.title).toBe('alert 10');
  });

  it('needs a login when the dashboard asks for one', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      dashboard: { auth: 'login', token: DASHBOARD_TOKEN },
    });
    expect((await call(seeded.url, '/alerts')).status).toBe(401);
  });
});
