import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

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
