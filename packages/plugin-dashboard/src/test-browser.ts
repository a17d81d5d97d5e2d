import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll } from 'vitest';

/** The Chromium the browser tests drive: `AGENTD_TEST_CHROMIUM`, or Debian's package. */
export const TEST_CHROMIUM = process.env.AGENTD_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a headless Chromium in a container, without network chatter of its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Starts the test browser. Without one, browser tests skip with a message that says how to
 * get it, except in CI (`CI` set), where a missing browser fails the run: CI must show that the
 * browser tests ran (`.ci/chromium.sh` installs it).
 *
 * @example
 * ```ts
 * const browser = await launchTestBrowser();
 * describe.skipIf(!browser.available)('in a browser', () => { ... });
 * ```
 */
export async function launchTestBrowser(): Promise<
  { available: true; browser: Browser } | { available: false; reason: string }
> {
  let reason: string;
  if (!existsSync(TEST_CHROMIUM)) {
    reason = `no Chromium at ${TEST_CHROMIUM}; install it (apt-get install -y chromium, or run .ci/chromium.sh as root) or set AGENTD_TEST_CHROMIUM`;
  } else {
    try {
      const browser = await chromium.launch({ executablePath: TEST_CHROMIUM, args: CHROMIUM_ARGS });
      return { available: true, browser };
    } catch (error) {
      reason = `Chromium at ${TEST_CHROMIUM} did not start: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  if (process.env.CI) throw new Error(`browser tests cannot run in CI: ${reason}`);
  console.warn(`skipping browser tests: ${reason}`);
  return { available: false, reason };
}

/**
 * Screenshots land in the ignored `screenshots/` folder of this package on every run, so a test
 * run leaves the tree clean; with `AGENTD_UPDATE_SCREENSHOTS=1` they replace the ones in
 * docs/images that docs/dashboard.md shows.
 */
export const SCREENSHOTS = fileURLToPath(
  process.env.AGENTD_UPDATE_SCREENSHOTS === '1'
    ? new URL('../../../docs/images/', import.meta.url)
    : new URL('../screenshots/', import.meta.url),
);

/**
 * `openPage` (a fresh context; console errors and page errors collected) and `screenshot`
 * (`dashboard-<name>.png` in {@link SCREENSHOTS}) for the browser tests.
 *
 * @example
 * ```ts
 * const { openPage, screenshot } = pageHelpers(browser);
 * const { page } = await openPage({ colorScheme: 'dark' });
 * await screenshot(page, 'overview');
 * ```
 */
export function pageHelpers(browser: Browser) {
  async function screenshot(page: Page, name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-${name}.png`, fullPage: true });
  }
  async function openPage(
    options: { colorScheme?: 'light' | 'dark'; phone?: boolean; javaScript?: boolean } = {},
  ) {
    const context = await browser.newContext({
      javaScriptEnabled: options.javaScript ?? true,
      colorScheme: options.colorScheme ?? 'light',
      viewport: options.phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return { context, page, errors };
  }
  return { openPage, screenshot };
}

/**
 * A test file's browser: launched once ({@link launchTestBrowser}), closed after the file's tests,
 * with {@link pageHelpers}. `available` is false (and `browser` unusable) without one.
 *
 * @example
 * ```ts
 * const { available, browser, openPage } = await useTestBrowser();
 * describe.skipIf(!available)('in Chromium', () => { ... });
 * ```
 */
export async function useTestBrowser() {
  const launched = await launchTestBrowser();
  const browser = launched.available ? launched.browser : (undefined as unknown as Browser);
  afterAll(async () => {
    if (launched.available) await launched.browser.close();
  });
  return { available: launched.available, browser, ...pageHelpers(browser) };
}
