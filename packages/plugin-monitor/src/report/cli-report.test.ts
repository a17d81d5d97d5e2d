// `agentd report` (packages/core/src/cli/commands/report.ts) against a real running host: core
// cannot import this package, so the command asks the host's documented `GET /api/report`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, createHost, type Host, type HostConfig, TaskQueueToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportCommand } from '../../../core/src/cli/commands/report.js';
import { STATUS_NOT_RUNNING } from '../../../core/src/cli/commands/status.js';
import type { DailyReport } from './report-data.js';
import { report } from './report-plugin.js';

const TOKEN = 'report-cli-token-0123456789';
const GLOBAL_KEY = '__agentdReportCliConfig';
type Holder = { [GLOBAL_KEY]?: HostConfig };

let dir: string;
let host: Host | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentd-report-cli-'));
  writeFileSync(join(dir, 'agentd.config.mjs'), `export default () => globalThis.${GLOBAL_KEY};\n`);
});
afterEach(async () => {
  await host?.stop('test end');
  host = undefined;
  delete (globalThis as Holder)[GLOBAL_KEY];
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function startHost(port: number): Promise<Host> {
  const config: HostConfig = {
    name: 'report-cli',
    logger: memoryLogger().logger,
    agents: [
      agent('echo', (input) => input),
      agent('broken', () => {
        throw new Error('the tool is missing');
      }),
    ],
    plugins: [
      sqlite({ path: join(dir, 'agentd.db') }),
      webhook({ port, api: { token: TOKEN } }),
      report({ auth: 'bearer' }),
    ],
  };
  (globalThis as Holder)[GLOBAL_KEY] = config;
  const started = createHost(config);
  host = started;
  await started.start();
  let left = 3;
  const done = new Promise<void>((resolve) => {
    const settle = () => {
      if (--left === 0) resolve();
    };
    started.events.on('task.completed', settle);
    started.events.on('task.failed', settle);
  });
  await started.resolve(TaskQueueToken).enqueueMany([
    { input: 1, agent: 'echo' },
    { input: 2, agent: 'echo' },
    { input: 3, agent: 'broken', maxAttempts: 1 },
  ]);
  await done;
  return started;
}

describe('agentd report', () => {
  it("prints the running host's report as text or JSON, with the API token, and refuses a bad --since", async () => {
    await startHost(await freePort());

    const text = io();
    expect(await reportCommand(text.io, { cwd: dir })).toBe(0);
    expect(text.out[0]).toMatch(/^Host report-cli, .+ UTC\n\nTasks: 3 \(completed 2, failed 1\)/);
    expect(text.out[0]).toContain('Top failures:\n  1x the tool is missing [broken]');
    expect(text.out.join('\n')).not.toContain(TOKEN);

    const json = io();
    expect(await reportCommand(json.io, { cwd: dir, json: true, since: '7d' })).toBe(0);
    const body = JSON.parse(json.out.join('\n')) as DailyReport;
    expect(body.to - body.from).toBe(7 * 86_400_000);
    expect(body.tasks.byAgent).toEqual([
      { agent: 'broken', byStatus: { failed: 1 } },
      { agent: 'echo', byStatus: { completed: 2 } },
    ]);

    const bad = io();
    expect(await reportCommand(bad.io, { cwd: dir, since: 'yesterday' })).toBe(2);
    expect(bad.err[0]).toMatch(/since must be a duration/);
  });

  it('says so and exits 3 when no host answers', async () => {
    const stopped = await startHost(await freePort());
    await stopped.stop('done');
    host = undefined;
    const cli = io();
    expect(await reportCommand(cli.io, { cwd: dir })).toBe(STATUS_NOT_RUNNING);
    expect(cli.out[0]).toMatch(
      /^host "report-cli": no report \(no host answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\)$/,
    );
  });
});
