import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateKernelConfig } from '../config/validate-config.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { ConfigError } from './errors.js';
import { createKernelHost } from './host.js';
import type { Plugin } from './plugin.js';
import { definePreset } from './preset.js';
import { createToken } from './token.js';

const GreetingToken = createToken<{ text: string }>('test.greeting');

const greeter = (text: string): Plugin => ({
  name: 'greeter',
  provides: [GreetingToken],
  register: (ctx) => ctx.provide(GreetingToken, { text }),
});

/** Adds a greeter for the `greeting` key unless a config plugin provides one already. */
const greeterPreset = definePreset({
  name: 'greetings',
  config: { greeting: z.string().min(2, 'too short').optional() },
  resolvePlugins: (settings, { provided }) =>
    settings.greeting && !provided(GreetingToken) ? [greeter(settings.greeting)] : [],
});

const issuesOf = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
};

describe('presets', () => {
  it('a kernel host without presets refuses the keys presets read', async () => {
    expect(await issuesOf(validateKernelConfig({ greeting: 'hello' }))).toEqual([
      'Unrecognized key: "greeting"',
    ]);
  });

  it("validates a preset's key with its schema, reporting the key's path", async () => {
    const config = { greeting: 'x', nope: 1 };
    expect(await issuesOf(validateKernelConfig(config, { presets: [greeterPreset] }))).toEqual([
      'Unrecognized key: "nope"',
      'greeting: too short',
    ]);
  });

  it("interpolates ${ENV} in a preset's keys and hands the settings over", async () => {
    const resolved = await validateKernelConfig(
      { greeting: '${GREETING}' },
      { presets: [greeterPreset], env: { GREETING: 'hello' } },
    );
    expect(resolved.settings).toEqual({ greeting: 'hello' });
  });

  it("adds the preset's plugins after the config's, and none where a plugin provides", async () => {
    const host = createKernelHost(
      { logger: memoryLogger().logger, greeting: 'hello' } as Parameters<
        typeof createKernelHost
      >[0],
      { presets: [greeterPreset] },
    );
    await host.start();
    expect(host.plugins).toEqual(['greeter']);
    expect(host.resolve(GreetingToken).text).toBe('hello');
    await host.stop('test');

    const own = createKernelHost(
      {
        logger: memoryLogger().logger,
        greeting: 'hello',
        plugins: [{ ...greeter('mine'), name: 'my-greeter' }],
      } as Parameters<typeof createKernelHost>[0],
      { presets: [greeterPreset] },
    );
    await own.start();
    expect(own.plugins).toEqual(['my-greeter']);
    expect(own.resolve(GreetingToken).text).toBe('mine');
    await own.stop('test');
  });

  it('refuses a preset key the kernel or another preset reads already', async () => {
    const clash = definePreset({
      name: 'clash',
      config: { agents: z.unknown() },
      resolvePlugins: () => [],
    });
    expect(await issuesOf(validateKernelConfig({}, { presets: [clash] }))).toEqual([
      'preset "clash": config key "agents" is already read by the kernel',
    ]);
    const twice = definePreset({ ...greeterPreset, name: 'again' });
    expect(await issuesOf(validateKernelConfig({}, { presets: [greeterPreset, twice] }))).toEqual([
      'preset "again": config key "greeting" is already read by preset "greetings"',
    ]);
  });
});
