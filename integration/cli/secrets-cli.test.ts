import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeOpenAI, startFakeOpenAI } from '@agentd/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

// The config as a user writes it (docs/agents.md): the key and the URL come from the environment.
const CONFIG = `
import { defineConfig, llmAgent } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
export default defineConfig({
  name: 'secret-host',
  agents: [
    llmAgent({ name: 'gpt', baseUrl: '\${LLM_BASE_URL}', apiKey: '\${OPENAI_API_KEY}', model: 'gpt-test' }),
  ],
  runner: { pollMs: 50 },
  plugins: [sqlite({ path: './data/agentd.db' })],
});
`;

const API_KEY = 'sk-proj-CLITESTKEY0123456789abcdefgh';
const FOREIGN = ['gsk_CLIFOREIGNKEY0123456789', 'cli-db-password', 'QUERYSECRET42'];

let project: ReturnType<typeof tempProject> | undefined;
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  project?.cleanup();
  project = undefined;
  await fake?.close();
  fake = undefined;
});
beforeAll(() => {
  if (!existsSync(join(CORE_DIR, '../store-sqlite/dist/index.js'))) {
    throw new Error('packages/store-sqlite/dist is missing: run "npm run build" first');
  }
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = runCli(args, project!.dir, env);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

describe('secrets through the real CLI', () => {
  it('agentd check names each unset variable once, with where it is used', async () => {
    project = tempProject({ 'agentd.config.ts': CONFIG });
    const checked = await cli(['check'], { OPENAI_API_KEY: '', LLM_BASE_URL: '' });
    expect(checked.code).toBe(1);
    expect(checked.err).toBe(
      [
        'agentd: invalid config',
        '  environment variable LLM_BASE_URL is not set (used at agents[0].baseUrl)',
        '  environment variable OPENAI_API_KEY is not set (used at agents[0].apiKey)',
        '',
      ].join('\n'),
    );
  });

  it('agentd check names the agent and the option when llmAgent has no baseUrl', async () => {
    project = tempProject({
      'agentd.config.ts': CONFIG.replace("baseUrl: '${LLM_BASE_URL}', ", 'baseUrl: undefined, '),
    });
    const checked = await cli(['check'], { OPENAI_API_KEY: API_KEY });
    expect(checked.code).toBe(1);
    expect(checked.err).toContain('llmAgent "gpt": baseUrl is missing');
    expect(checked.err).not.toContain('Cannot read properties');
  });

  it('a host with ${OPENAI_API_KEY} sends the key, and no secret reaches agentd tasks --json or the log', async () => {
    fake = await startFakeOpenAI({ apiKey: API_KEY });
    project = tempProject({ 'agentd.config.ts': CONFIG });
    const env = { OPENAI_API_KEY: API_KEY, LLM_BASE_URL: fake.baseUrl };
    const host = runCli(['start'], project.dir, env);
    try {
      await host.waitFor('is ready', 30_000);
      expect((await cli(['enqueue', 'first', '--agent', 'gpt'], env)).code).toBe(0);
      await until(() => fake!.requests.length >= 1);
      // The placeholder was filled in: the provider saw the real key.
      expect(fake.requests[0]?.authorization).toBe(`Bearer ${API_KEY}`);

      fake.respond(() => ({
        status: 500,
        body: {
          error: {
            message: `failed with ${API_KEY} and ${FOREIGN[0]} at https://u:${FOREIGN[1]}@db/x?key=${FOREIGN[2]}`,
          },
        },
      }));
      const enqueued = await cli(
        ['enqueue', 'second', '--agent', 'gpt', '--max-attempts', '1'],
        env,
      );
      const id = /^enqueued (\S+)/.exec(enqueued.out)?.[1];
      expect(id).toBeTruthy();
      let listed = { code: 0 as number | string, out: '', err: '' };
      await until(async () => {
        listed = await cli(['tasks', '--json'], env);
        const tasks = JSON.parse(listed.out) as { id: string; status: string }[];
        return tasks.some((t) => t.id === id && t.status === 'failed');
      }, 30_000);
      const failed = (JSON.parse(listed.out) as { id: string; error: { message: string } }[]).find(
        (t) => t.id === id,
      );
      expect(failed?.error.message).toContain('HTTP 500: failed with [redacted]');
      for (const text of [listed.out, listed.err]) {
        for (const secret of [API_KEY, ...FOREIGN]) expect(text).not.toContain(secret);
      }
      const table = await cli(['tasks'], env);
      for (const secret of [API_KEY, ...FOREIGN]) expect(table.out).not.toContain(secret);
    } finally {
      host.child.kill('SIGTERM');
      await host.exited;
    }
    const log = host.stdout() + host.stderr();
    expect(log).toContain('task failed');
    for (const secret of [API_KEY, ...FOREIGN]) expect(log).not.toContain(secret);
    // Several real CLI runs, each loading the TypeScript config: slow on a loaded machine.
  }, 180_000);
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
