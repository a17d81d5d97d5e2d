// `agentd metrics` (packages/core/src/cli/commands/metrics.ts) against a real host: the command
// lives in core, which cannot import this package, so it reads the documented summary route
// over HTTP, and the documented history in the store when no host answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, createHost, type Host, type HostConfig, TaskQueueToken } from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metricsCommand } from '../../core/src/cli/commands/metrics.js';
import { STATUS_NOT_RUNNING } from '../../core/src/cli/commands/status.js';
import { metrics } from './metrics.js';
import type { MetricsSummary } from './metrics-api.js';

const TOKEN = 'metrics-cli-token-0123456789';
const GLOBAL_KEY = '__agentdMetricsCliConfig';
type Holder = { [GLOBAL_KEY]?: HostConfig };

let dir: string;
let host: Host | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentd-metrics-cli-'));
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

async function startWithTasks(port: number, n: number): Promise<Host> {
  const config: HostConfig = {
    name: 'metrics-cli',
    logger: memoryLogger().logger,
    agents: [agent('echo', (input) => input)],
    plugins: [
      sqlite({ path: join(dir, 'agentd.db') }),
      webhook({ port, api: { token: TOKEN } }),
      metrics(),
    ],
  };
  (globalThis as Holder)[GLOBAL_KEY] = config;
  const started = createHost(config);
  host = started;
  await started.start();
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

    const cli = io();
    expect(await metricsCommand(cli.io, { cwd: dir })).toBe(0);
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

    const all = io();
    await metricsCommand(all.io, { cwd: dir, all: true });
    expect(all.out).toContainEqual(expect.stringMatching(/^agentd_tasks +status=failed +0$/));

    const json = io();
    expect(await metricsCommand(json.io, { cwd: dir, json: true })).toBe(0);
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
    host = undefined;

    const cli = io();
    expect(await metricsCommand(cli.io, { cwd: dir })).toBe(STATUS_NOT_RUNNING);
    expect(cli.out[0]).toMatch(
      /^host "metrics-cli" at .+ \(the metrics history in the store, its newest minute: no host answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\)$/,
    );
    expect(cli.out).toContainEqual(expect.stringMatching(/^tasks_completed +- +2$/));
    expect(cli.out).toContainEqual(
      expect.stringMatching(/^task_run_seconds +- +1 +[\d.]+ms +[\d.]+ms +[\d.]+ms$/),
    );

    const json = io();
    await metricsCommand(json.io, { cwd: dir, json: true });
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      source: 'history',
      host: 'metrics-cli',
    });
  });
});
