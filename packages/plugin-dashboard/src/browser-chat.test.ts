// The Chat page in Chromium: a round trip with an agent through the web channel, a command, the
// conversation kept across a reload, a phone in dark mode, and a named login's own chat.
import { TaskStoreToken } from '@agentd/core';
import { useTestHosts } from '@agentd/core/testing';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchTestBrowser, pageHelpers } from './test-browser.js';
import { DASHBOARD_TOKEN, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-browser-chat-');
const launched = await launchTestBrowser();
const browser = launched.available ? launched.browser : (undefined as unknown as Browser);
afterAll(async () => {
  if (launched.available) await launched.browser.close();
});
const { openPage, screenshot } = pageHelpers(browser);

describe.skipIf(!launched.available)('the Chat page in Chromium', () => {
  it('sends a message to the agent and shows its reply, answers /help, and keeps both after a reload', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/chat`);
      await page.getByRole('heading', { name: 'Chat' }).waitFor();
      await page.getByText('as local on the web channel').waitFor();
      const box = page.getByLabel('Message');
      await box.fill('hello from the browser');
      await box.press('Enter');
      const replies = page.locator('.message:not(.mine) .bubble');
      await replies.getByText('echo: hello from the browser').waitFor({ timeout: 10_000 });
      await page.locator('.message.mine .bubble').getByText('hello from the browser').waitFor();
      expect(await box.inputValue()).toBe('');
      // The message went through the router into the store as the web channel's task.
      const tasks = await seeded.host.resolve(TaskStoreToken).list({ limit: 1000 });
      expect(tasks.find((t) => t.input === 'hello from the browser')).toMatchObject({
        status: 'completed',
        replyTo: { channel: 'web', id: 'local' },
        type: 'message',
      });

      await box.fill('/help');
      await page.getByRole('button', { name: 'Send' }).click();
      await replies.filter({ hasText: '/tasks' }).waitFor({ timeout: 10_000 });
      // A reply quoting a secret is masked like everything else the dashboard shows.
      await box.fill(`remember ${SEEDED_SECRET}`);
      await box.press('Enter');
      await replies.filter({ hasText: 'echo: remember' }).waitFor({ timeout: 10_000 });
      expect(await page.content()).not.toContain(SEEDED_SECRET);
      await screenshot(page, 'chat');

      await page.reload();
      await replies.getByText('echo: hello from the browser').waitFor();
      expect(await page.locator('.message').count()).toBe(6);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('is usable on a phone in dark mode: the composer on screen, nothing wider than it', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page, errors } = await openPage({ phone: true, colorScheme: 'dark' });
    try {
      await page.goto(`${seeded.url}/dashboard/#/chat`);
      const box = page.getByLabel('Message');
      for (const text of ['one', 'two', 'a long line '.repeat(40)]) {
        await box.fill(text);
        await box.press('Enter');
        await page
          .locator('.message:not(.mine) .bubble')
          .getByText(`echo: ${text.slice(0, 20)}`)
          .waitFor({ timeout: 10_000 });
      }
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe('rgb(13, 17, 23)');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      const composer = await page.locator('.composer').boundingBox();
      expect(composer).not.toBeNull();
      expect(composer!.y + composer!.height).toBeLessThanOrEqual(844);
      await screenshot(page, 'chat-phone-dark');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gives a named login its own conversation when bound beyond loopback', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      bind: '0.0.0.0',
      dashboard: { token: DASHBOARD_TOKEN },
    });
    const { context, page, errors } = await openPage();
    try {
      await page.goto(`${seeded.url}/dashboard/#/chat`);
      await page.getByLabel('API token').waitFor();
      // Before the login the page's first read was refused (401), as every page's is.
      errors.length = 0;
      await page.getByLabel('API token').fill(DASHBOARD_TOKEN);
      await page.getByLabel(/Your name/).fill('alice');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('as alice on the web channel').waitFor();
      await page.getByLabel('Message').fill('hi from alice');
      await page.getByLabel('Message').press('Enter');
      await page.getByText('echo: hi from alice').waitFor({ timeout: 10_000 });
      const tasks = await seeded.host.resolve(TaskStoreToken).list({ limit: 1000 });
      expect(tasks.find((t) => t.input === 'hi from alice')?.replyTo).toEqual({
        channel: 'web',
        id: 'alice',
      });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
