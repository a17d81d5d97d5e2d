import {
  agent,
  createHost,
  type Host,
  HttpServerToken,
  InboundRouterToken,
  type NewTask,
  type Plugin,
  type Task,
  TaskQueueToken,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger, memoryStore, useTestHosts } from '@agentd/core/testing';
import { webhook } from '@agentd/plugin-webhook';
import { describe, expect, it, vi } from 'vitest';
import { MetricsRegistryToken, metrics, metricsRouteAuth } from './metrics.js';
import { metricsOptionsSchema } from './metrics-options.js';
import { monitor, SystemMonitorToken } from './plugin.js';

const { hosts } = useTestHosts('agentd-metrics-');
const API_TOKEN = 'metrics-test-token-0123456789';

/** An agent that echoes, and one that always fails and asks to be retried at once. */
const agents = [
  agent('ok', (input) => input),
  agent('bad', () => {
    throw Object.assign(new Error('boom'), { retryAt: Date.now() });
  }),
];

async function startHost(
  plugins: Plugin[] = [webhook({ port: 0 }), metrics()],
  name = 'box',
): Promise<{ host: Host; log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const host = createHost({
    name,
    logger: log.logger,
    agents,
    plugins: [memoryStore(), ...plugins],
  });
  hosts.push(host);
  await host.start();
  return { host, log };
}

/** Enqueues `tasks` and resolves once each has ended (completed, or failed for good). */
async function runTasks(host: Host, tasks: NewTask[]): Promise<void> {
  let left = tasks.length;
  const done = new Promise<void>((resolve) => {
    const end = () => {
      if (--left === 0) resolve();
    };
    host.events.on('task.completed', end);
    host.events.on('task.failed', ({ willRetry }) => {
      if (!willRetry) end();
    });
  });
  await host.resolve(TaskQueueToken).enqueueMany(tasks);
  await done;
}

async function scrape(host: Host, init: RequestInit = {}) {
  const { url } = host.resolve(HttpServerToken).address!;
  const res = await fetch(`${url}/metrics`, init);
  return { res, text: await res.text() };
}

