// `agentd report` (packages/core/src/cli/commands/report.ts) against a real running host: core
// cannot import this package, so the command asks the host's documented `GET /api/report`.
import { join } from 'node:path';
import { agent, type Host, type HostConfig, TaskQueueToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportCommand } from '../../../core/src/cli/commands/report.js';
import { STATUS_NOT_RUNNING } from '../../../core/src/cli/commands/status.js';
import {
  type CliTestProject,
  capturedIo,
  cliTestProject,
  freePort,
} from '../../../core/src/cli/test-project.js';
import type { DailyReport } from './report-data.js';
import { report } from './report-plugin.js';

const TOKEN = 'report-cli-token-0123456789';
let project: CliTestProject;
beforeEach(() => {
  project = cliTestProject('report');
});
afterEach(() => project.cleanup());

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
      sqlite({ path: join(project.dir, 'agentd.db') }),
      webhook({ port, api: { token: TOKEN } }),
      report({ auth: 'bearer' }),
    ],
  };
  const started = await project.start(config);
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

    const text = capturedIo();
    expect(await reportCommand(text.io, { cwd: project.dir })).toBe(0);
    expect(text.out[0]).toMatch(/^Host report-cli, .+ UTC\n\nTasks: 3 \(completed 2, failed 1\)/);
    expect(text.out[0]).toContain('Top failures:\n  1x the tool is missing [broken]');
    expect(text.out.join('\n')).not.toContain(TOKEN);

    const json = capturedIo();
    expect(await reportCommand(json.io, { cwd: project.dir, json: true, since: '7d' })).toBe(0);
    const body = JSON.parse(json.out.join('\n')) as DailyReport;
    expect(body.to - body.from).toBe(7 * 86_400_000);
    expect(body.tasks.byAgent).toEqual([
      { agent: 'broken', byStatus: { failed: 1 } },
      { agent: 'echo', byStatus: { completed: 2 } },
    ]);

    const bad = capturedIo();
    expect(await reportCommand(bad.io, { cwd: project.dir, since: 'yesterday' })).toBe(2);
    expect(bad.err[0]).toMatch(/since must be a duration/);
  });

  it('says so and exits 3 when no host answers', async () => {
    const stopped = await startHost(await freePort());
    await stopped.stop('done');
    const cli = capturedIo();
    expect(await reportCommand(cli.io, { cwd: project.dir })).toBe(STATUS_NOT_RUNNING);
    expect(cli.out[0]).toMatch(
      /^host "report-cli": no report \(no host answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\)$/,
    );
  });
});
