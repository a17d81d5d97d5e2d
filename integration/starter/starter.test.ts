// examples/starter as a user runs it: `agentd start` with nothing configured (the echo agent
// answers), then with LLM keys (a fake OpenAI-compatible server on 127.0.0.1 whose primary fails,
// so the chain fails over to the second provider). Talked to with `agentd ask`, as the README says.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completion, startFakeOpenAI } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { type CliRun, REPO_ROOT, runCli } from '../support/temp-project.js';

const STARTER = join(REPO_ROOT, 'examples/starter');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A copy of examples/starter in a temp folder, its dependencies linked as npm would install them. */
function starterCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-starter-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['agentd.config.ts', 'package.json', '.env.example']) {
    cpSync(join(STARTER, f), join(dir, f));
  }
  mkdirSync(join(dir, 'node_modules/@agentd'), { recursive: true });
  for (const pkg of [
    'core',
    'store-sqlite',
    'plugin-webhook',
    'plugin-dashboard',
    'plugin-monitor',
    'plugin-telegram',
  ]) {
    symlinkSync(join(REPO_ROOT, 'packages', pkg), join(dir, 'node_modules/@agentd', pkg), 'dir');
  }
  symlinkSync(
    join(REPO_ROOT, 'examples/custom-plugin'),
    join(dir, 'node_modules/agentd-example-custom-plugin'),
    'dir',
  );
  return dir;
}

/** Runs the CLI with only these variables (and PATH/HOME): no keys leak in from the test's env. */
const agentd = (args: string[], cwd: string, env: Record<string, string>): CliRun =>
  runCli(args, cwd, env, { inheritEnv: false });

async function startStarter(dir: string, env: Record<string, string>): Promise<void> {
  const host = agentd(['start'], dir, env);
  cleanups.push(async () => {
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
  });
  await host.waitFor('HTTP server listening', 60_000);
}

async function ask(dir: string, env: Record<string, string>, text: string) {
  const run = agentd(['ask', text, '--timeout', '30s'], dir, env);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

describe('examples/starter', () => {
  it('runs with nothing configured: the echo agent answers agentd ask, the dashboard and health are up', async () => {
    const dir = starterCopy();
    const env = { AGENTD_PORT: String(await freePort()) };
    await startStarter(dir, env);

    const answer = await ask(dir, env, 'hello starter');
    expect(answer.err).toBe('');
    expect(answer.code).toBe(0);
    expect(answer.out).toContain('echo: hello starter');

    const base = `http://127.0.0.1:${env.AGENTD_PORT}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const page = await fetch(`${base}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('agentd_');
  }, 120_000);

  it('with keys, answers from the LLM and fails over to the second provider when the first is down', async () => {
    const primary = await startFakeOpenAI({ apiKey: 'sk-primary-0123456789' });
    const fallback = await startFakeOpenAI({ apiKey: 'sk-fallback-0123456789' });
    cleanups.push(
      () => primary.close(),
      () => fallback.close(),
    );
    const dir = starterCopy();
    const env = {
      AGENTD_PORT: String(await freePort()),
      LLM_BASE_URL: primary.baseUrl,
      LLM_API_KEY: 'sk-primary-0123456789',
      LLM_MODEL: 'primary-model',
      LLM_FALLBACK_BASE_URL: fallback.baseUrl,
      LLM_FALLBACK_API_KEY: 'sk-fallback-0123456789',
      LLM_FALLBACK_MODEL: 'fallback-model',
    };
    await startStarter(dir, env);

    primary.respond(() => completion('from the primary'));
    const first = await ask(dir, env, 'who answers?');
    expect(first.code).toBe(0);
    expect(first.out).toContain('from the primary');
    expect(primary.requests.at(-1)?.body.model).toBe('primary-model');

    // The primary is rate limited: the chain moves on to the fallback provider at once.
    primary.respond(() => ({ status: 429, body: { error: { message: 'rate limited' } } }));
    fallback.respond(() => completion('from the fallback'));
    const second = await ask(dir, env, 'and now?');
    expect(second.code).toBe(0);
    expect(second.out).toContain('from the fallback');
    expect(fallback.requests.at(-1)?.authorization).toBe('Bearer sk-fallback-0123456789');
  }, 120_000);

  it('answers many chats at once: one waiting on the LLM does not hold up the others', async () => {
    const llm = await startFakeOpenAI({ apiKey: 'sk-primary-0123456789' });
    cleanups.push(() => llm.close());
    // A slow provider: every answer takes 6 s. At the runner's default concurrency of 3 the
    // fourth chat's request could not reach it before the first answers came back.
    llm.respond(() => ({ ...completion('a considered answer'), delayMs: 6_000 }));
    const dir = starterCopy();
    const token = 'starter-test-token-0123456789';
    const env = {
      AGENTD_PORT: String(await freePort()),
      AGENTD_API_TOKEN: token,
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: 'sk-primary-0123456789',
    };
    await startStarter(dir, env);
    const base = `http://127.0.0.1:${env.AGENTD_PORT}/api/v1/chat`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const chats = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara'];
    for (const chat of chats) {
      const sent = await fetch(`${base}/${chat}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: `a question from ${chat}` }),
      });
      expect(sent.status).toBe(202);
    }
    // All six are with the provider at once, well before its first answer is due.
    await expect.poll(() => llm.requests.length, { timeout: 5_000 }).toBe(chats.length);
    for (const chat of chats) {
      const read = await fetch(`${base}/${chat}/messages?timeout=20s`, { headers });
      const { messages } = (await read.json()) as { messages: { text: string }[] };
      expect(messages.map((m) => m.text)).toEqual(['a considered answer']);
    }
  }, 120_000);
});
