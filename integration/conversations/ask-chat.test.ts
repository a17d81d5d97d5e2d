// `agentd ask` and `agentd chat` as a user runs them: real child processes talking HTTP to a host
// started with `agentd start`; chat driven through a pseudo-terminal (node-pty) and through pipes.
import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { CLI, type CliRun, CORE_DIR, runCli, tempProject } from '../support/temp-project.js';

const TOKEN = 'ask-chat-token-0123456789abcdef';
const ENV = { AGENTD_API_TOKEN: TOKEN };

const config = (port: number) => `
import { agent, AgentError, defineConfig } from '@agentd/core';
import { sqlite } from '@agentd/store-sqlite';
import { webhook } from '@agentd/plugin-webhook';

export default defineConfig({
  name: 'ask-chat-host',
  runner: { pollMs: 50 },
  agents: [
    agent('writer', (input) => 'wrote: ' + input),
    // An answer with a terminal escape sequence (a retitle), as an LLM could be made to write.
    agent('evil', () => 'done\\u001b]0;pwned\\u0007'),
    agent('slow', async (input) => {
      await new Promise((r) => setTimeout(r, 5000));
      return 'late: ' + input;
    }),
    agent('broken', () => {
      // An authentication error: given up at once, not retried.
      throw new AgentError('the provider is down', { status: 401 });
    }),
  ],
  plugins: [
    sqlite({ path: './data/agentd.db' }),
    webhook({ port: ${port}, api: { token: '\${AGENTD_API_TOKEN}' } }),
  ],
});
`;

let project: ReturnType<typeof tempProject>;
let host: CliRun;

beforeAll(async () => {
  project = tempProject({ 'agentd.config.mjs': config(await freePort()) });
  symlinkSync(
    resolve(CORE_DIR, '../plugin-webhook'),
    join(project.dir, 'node_modules/@agentd/plugin-webhook'),
    'dir',
  );
  host = runCli(['start'], project.dir, ENV);
  await host.waitFor('HTTP server listening', 30_000);
}, 60_000);

afterAll(async () => {
  host?.child.kill('SIGTERM');
  await host?.exited;
  project?.cleanup();
});

async function cli(args: string[], env: NodeJS.ProcessEnv = ENV) {
  const run = runCli(args, project.dir, env);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

describe('agentd ask', () => {
  it('prints the answer and exits 0', async () => {
    const { code, out, err } = await cli(['ask', 'hello there', '--agent', 'writer']);
    expect(code).toBe(0);
    expect(out.trim()).toBe('wrote: hello there');
    expect(out + err).not.toContain(TOKEN);
  });

  it('prints escape sequences of an answer as text, not to the terminal', async () => {
    const { code, out } = await cli(['ask', 'x', '--agent', 'evil']);
    expect(code).toBe(0);
    expect(out.trim()).toBe('done\\u001b]0;pwned\\u0007');
    expect(out).not.toContain('\u001b');
  });

  it('exits 1 when the task fails, with a summary and not the raw error', async () => {
    const { code, out, err } = await cli(['ask', 'x', '--agent', 'broken']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/failed/);
  });

  it('exits 2 when no answer comes in time, saying which task goes on', async () => {
    const { code, err } = await cli(['ask', 'x', '--agent', 'slow', '--timeout', '1s']);
    expect(code).toBe(2);
    expect(err).toMatch(/still (pending|running)/);
  });

  it('exits 4 when the host refuses the question, and 3 when no host answers', async () => {
    const refused = await cli(['ask', 'x', '--agent', 'nobody']);
    expect(refused.code).toBe(4);
    expect(refused.err).toContain('nobody');
    const nowhere = await cli(['ask', 'x'], {
      AGENTD_API_URL: 'http://127.0.0.1:9',
      AGENTD_API_TOKEN: TOKEN,
    });
    expect(nowhere.code).toBe(3);
    expect(nowhere.err).toContain('no host answers');
    const badToken = await cli(['ask', 'x'], { AGENTD_API_TOKEN: 'not-the-token-at-all-123' });
    expect(badToken.code).toBe(3);
    expect(badToken.err).toContain('refused the API token');
    expect(badToken.err).not.toContain('not-the-token-at-all-123');
  });
});

describe('agentd chat', () => {
  it('chats in a terminal: replies as they arrive, commands, /quit', async () => {
    const term = pty.spawn(process.execPath, [CLI, 'chat', '--conversation', 'pty-test'], {
      cwd: project.dir,
      cols: 100,
      rows: 30,
      env: { ...process.env, ...ENV, AGENTD_LOG_LEVEL: 'warn' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => {
      screen += d;
    });
    const exited = new Promise<number>((ok) => term.onExit((e) => ok(e.exitCode)));
    const waitFor = async (text: string, timeoutMs = 15_000) => {
      const end = Date.now() + timeoutMs;
      while (!screen.includes(text)) {
        if (Date.now() > end) throw new Error(`timed out waiting for "${text}" in:\n${screen}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor('you> ');
    expect(screen).toContain('as "pty-test"');
    term.write('hello from the terminal\r');
    await waitFor('wrote: hello from the terminal');
    term.write('/sessions\r');
    await waitFor('/sessions');
    // The session command lists the session this conversation got.
    await waitFor('main  live');
    term.write('/quit\r');
    expect(await exited).toBe(0);
    expect(screen).not.toContain(TOKEN);
  });

  it('reads piped lines and waits for their answers before leaving', async () => {
    const child = spawn(process.execPath, [CLI, 'chat', '--conversation', 'pipe-test'], {
      cwd: project.dir,
      env: { ...process.env, ...ENV, AGENTD_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stdin.end('one\ntwo\n');
    const code = await new Promise((ok) => child.on('exit', ok));
    expect(code).toBe(0);
    expect(out).toContain('wrote: one');
    expect(out).toContain('wrote: two');
  });

  it('exits 3 when no host answers', async () => {
    const { code, err } = await cli(['chat'], {
      AGENTD_API_URL: 'http://127.0.0.1:9',
      AGENTD_API_TOKEN: TOKEN,
    });
    expect(code).toBe(3);
    expect(err).toContain('no host answers');
  });
});
