import { SessionStoreToken, TaskStoreToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { MetricsHistoryToken, metrics, monitor } from '@agentd/plugin-monitor';
import { describe, expect, it } from 'vitest';
import { useTestBrowser } from './test-browser.js';
import { DASHBOARD_TOKEN, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-browser-');
const { available, openPage, screenshot } = await useTestBrowser();

describe.skipIf(!available)('the dashboard in Chromium', () => {
  it('shows every page with what the SQLite store holds, and its buttons change the store', {
    timeout: 90_000,
  }, async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const store = seeded.host.resolve(TaskStoreToken);
    const { context, page, errors } = await openPage();
    try {
      // Overview: host, version, health, counts as the store has them.
      await page.goto(`${seeded.url}/dashboard`);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByText('dash-host').waitFor();
      const counts = await store.counts();
      const completedCount = page.locator('a.count', { hasText: 'completed' }).locator('strong');
      expect(await completedCount.textContent()).toBe(String(counts.completed));
      await page.getByText('Health checks').waitFor();
      await expect.poll(() => page.locator('.live.up').count()).toBe(1);
      const alerts = await fetch(`${seeded.url}/dashboard/api/alerts`);
      const { open } = (await alerts.json()) as { open: number };
      await expect.poll(() => page.locator('a.open-alerts').textContent()).toBe(String(open));
      // This host keeps no metrics history: the charts say how to get one.
      await page.locator('.history-off').getByText('Enable metrics history').waitFor();
      await screenshot(page, 'overview');

      // Tasks: every stored task listed, newest first; a filter narrows the list.
      await page.getByRole('link', { name: 'Tasks' }).click();
      await page.locator('tr[data-task]').first().waitFor();
      const listed = await page
        .locator('tr[data-task]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')));
      const stored = (await store.list({ limit: 100 })).map((t) => t.id);
      expect(listed).toEqual(stored);
      expect(await page.content()).not.toContain(SEEDED_SECRET);
      await screenshot(page, 'tasks');
      await page.getByRole('button', { name: /^failed/ }).click();
      await expect.poll(() => page.locator('tr[data-task]').count()).toBe(1);
      await page.getByPlaceholder('Search id, description, type').fill('invoice');
      await page.getByRole('button', { name: /^all/ }).click();
      await expect
        .poll(() =>
          page
            .locator('tr[data-task]')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))),
        )
        .toEqual([seeded.completed[2]!.id]);

      // A failed task: its error, attempts and timings; Retry enqueues a copy.
      await page.goto(`${seeded.url}/dashboard/#/tasks/${seeded.failed.id}`);
      await page.getByText('the upstream API answered 502').waitFor();
      await page.getByText('1 of 1').waitFor();
      await screenshot(page, 'task');
      await page.getByRole('button', { name: 'Retry' }).click();
      await page.waitForURL((url) => !url.hash.endsWith(seeded.failed.id));
      const retryId = decodeURIComponent(new URL(page.url()).hash.split('/').pop() ?? '');
      expect(await store.get(retryId)).toMatchObject({
        input: 'sync the CRM',
        metadata: { retryOf: seeded.failed.id },
      });

      // Cancel the pending task (the page asks first).
      page.once('dialog', (dialog) => void dialog.accept());
      await page.goto(`${seeded.url}/dashboard/#/tasks/${seeded.pending.id}`);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(async () => (await store.get(seeded.pending.id))?.status).toBe('cancelled');
      await page.locator('.badge-cancelled').first().waitFor();

      // Enqueue from the list page.
      await page.goto(`${seeded.url}/dashboard/#/tasks`);
      await page.getByRole('button', { name: 'New task' }).click();
      await page.locator('textarea[name=input]').fill('typed in the browser');
      await page.locator('form.enqueue input[name=agent]').fill('echo');
      await page.getByRole('button', { name: 'Enqueue' }).click();
      const fromDashboard = async () =>
        (await store.list({ limit: 100 }))
          .filter((t) => t.metadata.via === 'dashboard')
          .map((t) => t.input);
      await expect.poll(fromDashboard).toEqual(['typed in the browser']);

      // Schedules: next run shown; Run now enqueues the schedule's task.
      await page.getByRole('link', { name: 'Schedules' }).click();
      await page.locator('tr[data-schedule="nightly-report"]').waitFor();
      await page
        .locator(`[data-reminder="${seeded.reminder.id}"]`)
        .getByText('call the dentist')
        .waitFor();
      await screenshot(page, 'schedules');
      await page.getByRole('button', { name: 'Run now' }).click();
      await expect.poll(async () => (await store.list({ type: 'schedule' })).length).toBe(1);

      // Dead letters: the stored one, discarded from the page.
      await page.getByRole('link', { name: 'Dead letters' }).click();
      await page
        .locator(`[data-letter="${seeded.deadLetterId}"]`)
        .getByText('the message has no chat')
        .waitFor();
      await screenshot(page, 'dead-letters');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Discard', exact: true }).click();
      await expect
        .poll(async () => (await store.getDeadLetter!(seeded.deadLetterId))?.status)
        .toBe('discarded');

      // Sessions: the stored session and its history.
      await page.getByRole('link', { name: 'Sessions' }).click();
      await page
        .locator(`tr[data-session="${seeded.sessionId}"]`)
        .getByText('telegram:4711')
        .waitFor();
      await screenshot(page, 'sessions');
      await page.getByRole('link', { name: 'main' }).click();
      await page.getByText('echo: hello there').waitFor();
      await screenshot(page, 'session');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Archive' }).click();
      await expect
        .poll(
          async () => (await seeded.host.resolve(SessionStoreToken).get(seeded.sessionId))?.status,
        )
        .toBe('archived');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('charts the metrics history on the overview (uPlot), for each range', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      plugins: [monitor({ intervalSeconds: 60 }), metrics()],
    });
    await seeded.host.resolve(MetricsHistoryToken).record();
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard`);
      const titles = ['Throughput', 'Latency', 'Error rate', 'CPU, memory, disk'];
      for (const title of titles) {
        await page.locator(`[data-chart="${title}"] canvas`).waitFor();
      }
      // The legend shows the value under the cursor; hovering the recorded minute shows the
      // completed count the store has. That is the last slot, or the one before it when a
      // minute began between record() and the page's fetch (the new minute has no point yet).
      const throughput = page.locator('[data-chart="Throughput"]');
      const legend = throughput.locator('.u-series', { hasText: 'completed' });
      const plot = throughput.locator('.u-over');
      await plot.scrollIntoViewIfNeeded();
      const box = (await plot.boundingBox())!;
      const slotWidth = box.width / 60; // 1h at one point a minute: 61 points, 60 gaps
      const completed = (await seeded.host.resolve(TaskStoreToken).counts()).completed;
      await expect
        .poll(async () => {
          let text = '';
          for (const slotsBack of [0, 1]) {
            const x = box.x + box.width - 1 - slotsBack * slotWidth;
            await page.mouse.move(x, box.y + box.height / 2, { steps: 4 });
            text = (await legend.textContent()) ?? '';
            if (!text.includes('—')) break;
          }
          return text;
        })
        .toContain(String(completed));
      await screenshot(page, 'overview-charts');
      await page.getByRole('button', { name: '7d', exact: true }).click();
      await expect
        .poll(() => page.locator('.chart-ranges button.primary').textContent())
        .toBe('7d');
      await page.locator('[data-chart="Latency"] canvas').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('updates a list live when a task changes elsewhere (Server-Sent Events, no polling)', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/tasks?status=cancelled`);
      await page.getByRole('heading', { name: 'Tasks' }).waitFor();
      await expect.poll(() => page.locator('.live.up').count()).toBe(1);
      expect(await page.locator('tr[data-task]').count()).toBe(0);
      await seeded.host.resolve(TaskStoreToken).cancel(seeded.pending.id, Date.now());
      // The store changed behind the queue's back: no event. Through the queue there is one.
      const { TaskQueueToken } = await import('@agentd/core');
      const other = await seeded.host
        .resolve(TaskQueueToken)
        .enqueue({ agent: 'echo', input: 'later', runAt: Date.now() + 60_000 });
      await seeded.host.resolve(TaskQueueToken).cancel(other.task.id);
      await expect
        .poll(() => page.locator(`tr[data-task="${other.task.id}"]`).count(), { timeout: 5000 })
        .toBe(1);
    } finally {
      await context.close();
    }
  });

  // How fast is measured by `npm run bench:dashboard` (medians beside a same-run reference), not
  // here: this checks the page marks the moment it can be measured by.
  it('marks the first frame painted with API data (agentd:first-data) once', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/tasks`);
      await page.locator('tr[data-task]').first().waitFor();
      // A function, not a string: a string predicate that has to poll is run through eval in the
      // page, which its content policy refuses.
      await page.waitForFunction(
        () => performance.getEntriesByName('agentd:first-data').length > 0,
      );
      await page.getByRole('link', { name: 'Schedules' }).click();
      await page.locator('tr[data-schedule="nightly-report"]').waitFor();
      expect(await page.evaluate("performance.getEntriesByName('agentd:first-data').length")).toBe(
        1,
      );
    } finally {
      await context.close();
    }
  });

  it("shows the overview's data in its first frame from the page itself, asking the API for none of it", async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page } = await openPage();
    try {
      const asked: string[] = [];
      page.on('request', (request) => asked.push(new URL(request.url()).pathname));
      await page.goto(`${seeded.url}/dashboard/`);
      // A function, not a string: a string predicate that has to poll is run through eval in the
      // page, which its content policy refuses.
      await page.waitForFunction(
        () => performance.getEntriesByName('agentd:first-data').length > 0,
      );
      expect(await page.locator('.grid .card h2').first().textContent()).toContain('dash-host');
      await page.locator('.live.up').waitFor();
      const alerts = (await (await fetch(`${seeded.url}/dashboard/api/alerts`)).json()) as {
        open: number;
      };
      expect(await page.locator('.open-alerts').textContent()).toBe(String(alerts.open));
      const api = asked.filter((path) => path.includes('/api/'));
      expect(api).not.toContain('/dashboard/api/me');
      expect(api).not.toContain('/dashboard/api/overview');
      expect(api).not.toContain('/dashboard/api/alerts');
      expect(api).toContain('/dashboard/api/events');
      // A later change still reads the API (the page's answers are taken once).
      const { TaskQueueToken } = await import('@agentd/core');
      await seeded.host.resolve(TaskQueueToken).enqueue({ agent: 'echo', input: 'later' });
      await expect
        .poll(() => asked.includes('/dashboard/api/overview'), { timeout: 5000 })
        .toBe(true);
    } finally {
      await context.close();
    }
  });

  it('is usable on a phone, in dark mode', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page } = await openPage({ phone: true, colorScheme: 'dark' });
    try {
      await page.goto(`${seeded.url}/dashboard/#/tasks`);
      await page.locator('tr[data-task]').first().waitFor();
      await expect.poll(() => page.locator('.live.up').count()).toBe(1);
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe('rgb(13, 17, 23)');
      // Nothing wider than the screen: no sideways scrolling.
      const width = await page.evaluate('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(390);
      await screenshot(page, 'phone-dark');
    } finally {
      await context.close();
    }
  });

  it('asks for the token when bound beyond loopback, and keeps the session in an HttpOnly, SameSite=Strict cookie', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      bind: '0.0.0.0',
      dashboard: { token: DASHBOARD_TOKEN },
    });
    const { context, page } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/`);
      await page.getByLabel('API token').waitFor();
      await screenshot(page, 'login');
      await page.getByLabel('API token').fill('not-the-token-not-the-token');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').getByText('wrong token').waitFor();
      await page.getByLabel('API token').fill(DASHBOARD_TOKEN);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(page.url()).not.toContain(DASHBOARD_TOKEN);
      const [cookie, ...others] = await context.cookies();
      expect(others).toEqual([]);
      expect(cookie).toMatchObject({
        name: 'agentd_dashboard',
        httpOnly: true,
        sameSite: 'Strict',
        path: '/dashboard',
      });
      expect(cookie?.value).not.toContain(DASHBOARD_TOKEN);
      expect(await page.evaluate('document.cookie')).toBe('');

      // The cookie alone changes nothing: a forged request lacks the CSRF header.
      const status = await page.evaluate(async (id) => {
        const response = await fetch(`/dashboard/api/tasks/${id}/cancel`, { method: 'POST' });
        return response.status;
      }, seeded.pending.id);
      expect(status).toBe(403);
      expect((await seeded.host.resolve(TaskStoreToken).get(seeded.pending.id))?.status).toBe(
        'pending',
      );

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('API token').waitFor();
    } finally {
      await context.close();
    }
  });
});
