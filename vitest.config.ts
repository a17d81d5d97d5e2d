import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Packages that have tests so far; add one here when it gains its first test.
const packages = [
  'core',
  'store-sqlite',
  'store-postgres',
  'plugin-webhook',
  'plugin-telegram',
  'plugin-monitor',
  'plugin-dashboard',
  'create-agentd',
];
const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import sibling packages from source, so a stale dist/ never hides a change.
// Child processes spawned by tests (the real CLI) use the built packages instead.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@agentd\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
      { find: /^@agentd\/core\/host$/, replacement: src('core/src/entries/host.ts') },
      { find: /^@agentd\/core\/store$/, replacement: src('core/src/entries/store.ts') },
      { find: /^@agentd\/core\/runner$/, replacement: src('core/src/entries/runner.ts') },
      { find: /^@agentd\/core\/failover$/, replacement: src('core/src/entries/failover.ts') },
      { find: /^@agentd\/core\/sessions$/, replacement: src('core/src/entries/sessions.ts') },
      { find: /^@agentd\/core\/scheduler$/, replacement: src('core/src/entries/scheduler.ts') },
      { find: /^@agentd\/core\/roles$/, replacement: src('core/src/entries/roles.ts') },
      {
        find: /^@agentd\/core\/chat-commands$/,
        replacement: src('core/src/entries/chat-commands.ts'),
      },
      { find: /^@agentd\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@agentd\/store-sqlite$/, replacement: src('store-sqlite/src/index.ts') },
      {
        find: /^@agentd\/store-postgres\/testing$/,
        replacement: src('store-postgres/src/testing/index.ts'),
      },
      { find: /^@agentd\/store-postgres$/, replacement: src('store-postgres/src/index.ts') },
      { find: /^@agentd\/plugin-webhook$/, replacement: src('plugin-webhook/src/index.ts') },
      {
        find: /^@agentd\/plugin-telegram\/testing$/,
        replacement: src('plugin-telegram/src/testing/index.ts'),
      },
      { find: /^@agentd\/plugin-telegram$/, replacement: src('plugin-telegram/src/index.ts') },
      { find: /^@agentd\/plugin-monitor$/, replacement: src('plugin-monitor/src/index.ts') },
      { find: /^@agentd\/plugin-dashboard$/, replacement: src('plugin-dashboard/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['src/**/*.test.ts'] },
      })),
      {
        extends: true,
        // Real child processes (hosts, the CLI) that start, get killed and restart: on a loaded
        // 2-core machine, or a Node whose first start compiles every module, that takes time.
        test: {
          name: 'integration',
          root: 'integration',
          include: ['**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
