import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthRegistryToken, TaskQueueToken, TaskStoreToken } from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadFirstViewRenderer } from './first-view-render.js';
import { useTestBrowser } from './test-browser.js';
import { DASHBOARD_TOKEN, SEEDED_SECRET, startSeededHost } from './test-support.js';

const { hosts, dbPath } = useTestHosts('agentd-dashboard-first-view-');
const { available, openPage } = await useTestBrowser();

const HOSTILE = `<img src=x onerror="window.__pwned=1">`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Holds the client's script back until the returned function is called. */
async function holdClientScript(context: BrowserContext): Promise<() => void> {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await context.route(/\/assets\/index-[^/]+\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

/** The markup of `#app` as the server sent it. */
const appMarkup = (html: string) =>
  html.slice(html.indexOf('<div id="app">'), html.indexOf('<script type="application/json"'));

describe('the page renders its first view on the server', () => {
  it('holds the overview with the store figures, escaped and masked, under a policy of hashes', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    // A health check whose output is hostile markup quoting a secret: shown on the overview.
    seeded.host.resolve(HealthRegistryToken).add({
      name: 'upstream',
      check: () => ({ status: 'warn', output: `${HOSTILE} key ${SEEDED_SECRET}` }),
    });
    const response = await fetch(`${seeded.url}/dashboard/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const app = appMarkup(html);
    expect(app).toContain('<h1>Overview</h1>');
    expect(app).toContain('dash-host');
    // The seeded store: three completed tasks, one failed, and a pending one and a reminder.
    expect(app).toMatch(/href="#\/tasks\?status=completed"><strong>3<\/strong>/);
    expect(app).toMatch(/href="#\/tasks\?status=failed"><strong>1<\/strong>/);
    // The check's output is text: its markup escaped, the secret masked.
    expect(app).toContain('&lt;img src=x onerror=');
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain(SEEDED_SECRET);

    // Inline parts run or apply only by their hashes: no 'unsafe-inline', nothing else inline.
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).not.toContain('unsafe-inline');
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    expect(scripts).toHaveLength(1);
    expect(policy).toContain(`style-src 'self' ${sha256(styles[0] ?? '')};`);
    expect(policy).toContain(`script-src 'self' ${sha256(scripts[0] ?? '')};`);
    expect(app).not.toMatch(/\sstyle=/);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('renders nothing for a caller who has not logged in', async () => {
    const seeded = await startSeededHost(dbPath(), hosts, {
      bind: '0.0.0.0',
      dashboard: { token: DASHBOARD_TOKEN },
    });
    const html = await (await fetch(`${seeded.url}/dashboard/`)).text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).not.toContain('dash-host');
    // Only who the caller is (the public answer the login form needs).
    const block = /<script type="application\/json" id="agentd-first-view">(.*?)<\/script>/s.exec(
      html,
    );
    expect(JSON.parse(block?.[1] ?? '{}')).toEqual({
      '/me': { auth: 'login', authenticated: false },
    });
  });

  it('leaves the rendering to the browser when the renderer is missing or throws', async () => {
    const { logger, lines } = memoryLogger();
    const missing = mkdtempSync(join(tmpdir(), 'agentd-dashboard-renderer-'));
    expect(await loadFirstViewRenderer(join(missing, 'client'), logger)).toBeUndefined();
    expect(lines().some((l) => /no server renderer built/.test(l.msg ?? ''))).toBe(true);

    const broken = mkdtempSync(join(tmpdir(), 'agentd-dashboard-renderer-'));
    mkdirSync(join(broken, 'server-render'));
    writeFileSync(
      join(broken, 'server-render', 'server-render.js'),
      `export function renderFirstView() { throw new Error('renderer bug'); }\n`,
    );
    const render = await loadFirstViewRenderer(join(broken, 'client'), logger);
    expect(render?.({ '/me': {} })).toBeUndefined();
    expect(render?.({ '/me': {} })).toBeUndefined();
    const warnings = lines().filter((l) => /stopped rendering its first view/.test(l.msg ?? ''));
    expect(warnings).toHaveLength(1);
  });
});

describe.skipIf(!available)('the server-rendered first view in Chromium', () => {
  it('shows the data before the client script runs, then the client takes over (live updates)', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page, errors } = await openPage();
    try {
      // The client's script held back: what shows is the server's rendering alone.
      const release = await holdClientScript(context);
      await page.goto(`${seeded.url}/dashboard/`, { waitUntil: 'commit' });
      const completed = page.locator('a.count', { hasText: 'completed' }).locator('strong');
      await expect.poll(() => completed.textContent()).toBe('3');
      expect(await page.locator('.live.up').count()).toBe(0);
      // A task runs after the page was served and before the client listens: the client's
      // stream starts where the page's data was read, so the overview re-reads and shows it,
      // with no later event to prompt it.
      const queue = seeded.host.resolve(TaskQueueToken);
      const { task } = await queue.enqueue({ agent: 'echo', input: 'while the script loads' });
      await expect
        .poll(async () => (await seeded.host.resolve(TaskStoreToken).get(task.id))?.status)
        .toBe('completed');
      release();
      await page.locator('.live.up').waitFor();
      await expect.poll(() => completed.textContent(), { timeout: 5000 }).toBe('4');
      // And it stays live: a task that completes now shows too.
      await queue.enqueue({ agent: 'echo', input: 'one more' });
      await expect.poll(() => completed.textContent(), { timeout: 5000 }).toBe('5');
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the overview with JavaScript off', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page } = await openPage({ javaScript: false });
    try {
      await page.goto(`${seeded.url}/dashboard/`);
      await page.getByRole('heading', { name: 'Health checks' }).waitFor();
      expect(await page.locator('.grid .card h2').first().textContent()).toContain('dash-host');
    } finally {
      await context.close();
    }
  });

  it('keeps the overview out of sight on a link to another page until that page is drawn', async () => {
    const seeded = await startSeededHost(dbPath(), hosts);
    const { context, page, errors } = await openPage();
    try {
      const release = await holdClientScript(context);
      await page.goto(`${seeded.url}/dashboard/#/tasks`, { waitUntil: 'commit' });
      // Parsed (the server's overview is in the page), but hidden.
      await page.locator('.grid .card').first().waitFor({ state: 'attached' });
      expect(await page.locator('#app').isVisible()).toBe(false);
      expect(await page.locator('.grid .card').first().isVisible()).toBe(false);
      release();
      await page.getByRole('heading', { name: 'Tasks' }).waitFor();
      expect(await page.locator('html').getAttribute('data-route')).toBeNull();
      expect(await page.locator('.grid .card').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
