// `agentd metrics` (packages/core/src/cli/commands/metrics.ts) against a real host: the command
// lives in core, which cannot import this package, so it reads the documented summary route
// over HTTP, and the documented history in the store when no host answers.
import { join } from 'node:path';
import { agent, type Host, type HostConfig, TaskQueueToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metricsCommand } from '../../core/src/cli/commands/metrics.js';
import { STATUS_NOT_RUNNING } from '../../core/src/cli/commands/status.js';
import {
  type CliTestProject,
  capturedIo,
  cliTestProject,
  freePort,
} from '../../core/src/cli/test-project.js';
import { metrics } from './metrics.js';
import type { MetricsSummary } from './metrics-api.js';

const TOKEN = 'metrics-cli-token-0123456789';
let project: CliTestProject;
beforeEach(() => {
  project = cliTestProject('metrics');
});
afterEach(() => project.cleanup());

async function startWithTasks(port: number, n: number): Promise<Host> {
  const config: HostConfig = {
    name: 'metrics-cli',
    logger: memoryLogger().logger,
    agents: [agent('echo', (input) => input)],
    plugins: [
      sqlite({ path: join(project.dir, 'agentd.db') }),
      webhook({ port, api: { token: TOKEN } }),
      metrics(),
    ],
  };
  const started = await project.start(config);
  let left = n;
  const done = new Promise<void>((resolve) => {
    started.events.on('task.completed', () => {
      if (--left === 0) resolve();
    });
  });
  await started
    .resolve(TaskQueueToken)
    .enqueueMany(Array.from({ length: n }, (_, i) => ({ input: i, type: 'manual' })));
  await done;
  return started;
}

describe('agentd metrics', () => {
  it("prints the running host's figures and p50/p95/p99 tables, or JSON", async () => {
    const port = await freePort();
    await startWithTasks(port, 3);

    const cli = capturedIo();
    expect(await metricsCommand(cli.io, { cwd: project.dir })).toBe(0);
    expect(cli.out[0]).toMatch(
      new RegExp(
        `^host "metrics-cli" at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(the running host's HTTP API at http://127\\.0\\.0\\.1:${port}\\)$`,
      ),
    );
    expect(cli.out[2]).toMatch(/^METRIC +LABELS +VALUE$/);
    expect(cli.out).toContainEqual(
      expect.stringMatching(/^agentd_tasks_completed_total +agent=echo,type=manual +3$/),
    );
    expect(cli.out).toContainEqual(expect.stringMatching(/^agentd_tasks +status=completed +3$/));
    // Zero values are left out unless --all.
    expect(cli.out.some((l) => /^agentd_tasks +status=failed/.test(l))).toBe(false);
    const header = cli.out.findIndex((l) => /^HISTOGRAM +LABELS +COUNT +P50 +P95 +P99$/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(cli.out.slice(header)).toContainEqual(
      expect.stringMatching(
        /^agentd_task_run_seconds +agent=echo,outcome=completed +3 +[\d.]+ms +[\d.]+ms +[\d.]+ms$/,
      ),
    );
    expect(cli.out.join('\n')).not.toContain(TOKEN);

    const all = capturedIo();
    await metricsCommand(all.io, { cwd: project.dir, all: true });
    expect(all.out).toContainEqual(expect.stringMatching(/^agentd_tasks +status=failed +0$/));

    const json = capturedIo();
    expect(await metricsCommand(json.io, { cwd: project.dir, json: true })).toBe(0);
    const body = JSON.parse(json.out.join('\n')) as MetricsSummary & { source: string };
    expect(body.source).toBe('api');
    const run = body.latencies.find(
      (l) => l.name === 'agentd_task_run_seconds' && l.labels.outcome === 'completed',
    );
    expect(run).toMatchObject({ count: 3, labels: { agent: 'echo' } });
    expect(run?.p50).toBeLessThanOrEqual(run?.p99 ?? 0);
  });

  it('reads the newest minute of the history from the store when no host answers', async () => {
    const port = await freePort();
    const stopped = await startWithTasks(port, 2);
    await stopped.stop('done'); // records the minute in progress

    const cli = capturedIo();
    expect(await metricsCommand(cli.io, { cwd: project.dir })).toBe(STATUS_NOT_RUNNING);
    expect(cli.out[0]).toMatch(
      /^host "metrics-cli" at .+ \(the metrics history in the store, its newest minute: no host answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\)$/,
    );
    expect(cli.out).toContainEqual(expect.stringMatching(/^tasks_completed +- +2$/));
    expect(cli.out).toContainEqual(
      expect.stringMatching(/^task_run_seconds +- +1 +[\d.]+ms +[\d.]+ms +[\d.]+ms$/),
    );

    const json = capturedIo();
    await metricsCommand(json.io, { cwd: project.dir, json: true });
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      source: 'history',
      host: 'metrics-cli',
    });
  });
});
