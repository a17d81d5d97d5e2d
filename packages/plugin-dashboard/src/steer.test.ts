import { raiseAlert, SessionStoreToken, StateStoreToken } from '@agentd/core';
import { SCHEDULER_NAMESPACE, scheduleStateKey } from '@agentd/core/scheduler';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { ALERTS_NAMESPACE } from './api-alerts.js';
import {
  apiCall,
  apiPost,
  csrfOf,
  DASHBOARD_TOKEN,
  startDashboardHost,
  startSeededHost,
} from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-steer-');

interface Body {
  schedule?: { name: string; pausedAt: number | null; pausedBy: string | null };
  schedules?: { name: string; pausedAt: number | null; nextRunAt: number | null }[];
  session?: { id: string; status: string };
  alerts?: {
    id: string;
    title: string;
    acknowledgedAt: number | null;
    acknowledgedBy: string | null;
  }[];
  alert?: { acknowledgedAt: number | null; acknowledgedBy: string | null };
  error?: { code: string; message: string };
}

const nightly = async (url: string) =>
  (await apiCall<Body>(url, '/schedules')).body.schedules!.find(
    (s) => s.name === 'nightly-report',
  )!;

describe('steering from the dashboard API', () => {
  it('pauses and resumes a schedule in the store; the pause outlives the host', async () => {
    const path = dbPath();
    const first = await startSeededHost(path, hosts);
    const csrf = await csrfOf(first.url);
    const paused = await apiPost<Body>(first.url, '/schedules/nightly-report/pause', csrf);
    expect(paused.status).toBe(200);
    expect(paused.body.schedule).toMatchObject({ pausedBy: 'dashboard' });
    expect(await nightly(first.url)).toMatchObject({ nextRunAt: null });
    const pausedAt = paused.body.schedule!.pausedAt;
    expect(pausedAt).toBeGreaterThan(0);
    // Pausing again keeps the first pause.
    const again = await apiPost<Body>(first.url, '/schedules/nightly-report/pause', csrf);
    expect(again.body.schedule?.pausedAt).toBe(pausedAt);
    await first.host.stop();

    const second = await startDashboardHost(path, hosts);
    expect(await nightly(second.url)).toMatchObject({ pausedAt, nextRunAt: null });
    const resumed = await apiPost<Body>(
      second.url,
      '/schedules/nightly-report/resume',
      await csrfOf(second.url),
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.schedule).toMatchObject({ pausedAt: null, pausedBy: null });
    expect((await nightly(second.url)).nextRunAt).toBeGreaterThan(Date.now());
  });

  it('refuses unknown schedules, a missing or forged CSRF token and GETs, changing nothing', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const state = seeded.host.resolve(StateStoreToken);
    const before = await state.list(SCHEDULER_NAMESPACE);
    const csrf = await csrfOf(seeded.url);
    for (const name of ['nope', '__proto__', '%00', 'nightly-report%0A', 'x'.repeat(300)]) {
      const answer = await apiPost<Body>(seeded.url, `/schedules/${name}/pause`, csrf);
      expect(answer.status, name).toBe(404);
      expect(answer.body.error?.code).toBe('not_found');
    }
    expect((await apiPost<Body>(seeded.url, '/schedules/nightly-report/pause', null)).status).toBe(
      403,
    );
    expect(
      (await apiPost<Body>(seeded.url, '/schedules/nightly-report/pause', 'forged')).status,
    ).toBe(403);
    const get = await fetch(`${seeded.url}/dashboard/api/schedules/nightly-report/pause`);
    expect(get.status).toBe(405);
    expect(await state.list(SCHEDULER_NAMESPACE)).toEqual(before);
    expect(
      await state.get(SCHEDULER_NAMESPACE, scheduleStateKey('nightly-report')),
    ).not.toHaveProperty('paused.at');
  });

  it('suspends and resumes a session; unknown or archived ones are refused', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const sessions = seeded.host.resolve(SessionStoreToken);
    const csrf = await csrfOf(seeded.url);
    const suspended = await apiPost<Body>(
      seeded.url,
      `/sessions/${seeded.sessionId}/suspend`,
      csrf,
    );
    expect(suspended.status).toBe(200);
    expect(suspended.body.session?.status).toBe('suspended');
    expect((await sessions.get(seeded.sessionId))?.status).toBe('suspended');
    const resumed = await apiPost<Body>(seeded.url, `/sessions/${seeded.sessionId}/resume`, csrf);
    expect(resumed.status).toBe(200);
    expect((await sessions.get(seeded.sessionId))?.status).toBe('live');
    // History is kept through both.
    expect(await sessions.history(seeded.sessionId, 10)).toHaveLength(2);

    const unknown = await apiPost<Body>(seeded.url, '/sessions/nope/suspend', csrf);
    expect(unknown.status).toBe(404);
    expect(
      (await apiPost<Body>(seeded.url, `/sessions/${seeded.sessionId}/suspend`, null)).status,
    ).toBe(403);
    expect((await sessions.get(seeded.sessionId))?.status).toBe('live');
    await apiPost<Body>(seeded.url, `/sessions/${seeded.sessionId}/archive`, csrf);
    for (const action of ['suspend', 'resume']) {
      const answer = await apiPost<Body>(
        seeded.url,
        `/sessions/${seeded.sessionId}/${action}`,
        csrf,
      );
      expect(answer.status).toBe(409);
    }
    expect((await sessions.get(seeded.sessionId))?.status).toBe('archived');
  });

  it('keeps alerts and acknowledgements in the state store across a restart', async () => {
    const path = dbPath();
    const first = await startSeededHost(path, hosts);
    await raiseAlert(undefined, first.host.events, {
      severity: 'warning',
      source: 'monitor',
      title: 'Disk 91% full',
    });
    const listed = (await apiCall<Body>(first.url, '/alerts')).body.alerts!;
    const disk = listed.find((a) => a.title === 'Disk 91% full')!;
    const csrf = await csrfOf(first.url);
    const ack = await apiPost<Body>(first.url, `/alerts/${disk.id}/acknowledge`, csrf);
    expect(ack.body.alert).toMatchObject({ acknowledgedBy: 'dashboard (127.0.0.1)' });
    // Bad ids and a missing CSRF token change nothing.
    const other = listed.find((a) => a.id !== disk.id)!;
    expect((await apiPost<Body>(first.url, `/alerts/${other.id}/acknowledge`, null)).status).toBe(
      403,
    );
    expect((await apiPost<Body>(first.url, '/alerts/nope/acknowledge', csrf)).status).toBe(404);
    const stored = await first.host.resolve(StateStoreToken).list(ALERTS_NAMESPACE, 'alert:');
    await first.host.stop();

    const second = await startDashboardHost(path, hosts);
    const after = (await apiCall<Body>(second.url, '/alerts')).body.alerts!;
    expect(after.map((a) => a.id)).toEqual(listed.map((a) => a.id));
    expect(after.find((a) => a.id === disk.id)).toMatchObject({
      acknowledgedAt: ack.body.alert!.acknowledgedAt,
      acknowledgedBy: 'dashboard (127.0.0.1)',
    });
    expect(after.find((a) => a.id === other.id)?.acknowledgedAt).toBeNull();
    expect(await second.host.resolve(StateStoreToken).list(ALERTS_NAMESPACE, 'alert:')).toEqual(
      stored,
    );
  });

  it('needs a login for every steering route when the dashboard asks for one', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      dashboard: { auth: 'login', token: DASHBOARD_TOKEN },
    });
    for (const path of [
      '/schedules/nightly-report/pause',
      '/schedules/nightly-report/resume',
      `/sessions/${seeded.sessionId}/suspend`,
      `/sessions/${seeded.sessionId}/resume`,
    ]) {
      expect((await apiPost<Body>(seeded.url, path, 'x')).status, path).toBe(401);
    }
    expect(await nightly(seeded.url).catch(() => 'refused')).toBe('refused');
  });

  it('gives simultaneous reads of one page the same answer, and a read after a change sees the change', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => apiCall<Body>(seeded.url, '/schedules')),
    );
    expect(new Set(reads.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(reads.map((r) => JSON.stringify(r.body))).size).toBe(1);
    await apiPost<Body>(seeded.url, '/schedules/nightly-report/pause', await csrfOf(seeded.url));
    const [a, b] = await Promise.all([nightly(seeded.url), nightly(seeded.url)]);
    expect(a.pausedAt).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});
