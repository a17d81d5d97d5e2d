// `agentd status` (packages/core/src/cli/commands/status.ts) against a real host with this
// plugin: it lives in core, but needs a running HTTP API to test, which only this package has.
import { join } from 'node:path';
import { agent, type HostConfig } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { openSqliteStore, sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STATUS_NOT_RUNNING, statusCommand } from '../../core/src/cli/commands/status.js';
import {
  type CliTestProject,
  capturedIo,
  cliTestProject,
  freePort,
} from '../../core/src/cli/test-project.js';
import { webhook } from './plugin.js';

const TOKEN = 'status-test-token-0123456789';
let project: CliTestProject;
beforeEach(() => {
  project = cliTestProject('status');
});
afterEach(() => project.cleanup());

function useConfig(port: number, token: string | undefined, withWebhook = true): HostConfig {
  const config: HostConfig = {
    name: 'status-test',
    logger: memoryLogger().logger,
    agents: [agent('echo', (input) => input)],
    plugins: [
      sqlite({ path: join(project.dir, 'agentd.db') }),
      withWebhook && webhook({ port, ...(token ? { api: { token } } : {}) }),
    ],
  };
  return project.use(config);
}

describe('agentd status', () => {
  it('reads the store directly, and says so, when no host is running', async () => {
    const port = await freePort();
    useConfig(port, TOKEN);
    const cli = capturedIo();
    const code = await statusCommand(cli.io, { cwd: project.dir });
    expect(code).toBe(STATUS_NOT_RUNNING);
    expect(cli.out[0]).toBe('host "status-test": no running host answered');
    expect(cli.out[1]).toBe(
      `  source: the store, read directly (no host answers at http://127.0.0.1:${port} (ECONNREFUSED))`,
    );
    expect(cli.out[2]).toBe(
      '  tasks: 0 pending, 0 held, 0 running, 0 completed, 0 failed, 0 cancelled',
    );
    expect(cli.out[3]).toBe('  replies: none owed');
    expect(cli.out[4]).toMatch(/^ {2}store: sqlite:.*agentd\.db$/);
  });

  it('counts the replies still owed, from the store or from the running host', async () => {
    const port = await freePort();
    useConfig(port, TOKEN);
    // A task finished with a result for a chat address while no channel could take it.
    const store = openSqliteStore({ path: join(project.dir, 'agentd.db') });
    const now = Date.now();
    const { task } = await store.tasks.enqueue(
      { input: 'hi', agent: 'echo', replyTo: { channel: 'chat', id: '7' } },
      now,
    );
    await store.tasks.claim({ owner: 'gone', leaseMs: 60_000, now });
    await store.tasks.complete(task.id, 'gone', 'hello', now);
    await store.close();
    const offline = capturedIo();
    await statusCommand(offline.io, { cwd: project.dir });
    expect(offline.out).toContain(
      '  replies: 1 owed (results not yet delivered to their channels; retried with backoff)',
    );
    const json = capturedIo();
    await statusCommand(json.io, { cwd: project.dir, json: true });
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      source: 'store',
      replies: { owed: 1 },
    });

    // The host has no "chat" channel, so the reply stays owed while it runs.
    await project.start(useConfig(port, TOKEN));
    const online = capturedIo();
    await statusCommand(online.io, { cwd: project.dir, json: true });
    expect(JSON.parse(online.out.join('\n'))).toMatchObject({
      source: 'api',
      replies: { owed: 1 },
    });
  });

  it('asks the running host through its API', async () => {
    const port = await freePort();
    const config = useConfig(port, TOKEN);
    await project.start(config);
    const cli = capturedIo();
    expect(await statusCommand(cli.io, { cwd: project.dir })).toBe(0);
    expect(cli.out[0]).toMatch(/^host "status-test": ready since .* \(up \d+s\), pid \d+$/);
    expect(cli.out).toContain(`  source: the running host's HTTP API at http://127.0.0.1:${port}`);
    expect(cli.out).toContain('  intake: open, 0 in flight');
    expect(cli.out).toContain(
      '  tasks: 0 pending, 0 held, 0 running, 0 completed, 0 failed, 0 cancelled',
    );
    expect(cli.out).toContain('  replies: none owed');
    expect(cli.out.join('\n')).not.toContain(TOKEN);

    const json = capturedIo();
    await statusCommand(json.io, { cwd: project.dir, json: true });
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      source: 'api',
      host: { name: 'status-test', state: 'ready' },
      tasks: { pending: 0 },
    });
  });

  it('falls back to the store when the host refuses the token, or the API is off', async () => {
    const port = await freePort();
    await project.start(useConfig(port, TOKEN));
    useConfig(port, 'another-token-0123456789');
    const refused = capturedIo();
    expect(await statusCommand(refused.io, { cwd: project.dir, json: true })).toBe(
      STATUS_NOT_RUNNING,
    );
    expect(JSON.parse(refused.out.join('\n'))).toMatchObject({
      source: 'store',
      reason: `the host at http://127.0.0.1:${port} refused the API token (401)`,
      tasks: { pending: 0 },
    });
    useConfig(port, undefined);
    const off = capturedIo();
    await statusCommand(off.io, { cwd: project.dir });
    expect(off.out[1]).toContain('the webhook plugin has no api.token, so the HTTP API is off');
    useConfig(port, TOKEN, false);
    const none = capturedIo();
    await statusCommand(none.io, { cwd: project.dir });
    expect(none.out[1]).toContain('the config has no webhook plugin');
  });
});
