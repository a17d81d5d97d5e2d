import { raiseAlert, TaskQueueToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import { describe, expect, it } from 'vitest';
import { useTestBrowser } from './test-browser.js';
import { failoverPlugin, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-browser-pages-');
const { available, openPage, screenshot } = await useTestBrowser();

describe.skipIf(!available)('the Agents and Alerts pages in Chromium', () => {
  it('shows chains, circuits, failures by class and the spend, live as attempts fail', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, { plugins: [failoverPlugin()] });
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/agents`);
      const echo = page.locator('tr[data-agent="echo"]');
      await echo.getByText('echo → broken').waitFor();
      await echo.locator('.badge-closed').waitFor();
      const broken = page.locator('tr[data-agent="broken"]');
      await broken.locator('.badge-open').waitFor();
      await page.locator(`tr[data-failure="${seeded.failed.id}"]`).getByText('502').waitFor();
      await page.getByText('$0.00 of $5.00').waitFor();
      await expect.poll(() => page.locator('.live.up').count()).toBe(1);

      // A new failure elsewhere shows up without a reload (the page listens to task events).
      const { task } = await seeded.host
        .resolve(TaskQueueToken)
        .enqueue({ agent: 'leaky', input: 'x', maxAttempts: 1 });
      await page.locator(`tr[data-failure="${task.id}"]`).waitFor({ timeout: 5000 });
      await page.locator('tr[data-agent="leaky"] .chip').first().waitFor();
      expect(await page.content()).not.toContain(SEEDED_SECRET);
      await screenshot(page, 'agents');

      // A failure links to its task.
      await page.locator(`tr[data-failure="${seeded.failed.id}"] a`).click();
      await page.getByText('1 of 1').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lists alerts as they are raised, and Acknowledge marks one', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/alerts`);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      await expect.poll(() => page.locator('.live.up').count()).toBe(1);
      await raiseAlert(undefined, seeded.host.events, {
        severity: 'warning',
        source: 'monitor',
        title: 'Disk 91% full',
        message: `/var has 2 GB left (${SEEDED_SECRET})`,
      });
      const row = page.locator('tr[data-alert]', { hasText: 'Disk 91% full' });
      await row.getByText('/var has 2 GB left').waitFor({ timeout: 5000 });
      expect(await page.content()).not.toContain(SEEDED_SECRET);
      await screenshot(page, 'alerts');
      const id = (await row.getAttribute('data-alert')) ?? '';
      await row.getByRole('button', { name: 'Acknowledge' }).click();
      await row.getByText(/acknowledged/).waitFor();
      const response = await fetch(`${seeded.url}/dashboard/api/alerts`);
      const { alerts } = (await response.json()) as {
        alerts: { id: string; acknowledgedAt: number | null }[];
      };
      expect(alerts.find((a) => a.id === id)?.acknowledgedAt).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
