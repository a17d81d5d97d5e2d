import { describe, expect, it } from 'vitest';
import { ChatCommandsToken } from '../chat-commands/access.js';
import { NotifierToken } from '../contracts/notifier.js';
import { SessionStoreToken } from '../contracts/session.js';
import { StateStoreToken } from '../contracts/state.js';
import { TaskStoreToken } from '../contracts/task.js';
import { ConfigError } from '../kernel/errors.js';
import { KERNEL_SERVICES } from '../kernel/host.js';
import type { Plugin } from '../kernel/plugin.js';
import { orderPlugins } from '../kernel/plugin-graph.js';
import { withPresetPlugins } from '../kernel/preset.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { builtinPreset } from './builtin-preset.js';
import { createHost, type HostConfig, validateConfig } from './host.js';

/** Stands in for a store plugin: only its declared services matter to the preset. */
const fakeStore: Plugin = {
  name: 'store',
  provides: [TaskStoreToken, StateStoreToken, SessionStoreToken],
};

async function builtinsFor(config: HostConfig): Promise<string[]> {
  const resolved = await validateConfig(config);
  return orderPlugins(withPresetPlugins(resolved, [builtinPreset]), KERNEL_SERVICES).map(
    (p) => p.plugin.name,
  );
}

describe('the built-in preset', () => {
  it('adds the runner, failover, sessions, the notifier and roles with a store, ordered by after', async () => {
    // failover follows sessions and the notifier, the runner follows failover (its executor).
    expect(await builtinsFor({ plugins: [fakeStore] })).toEqual([
      'store',
      'commands',
      'sessions',
      'notifier',
      'failover',
      'runner',
      'roles',
    ]);
  });

  it('reads the top-level keys: sessions off, schedules on', async () => {
    const names = await builtinsFor({
      plugins: [fakeStore],
      sessions: false,
      commands: false,
      schedules: [{ name: 'daily', cron: '0 8 * * *', task: { input: 'report' } }],
    });
    expect(names).toEqual(['store', 'runner', 'notifier', 'roles', 'scheduler']);
  });

  it('leaves roles out with roles: false, and validates the roles key', async () => {
    const names = await builtinsFor({
      plugins: [fakeStore],
      sessions: false,
      roles: false,
      commands: false,
    });
    expect(names).toEqual(['store', 'runner', 'notifier']);
    await expect(
      validateConfig({ plugins: [fakeStore], roles: { leaseSeconds: 0 } }),
    ).rejects.toThrow(ConfigError);
  });

  it('adds no built-in a config plugin replaces', async () => {
    const alerts: Plugin = {
      name: 'alerts',
      provides: [NotifierToken],
      register: (ctx) => ctx.provide(NotifierToken, { notify: async () => {} }),
    };
    const commands: Plugin = {
      name: 'my-commands',
      provides: [ChatCommandsToken],
      register: (ctx) =>
        ctx.provide(ChatCommandsToken, {
          menus: () => ({ everyone: [], operators: [], operatorIds: [] }),
          isOperator: () => false,
        }),
    };
    expect(await builtinsFor({ plugins: [alerts, commands] })).toEqual(['alerts', 'my-commands']);
  });

  it('createHost applies it by default, presets: [] leaves it out', async () => {
    const withPreset = createHost({ logger: memoryLogger().logger });
    await withPreset.start();
    expect(withPreset.plugins).toEqual(['commands', 'notifier']);
    await withPreset.stop('test');

    const bare = createHost({ logger: memoryLogger().logger }, { presets: [] });
    await bare.start();
    expect(bare.plugins).toEqual([]);
    await bare.stop('test');
  });

  it('keeps validating its keys as before, with the same paths', async () => {
    const error = await validateConfig({
      schedules: [{ name: 'x', cron: '61 * * * *', task: { input: 'x' } }],
      runner: { concurrency: 0 },
      commands: { operators: ['42'], unknown: 'ignore' } as never,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.stringMatching(/^schedules\[0\]\.cron: /),
      expect.stringMatching(/^runner\.concurrency: /),
      expect.stringMatching(/^commands\.operators\[0\]: must be "channel:id"/),
      expect.stringMatching(/^commands\.unknown: /),
    ]);
  });
});
