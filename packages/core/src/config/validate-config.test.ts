import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { llmAgent } from '../agents/llm-agent.js';
import { ConfigError } from '../kernel/errors.js';
import type { Plugin } from '../kernel/plugin.js';
import { validateConfig } from '../preset/host.js';
import { EnvInterpolation, interpolateEnv } from './interpolate.js';

const issuesOf = async (config: unknown, env: NodeJS.ProcessEnv = {}) => {
  const error = await validateConfig(config, { env }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
};

describe('interpolateEnv', () => {
  it('replaces ${NAME}, applies ${NAME:-default}, keeps $$ as a literal $', () => {
    const found = new EnvInterpolation();
    const out = interpolateEnv(
      { url: 'http://${HOST}:${PORT:-8080}/x', price: '$$5', list: ['${HOST}'], n: 3 },
      { HOST: 'example.test' },
      'plugins[0]',
      found,
    );
    expect(out).toEqual({
      url: 'http://example.test:8080/x',
      price: '$5',
      list: ['example.test'],
      n: 3,
    });
    expect(found.unset.size).toBe(0);
    // Only values from the environment are secrets, not the defaults written in the config.
    expect([...found.secrets]).toEqual(['example.test']);
  });

  it('names every unset variable once, with every path that uses it, never a value', () => {
    const found = new EnvInterpolation();
    interpolateEnv(
      { a: { token: '${TOKEN}' }, b: ['${OTHER}'], c: '${TOKEN}' },
      {},
      'plugins[2]',
      found,
    );
    expect(found.issues()).toEqual([
      'environment variable TOKEN is not set (used at plugins[2].a.token, plugins[2].c)',
      'environment variable OTHER is not set (used at plugins[2].b[0])',
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
    // A wrong key at the top does not hide the plugins' and agents' problems.
    const gpt = llmAgent({ name: 'gpt', baseUrl: '${LLM_URL}', apiKey: 'k', model: 'm' });
    expect(
      await issuesOf({ timeouts: { stopMs: 0 }, pluggins: [], agents: [gpt], plugins: [web] }),
    ).toEqual([
      'environment variable LLM_URL is not set (used at agents[0].baseUrl)',
      'timeouts.stopMs: Too small: expected number to be >0',
      'Unrecognized key: "pluggins"',
      'plugins[0].port: Invalid input: expected int, received number',
      'plugins[0].host: Invalid input: expected string, received undefined',
    ]);
    // A list the schema refused is not walked.
    expect(await issuesOf({ plugins: 'web', agents: 3 })).toEqual([
      'plugins: Invalid input: expected array, received string',
      'agents: Invalid input: expected array, received number',
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

  it('fills in ${ENV} in the whole config: schedules, failover, agents and plugin options', async () => {
    const seen: unknown[] = [];
    const bot: Plugin = {
      name: 'bot',
      optionsSchema: z.object({ token: z.string(), chat: z.string() }),
      options: { token: '${BOT_TOKEN}', chat: '${CHAT:-42}' },
      register: (ctx) => void seen.push(ctx.options),
    };
    const resolved = await validateConfig(
      {
        dataDir: '${DATA_DIR}',
        agents: [
          llmAgent({
            name: 'gpt',
            baseUrl: '${LLM_URL}',
            apiKey: '${OPENAI_API_KEY}',
            model: 'gpt-test',
          }),
        ],
        schedules: [{ name: 'daily', cron: '0 9 * * *', task: { input: '${REPORT_TEXT}' } }],
        failover: { chains: { gpt: ['${FALLBACK_AGENT}'] } },
        name: 'bot-${ADMIN_ID}',
        plugins: [bot],
      },
      {
        env: {
          DATA_DIR: '/var/lib/bot',
          LLM_URL: 'http://127.0.0.1:9/v1',
          OPENAI_API_KEY: 'sk-proj-abcdefghijklmnop1234',
          REPORT_TEXT: 'daily report',
          FALLBACK_AGENT: 'local',
          BOT_TOKEN: '123456:not-from-env-secret',
          ADMIN_ID: '123456789',
        },
      },
    );
    expect(resolved.dataDir).toBe('/var/lib/bot');
    expect((resolved.settings.schedules as { task: unknown }[])[0]).toMatchObject({
      task: { input: 'daily report' },
    });
    expect(resolved.settings.failover).toEqual({ chains: { gpt: ['local'] } });
    expect(resolved.plugins[0]?.options).toEqual({
      token: '123456:not-from-env-secret',
      chat: '42',
    });
    expect(resolved.agents[0]?.options).toMatchObject({
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: 'sk-proj-abcdefghijklmnop1234',
    });
    expect(resolved.secrets).toEqual(
      expect.arrayContaining(['sk-proj-abcdefghijklmnop1234', '123456:not-from-env-secret']),
    );
    expect(resolved.secrets).not.toContain('42');
    // A chat id from the environment is an id, not a secret.
    expect(resolved.name).toBe('bot-123456789');
    expect(resolved.secrets).not.toContain('123456789');
  });

  it('reports each unset variable once, naming where it is used, and nothing that follows from it', async () => {
    const bot: Plugin = {
      name: 'bot',
      optionsSchema: z.object({ token: z.string().min(10) }),
      options: { token: '${OPENAI_API_KEY}' },
    };
    const issues = await issuesOf({
      dataDir: '${MISSING_DIR}',
      agents: [
        llmAgent({ name: 'gpt', baseUrl: '${LLM_URL}', apiKey: '${OPENAI_API_KEY}', model: 'm' }),
      ],
      plugins: [bot],
    });
    expect(issues).toEqual([
      'environment variable MISSING_DIR is not set (used at dataDir)',
      'environment variable LLM_URL is not set (used at agents[0].baseUrl)',
      'environment variable OPENAI_API_KEY is not set (used at agents[0].apiKey, plugins[0].token)',
    ]);
  });

  it('names the agent and the option when an llmAgent option is missing or not a URL', async () => {
    const missing = (() => {
      try {
        llmAgent({ name: 'gpt', baseUrl: undefined as unknown as string, model: 'm' });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toMatch(/^llmAgent "gpt": baseUrl is missing/);
    // A placeholder that resolves to something that is not a URL is reported at start.
    const issues = await issuesOf(
      { agents: [llmAgent({ name: 'gpt', baseUrl: '${LLM_URL}', model: 'm' })] },
      { LLM_URL: 'not a url' },
    );
    expect(issues).toEqual([
      'agents[0]: llmAgent "gpt": baseUrl must be an http(s) URL, e.g. https://api.openai.com/v1',
    ]);
  });
});
