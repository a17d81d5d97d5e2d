import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../kernel/errors.js';
import type { Plugin } from '../kernel/plugin.js';
import { interpolateEnv } from './interpolate.js';
import { validateConfig } from './validate-config.js';

const issuesOf = async (config: unknown, env: NodeJS.ProcessEnv = {}) => {
  const error = await validateConfig(config, { env }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
};

describe('interpolateEnv', () => {
  it('replaces ${NAME}, applies ${NAME:-default}, keeps $$ as a literal $', () => {
    const issues: string[] = [];
    const out = interpolateEnv(
      { url: 'http://${HOST}:${PORT:-8080}/x', price: '$$5', list: ['${HOST}'], n: 3 },
      { HOST: 'example.test' },
      'plugins[0]',
      issues,
    );
    expect(out).toEqual({
      url: 'http://example.test:8080/x',
      price: '$5',
      list: ['example.test'],
      n: 3,
    });
    expect(issues).toEqual([]);
  });

  it('names every unset variable with its path, never a value', () => {
    const issues: string[] = [];
    interpolateEnv({ a: { token: '${TOKEN}' }, b: ['${OTHER}'] }, {}, 'plugins[2]', issues);
    expect(issues).toEqual([
      'plugins[2].a.token: environment variable TOKEN is not set',
      'plugins[2].b[0]: environment variable OTHER is not set',
    ]);
  });
});

describe('validateConfig', () => {
  it('applies defaults', async () => {
    const resolved = await validateConfig({}, { baseDir: '/srv/bot' });
    expect(resolved).toMatchObject({
      name: 'agentd',
      plugins: [],
      dataDir: '/srv/bot/.agentd',
      timeouts: { startMs: 30_000, stopMs: 10_000, drainMs: 30_000 },
    });
  });

  it('reports every problem at once as path: message lines', async () => {
    const web: Plugin = {
      name: 'web',
      optionsSchema: z.object({ port: z.number().int(), host: z.string() }),
      options: { port: 1.5 },
    };
    expect(await issuesOf({ name: '', timeouts: { stopMs: -1 }, extra: 1 })).toEqual([
      'name: Too small: expected string to have >=1 characters',
      'timeouts.stopMs: Too small: expected number to be >0',
      'Unrecognized key: "extra"',
    ]);
    expect(await issuesOf({ plugins: [null, [web], { start() {} }, 'telegram'] })).toEqual([
      'plugins[1][0].port: Invalid input: expected int, received number',
      'plugins[1][0].host: Invalid input: expected string, received undefined',
      'plugins[2].name: a plugin needs a name (a non-empty string)',
      'plugins[3]: expected a plugin object (did you forget to call the factory?)',
    ]);
  });

  it('reports duplicate agent names', async () => {
    const a = { name: 'writer', run: async () => ({ output: 1 }) };
    expect(await issuesOf({ agents: [a, { ...a }, { ...a, name: 'other' }] })).toEqual([
      'agents[1]: duplicate agent name "writer"',
    ]);
  });

  it('keeps secret option values out of messages', async () => {
    const bot: Plugin = {
      name: 'bot',
      optionsSchema: z.object({ token: z.string().length(46) }),
      options: { token: 'my-secret-token' },
    };
    const issues = await issuesOf({ plugins: [bot] });
    expect(issues.join('\n')).not.toContain('my-secret-token');
    expect(issues[0]).toMatch(/^plugins\[0\]\.token: /);
  });
});