/** Samples of the Prometheus text format: `name{a="x",b="y"}` (labels as written) to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    out.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return out;
}

const MIXED: NewTask[] = [
  { input: 'a', agent: 'ok', type: 'webhook' },
  { input: 'b', agent: 'ok', type: 'webhook' },
  { input: 'c', agent: 'ok', type: 'message' },
  { input: 'd', agent: 'bad', type: 'schedule', maxAttempts: 2 },
];

describe('metrics() over a real scrape', () => {
  it('counts tasks by agent and type, times waits and runs, and reads the store on scrape', async () => {
    const { host } = await startHost();
    await runTasks(host, MIXED);
    const { res, text } = await scrape(host);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = samples(text);

    expect(s.get('agentd_tasks_enqueued_total{agent="ok",type="webhook"}')).toBe(2);
    expect(s.get('agentd_tasks_enqueued_total{agent="ok",type="message"}')).toBe(1);
    expect(s.get('agentd_tasks_enqueued_total{agent="bad",type="schedule"}')).toBe(1);
    expect(s.get('agentd_tasks_started_total{agent="ok",type="webhook"}')).toBe(2);
    // The failing task started twice: its first attempt was retried, its second was its last.
    expect(s.get('agentd_tasks_started_total{agent="bad",type="schedule"}')).toBe(2);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="webhook"}')).toBe(2);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="message"}')).toBe(1);
    expect(s.get('agentd_tasks_failed_total{agent="bad",type="schedule"}')).toBe(2);
    expect(s.get('agentd_tasks_retried_total{agent="bad",type="schedule"}')).toBe(1);
    expect(s.get('agentd_tasks_dead_total{agent="bad",type="schedule"}')).toBe(1);
    expect(s.has('agentd_tasks_completed_total{agent="bad",type="schedule"}')).toBe(false);

    // Histograms: one wait per attempt started, one run per attempt ended, in seconds.
    expect(s.get('agentd_task_wait_seconds_count{agent="ok"}')).toBe(3);
    expect(s.get('agentd_task_wait_seconds_count{agent="bad"}')).toBe(2);
    expect(s.get('agentd_task_wait_seconds_bucket{le="+Inf",agent="ok"}')).toBe(3);
    expect(s.get('agentd_task_wait_seconds_sum{agent="ok"}')).toBeLessThan(10);
    expect(s.get('agentd_task_run_seconds_count{agent="ok",outcome="completed"}')).toBe(3);
    expect(s.get('agentd_task_run_seconds_count{agent="bad",outcome="failed"}')).toBe(2);
    // An echo runs in well under a second: every run is in the 1 s bucket.
    expect(s.get('agentd_task_run_seconds_bucket{le="1",agent="ok",outcome="completed"}')).toBe(3);

    // Read from the store on scrape.
    expect(s.get('agentd_tasks{status="completed"}')).toBe(3);
    expect(s.get('agentd_tasks{status="failed"}')).toBe(1);
    expect(s.get('agentd_tasks{status="pending"}')).toBe(0);
    expect(s.get('agentd_tasks{status="running"}')).toBe(0);
    expect(s.get('agentd_replies_owed')).toBe(0);
    expect(s.get('agentd_dead_letters_open')).toBe(0);
    expect(s.get('agentd_metrics_store_read_seconds')).toBeGreaterThanOrEqual(0);

    // prom-client's process metrics, on this host's registry with the agentd_ prefix.
    expect(s.get('agentd_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.get('agentd_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(s.has('agentd_nodejs_eventloop_lag_seconds')).toBe(true);
    expect(s.has('agentd_process_cpu_seconds_total')).toBe(true);
    expect(text).toContain('# TYPE agentd_nodejs_gc_duration_seconds histogram');
    expect(text).toContain(
      '# HELP agentd_tasks_completed_total Tasks completed.\n# TYPE agentd_tasks_completed_total counter',
    );
  });

  it('moves between scrapes: counters grow and store gauges follow the queue', async () => {
    const { host } = await startHost([webhook({ port: 0 }), metrics({ storeCacheMs: 0 })]);
    await runTasks(host, [{ input: 'a', agent: 'ok', type: 'webhook' }]);
    const first = samples((await scrape(host)).text);
    expect(first.get('agentd_tasks_completed_total{agent="ok",type="webhook"}')).toBe(1);
    // A task due in an hour stays pending: the queue depth shows it at the next scrape.
    await host
      .resolve(TaskQueueToken)
      .enqueue({ input: 'later', agent: 'ok', type: 'reminder', runAt: Date.now() + 3_600_000 });
    await runTasks(host, [{ input: 'b', agent: 'ok', type: 'webhook' }]);
    const second = samples((await scrape(host)).text);
    expect(second.get('agentd_tasks_completed_total{agent="ok",type="webhook"}')).toBe(2);
    expect(second.get('agentd_tasks_enqueued_total{agent="ok",type="reminder"}')).toBe(1);
    expect(second.get('agentd_tasks{status="pending"}')).toBe(1);
    expect(second.get('agentd_tasks{status="completed"}')).toBe(2);
  });

  it('reads the store once per scrape, and once per storeCacheMs for back-to-back scrapes', async () => {
    const uncached = await startHost([webhook({ port: 0 }), metrics({ storeCacheMs: 0 })]);
    const counts = vi.spyOn(uncached.host.resolve(TaskStoreToken), 'stats');
    const owed = vi.spyOn(uncached.host.resolve(TaskStoreToken), 'countOwedReplies');
    await scrape(uncached.host);
    // Seven gauges come from the store: they share one read.
    expect(counts).toHaveBeenCalledTimes(1);
    expect(owed).toHaveBeenCalledTimes(1);
    await Promise.all([scrape(uncached.host), scrape(uncached.host)]);
    expect(counts.mock.calls.length).toBeLessThanOrEqual(3);

    const cached = await startHost([webhook({ port: 0 }), metrics({ storeCacheMs: 60_000 })]);
    const cachedCounts = vi.spyOn(cached.host.resolve(TaskStoreToken), 'stats');
    await scrape(cached.host);
    await scrape(cached.host);
    await scrape(cached.host);
    expect(cachedCounts).toHaveBeenCalledTimes(1);
  });

  it('keeps the task types to 50 and counts the rest as other; attempts by agent and outcome', async () => {
    const { host } = await startHost();
    let finished: Task | undefined;
    host.events.on('task.completed', ({ task }) => {
      finished ??= task;
    });
    await runTasks(host, [{ input: 'a', agent: 'ok', type: 'webhook' }]);
    const task = finished as Task;
    // 'webhook' is the first type seen; 49 more pass, the 50th new one onwards reads other.
    for (let i = 0; i < 55; i++) {
      host.events.emit('task.completed', { task: { ...task, type: `t${i}` } });
    }
    host.events.emit('task.completed', { task: { ...task, type: 't0' } });
    host.events.emit('task.completed', { task: { ...task, agent: 'bad', type: 't0' } });
    const failure = { class: 'timeout', action: 'failover', message: 'slow' } as const;
    for (const outcome of ['success', failure, failure] as const) {
      const at = Date.now();
      host.events.emit('agent.attempt', {
        taskId: task.id,
        attempt: { agent: 'bad', startedAt: at, finishedAt: at, outcome },
      });
    }
    const s = samples((await scrape(host)).text);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="webhook"}')).toBe(1);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="t0"}')).toBe(2);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="t48"}')).toBe(1);
    expect(s.has('agentd_tasks_completed_total{agent="ok",type="t49"}')).toBe(false);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="other"}')).toBe(6);
    expect(s.get('agentd_tasks_completed_total{agent="bad",type="t0"}')).toBe(1);
    expect(s.get('agentd_task_run_seconds_count{agent="ok",outcome="completed"}')).toBe(57);
    expect(s.get('agentd_task_run_seconds_count{agent="bad",outcome="completed"}')).toBe(1);
    expect(s.get('agentd_agent_attempts_total{agent="ok",outcome="success"}')).toBe(1);
    expect(s.get('agentd_agent_attempts_total{agent="bad",outcome="success"}')).toBe(1);
    expect(s.get('agentd_agent_attempts_total{agent="bad",outcome="timeout"}')).toBe(2);
  });

  it('counts channel messages in and alerts by severity, with bounded label sets', async () => {
    const { host } = await startHost();
    const router = host.resolve(InboundRouterToken);
    for (const id of ['m1', 'm2']) {
      await router.dispatch({
        id,
        from: { channel: 'test', id: 'chat-1' },
        sender: { id: 'user-1' },
        text: 'hello',
        receivedAt: Date.now(),
      });
    }
    host.events.emit('alert', { severity: 'warning', title: 'Disk at 91%', source: 'monitor' });
    host.events.emit('alert', { severity: 'critical', title: 'Disk at 96%', source: 'monitor' });
    host.events.emit('alert', { severity: 'critical', title: 'Disk at 97%', source: 'monitor' });
    const { text } = await scrape(host);
    const s = samples(text);
    expect(s.get('agentd_channel_messages_received_total{channel="test"}')).toBe(2);
    expect(s.get('agentd_alerts_total{severity="warning",source="monitor"}')).toBe(1);
    expect(s.get('agentd_alerts_total{severity="critical",source="monitor"}')).toBe(2);

    // Labels are names and statuses, never ids: no task id, chat id or user id anywhere.
    const allowed = new Set([
      ...['agent', 'type', 'outcome', 'status', 'severity', 'source', 'channel', 'le'],
      ...['schedule', 'late', 'reason', 'limit', 'path', 'state', 'priority', 'period'],
      ...['method', 'route', 'code', 'kind', 'version'],
    ]);
    for (const [key] of s) {
      if (!key.startsWith('agentd_') || /^agentd_(process|nodejs)_/.test(key)) continue;
      for (const [, label] of key.matchAll(/([a-z_]+)="/g)) expect(allowed).toContain(label);
    }
    expect(text).not.toMatch(/chat-1|user-1/);
  });

  it('answers OpenMetrics when asked, without breaking the Prometheus text of later scrapes', async () => {
    const { host } = await startHost();
    await runTasks(host, [{ input: 'a', agent: 'ok', type: 'webhook' }]);
    const { res, text } = await scrape(host, {
      // What Prometheus 2.x sends.
      headers: {
        accept:
          'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    });
    expect(res.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE agentd_tasks_completed counter');
    expect(text).toMatch(/^agentd_tasks_completed_total\{agent="ok",type="webhook"\} 1$/m);
    expect(text).toContain('# TYPE agentd_task_run_seconds histogram');

    // prom-client renames counters in place when a registry renders OpenMetrics: the plain
    // format must keep its `_total` families.
    const plain = await scrape(host);
    expect(plain.res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(plain.text).toContain('# TYPE agentd_tasks_completed_total counter');
    expect(plain.text).toMatch(/^agentd_tasks_completed_total\{agent="ok",type="webhook"\} 1$/m);
    expect(plain.text).not.toContain('# EOF');
  });

  it('keeps two hosts in one process apart: one registry each', async () => {
    const a = await startHost(undefined, 'a');
    const b = await startHost(undefined, 'b');
    await runTasks(a.host, [
      { input: '1', agent: 'ok', type: 'webhook' },
      { input: '2', agent: 'ok', type: 'webhook' },
    ]);
    await runTasks(b.host, [{ input: '3', agent: 'ok', type: 'webhook' }]);
    const key = 'agentd_tasks_completed_total{agent="ok",type="webhook"}';
    expect(samples((await scrape(a.host)).text).get(key)).toBe(2);
    expect(samples((await scrape(b.host)).text).get(key)).toBe(1);
    expect(a.host.resolve(MetricsRegistryToken).registry).not.toBe(
      b.host.resolve(MetricsRegistryToken).registry,
    );
  });

  it('asks for the API token when the server listens beyond loopback', async () => {
    const { host } = await startHost([
      webhook({ host: '0.0.0.0', port: 0, api: { token: API_TOKEN } }),
      metrics(),
    ]);
    const { port } = host.resolve(HttpServerToken).address!;
    const url = `http://127.0.0.1:${port}/metrics`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()) as unknown).toEqual({
      error: { code: 'unauthorized', message: 'missing or invalid credentials' },
    });
    expect(
      (await fetch(url, { headers: { authorization: 'Bearer wrong-token-000000' } })).status,
    ).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE agentd_tasks_enqueued_total counter');
  });

  it('decides the auth from the bound address and the option', () => {
    const at = (host: string) => ({ host });
    expect(metricsRouteAuth('auto', at('127.0.0.1'))).toBe('none');
    expect(metricsRouteAuth('auto', at('127.0.0.53'))).toBe('none');
    expect(metricsRouteAuth('auto', at('::1'))).toBe('none');
    expect(metricsRouteAuth('auto', at('::ffff:127.0.0.1'))).toBe('none');
    expect(metricsRouteAuth('auto', at('0.0.0.0'))).toBe('bearer');
    expect(metricsRouteAuth('auto', at('::'))).toBe('bearer');
    expect(metricsRouteAuth('auto', at('192.168.1.10'))).toBe('bearer');
    expect(metricsRouteAuth('auto', at('127.0.0.1.example.com'))).toBe('bearer');
    expect(metricsRouteAuth('auto', undefined)).toBe('bearer');
    expect(metricsRouteAuth('bearer', at('127.0.0.1'))).toBe('bearer');
    expect(metricsRouteAuth('none', at('0.0.0.0'))).toBe('none');
  });

  it('works without an HTTP server: the registry is a service, and the log says /metrics is not served', async () => {
    const { host, log } = await startHost([monitor({ command: false }), metrics()]);
    // The monitor's first sample (real systeminformation calls) lands shortly after start.
    const system = host.resolve(SystemMonitorToken);
    for (let waited = 0; !system.latest(); waited += 20) {
      if (waited > 15_000) throw new Error('no system sample within 15 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await runTasks(host, [{ input: 'a', agent: 'ok', type: 'manual' }]);
    const service = host.resolve(MetricsRegistryToken);
    const { contentType, body } = await service.scrape();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = samples(body);
    expect(s.get('agentd_tasks_completed_total{agent="ok",type="manual"}')).toBe(1);
    const sample = system.latest()!;
    expect(s.get('agentd_system_cpu_usage_ratio')).toBeCloseTo(sample.cpuPercent / 100, 5);
    expect(s.get('agentd_system_memory_usage_ratio')).toBeCloseTo(
      sample.memory.usedPercent / 100,
      5,
    );
    expect(s.get('agentd_system_memory_available_bytes')).toBe(sample.memory.availableBytes);
    const disk = sample.disks[0]!;
    expect(s.get(`agentd_system_disk_usage_ratio{path="${disk.path}"}`)).toBeCloseTo(
      disk.usedPercent / 100,
      5,
    );
    expect(s.get(`agentd_system_disk_available_bytes{path="${disk.path}"}`)).toBe(
      disk.availableBytes,
    );
    expect(s.get('agentd_system_sample_timestamp_seconds')).toBe(sample.at / 1000);
    const notServed = log.lines().filter((l) => l.msg?.includes('/metrics is not served'));
    expect(notServed).toHaveLength(1);
    expect((await service.scrape('application/openmetrics-text')).body).toMatch(/# EOF\n$/);
  });

  it('serves no system gauges without monitor(), and no process metrics when turned off', async () => {
    const { host } = await startHost([webhook({ port: 0 }), metrics({ processMetrics: false })]);
    const { text } = await scrape(host);
    expect(text).toContain('# TYPE agentd_system_cpu_usage_ratio gauge');
    expect(samples(text).has('agentd_system_cpu_usage_ratio')).toBe(false);
    expect(text).not.toContain('agentd_process_');
    expect(text).not.toContain('agentd_nodejs_');
  });

  it('rejects bad options with their paths', () => {
    const result = metricsOptionsSchema.safeParse({
      path: 'metrics',
      auth: 'basic',
      buckets: { run: [1, 0.5] },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'auth',
      'buckets.run',
      'path',
    ]);
  });
});
