import { raiseAlert, SessionStoreToken, StateStoreToken, TaskStoreToken } from '@agentd/core';
import { SCHEDULER_NAMESPACE, type ScheduleState, scheduleStateKey } from '@agentd/core/scheduler';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { useTestBrowser } from './test-browser.js';
import { apiCall, startDashboardHost, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-steer-browser-');
const { available, browser, openPage, screenshot } = await useTestBrowser();

describe.skipIf(!available)('steering from the dashboard in Chromium', () => {
  it('pauses a schedule (in the store), runs it by hand while paused, and resumes it', {
    timeout: 60_000,
  }, async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const state = seeded.host.resolve(StateStoreToken);
    const tasks = seeded.host.resolve(TaskStoreToken);
    const stored = () =>
      state.get<ScheduleState>(SCHEDULER_NAMESPACE, scheduleStateKey('nightly-report'));
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/schedules`);
      const row = page.locator('tr[data-schedule="nightly-report"]');
      await row.waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(async () => (await stored())?.paused?.by).toBe('dashboard');
      await row.getByText('paused', { exact: false }).first().waitFor();
      await row.locator('.paused-by').getByText('by dashboard').waitFor();
      await row.getByRole('button', { name: 'Resume' }).waitFor();
      await screenshot(page, 'schedules-paused');

      // Run now still works while paused, and the schedule stays paused.
      await row.getByRole('button', { name: 'Run now' }).click();
      await expect.poll(async () => (await tasks.list({ type: 'schedule' })).length).toBe(1);
      expect((await stored())?.paused).not.toBeNull();

      await row.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(async () => (await stored())?.paused ?? null).toBeNull();
      await row.getByRole('button', { name: 'Pause' }).waitFor();
      expect(await row.locator('.paused-by').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('pauses a reminder (held in the store, also after a restart) and resumes it', {
    timeout: 60_000,
  }, async () => {
    const path = dbPath();
    const first = await startSeededHost(path, hosts);
    const id = first.reminder.id;
    let { context, page, errors } = await openPage();
    try {
      await page.goto(`${first.url}/dashboard/#/schedules`);
      const row = page.locator(`[data-reminder="${id}"]`);
      await row.getByText('call the dentist').waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: 'Pause' }).click();
      const tasks = first.host.resolve(TaskStoreToken);
      await expect.poll(async () => (await tasks.get(id))?.status).toBe('held');
      await row.getByRole('button', { name: 'Resume' }).waitFor();
      await row.locator('.badge-paused').waitFor();
      // Its place is kept: the same time, the same priority.
      expect(await tasks.get(id)).toMatchObject({
        runAt: first.reminder.runAt,
        priority: first.reminder.priority,
      });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
    await first.host.stop();

    const second = await startDashboardHost(path, hosts);
    ({ context, page, errors } = await openPage());
    try {
      await page.goto(`${second.url}/dashboard/#/schedules`);
      const row = page.locator(`[data-reminder="${id}"]`);
      await row.locator('.badge-paused').waitFor();
      await screenshot(page, 'reminder-paused');
      // The overview counts it as held.
      const tasks = second.host.resolve(TaskStoreToken);
      expect((await tasks.counts()).held).toBe(1);
      await row.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(async () => (await tasks.get(id))?.status).toBe('pending');
      await row.getByRole('button', { name: 'Pause' }).waitFor();
      expect(await row.locator('.badge-paused').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows who acknowledged an alert and when, also after the host restarted', {
    timeout: 60_000,
  }, async () => {
    const path = dbPath();
    const first = await startSeededHost(path, hosts);
    await raiseAlert(undefined, first.host.events, {
      severity: 'warning',
      source: 'monitor',
      title: 'Disk 91% full',
    });
    let { context, page, errors } = await openPage();
    try {
      await page.goto(`${first.url}/dashboard/#/alerts`);
      const row = page.locator('tr[data-alert]', { hasText: 'Disk 91% full' });
      await row.getByRole('button', { name: 'Acknowledge' }).click();
      await row.locator('.acknowledged-by').getByText('by dashboard (127.0.0.1)').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
    await first.host.stop();

    const second = await startDashboardHost(path, hosts);
    ({ context, page, errors } = await openPage());
    try {
      await page.goto(`${second.url}/dashboard/#/alerts`);
      const row = page.locator('tr[data-alert]', { hasText: 'Disk 91% full' });
      await row.locator('.acknowledged-by').getByText('by dashboard (127.0.0.1)').waitFor();
      expect(await row.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
      await screenshot(page, 'alerts-acknowledged');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('suspends and resumes a session, its history shown throughout', {
    timeout: 60_000,
  }, async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const sessions = seeded.host.resolve(SessionStoreToken);
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/sessions/${seeded.sessionId}`);
      await page.getByText('echo: hello there').waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Suspend' }).click();
      await expect
        .poll(async () => (await sessions.get(seeded.sessionId))?.status)
        .toBe('suspended');
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(async () => (await sessions.get(seeded.sessionId))?.status).toBe('live');
      await page.getByRole('button', { name: 'Suspend' }).waitFor();
      await page.getByText('echo: hello there').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('serves ten tabs of one browser through one shared stream, each kept live', {
    timeout: 90_000,
  }, async () => {
    // A browser opens at most 6 HTTP/1.1 connections to a server: a stream per tab would leave
    // the seventh tab loading forever.
    const seeded = await startSeededHost(dbPath(), hosts);
    const context = await browser.newContext();
    try {
      const pages = [];
      for (let i = 0; i < 10; i++) {
        const page = await context.newPage();
        await page.goto(`${seeded.url}/dashboard/#/tasks?status=cancelled`, { timeout: 20_000 });
        await page.locator('.live.up').waitFor({ timeout: 20_000 });
        pages.push(page);
      }
      const overview = await apiCall<{ streams: number }>(seeded.url, '/overview');
      expect(overview.body.streams).toBe(1);
      const { TaskQueueToken } = await import('@agentd/core');
      const queue = seeded.host.resolve(TaskQueueToken);
      const later = await queue.enqueue({ agent: 'echo', input: 'x', runAt: Date.now() + 60_000 });
      await queue.cancel(later.task.id);
      for (const page of pages) {
        await page.locator(`tr[data-task="${later.task.id}"]`).waitFor({ timeout: 10_000 });
      }
      // The tab holding the stream closes: another takes it over, and the rest stay live.
      await pages.shift()!.close();
      await expect
        .poll(
          async () => (await apiCall<{ streams: number }>(seeded.url, '/overview')).body.streams,
          { timeout: 10_000 },
        )
        .toBe(1);
      const again = await queue.enqueue({ agent: 'echo', input: 'y', runAt: Date.now() + 60_000 });
      await queue.cancel(again.task.id);
      for (const page of pages) {
        await page.locator(`tr[data-task="${again.task.id}"]`).waitFor({ timeout: 10_000 });
      }
    } finally {
      await context.close();
    }
  });
});
