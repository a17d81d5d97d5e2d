// Every metric family the monitoring issue lists, over a real scrape: a host on a real SQLite
// file with the HTTP server (a signed GitHub webhook route), the Telegram plugin against the fake
// Bot API server, a cost cap, and metrics(); the text is parsed line by line as the Prometheus
// exposition format and the families are checked present, then moving.
import { createHmac } from 'node:crypto';
import { agent, createHost, type Host, HttpServerToken, TaskQueueToken } from '@agentd/core';
import { memoryLogger, useTestHosts } from '@agentd/core/testing';
import { telegram } from '@agentd/plugin-telegram';
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { metrics } from './metrics.js';

const apis: FakeBotApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});
const { hosts, dbPath } = useTestHosts('agentd-metrics-families-');
const SECRET = 'github-webhook-secret-for-tests';
const OWNER = { id: 424242 };

/** The exposition text as families: name to type, help and samples (`name{labels}` to value). */
function parseExposition(text: string) {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][\w:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2] as string, meta[3] as string);
      else helps.add(meta[2] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
      line,
    );
    if (!sample) throw new Error(`not a Prometheus text line: ${line}`);
    const value = Number(sample[3]);
    if (Number.isNaN(value) && sample[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.set(`${sample[1]}${sample[2] ?? ''}`, value);
  }
  for (const name of types.keys()) expect(helps.has(name), `# HELP for ${name}`).toBe(true);
  return { types, samples };
}

async function scrape(host: Host) {
  const { url } = host.resolve(HttpServerToken).address!;
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('metrics() families over a real scrape', () => {
  it('has every family of the issue, and they move with work, messages, deliveries and spend', async () => {
    const api = await FakeBotApi.start();
    apis.push(api);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const host = createHost({
      name: 'families',
      logger: memoryLogger().logger,
      budgets: { cost: { dailyUsd: 2 } },
      runner: { concurrency: 1 },
      agents: [
        agent('paid', (input) => ({ output: `re: ${String(input)}`, usage: { costUsd: 0.5 } })),
        agent('slow', async () => {
          await gate;
          return 'done';
        }),
      ],
      plugins: [
        sqlite({ path: dbPath() }),
        webhook({
          port: 0,
          routes: [{ name: 'gh', path: '/hooks/gh', verify: { scheme: 'github', secret: SECRET } }],
        }),
        telegram({
          token: api.token,
          apiRoot: api.url,
          allowedUsers: [OWNER.id],
          pollTimeoutSeconds: 1,
        }),
        metrics({ storeCacheMs: 0 }),
      ],
    });
    hosts.push(host);
    await host.start();

    const first = await scrape(host);
    const families: [string, string][] = [
      ['agentd_tasks', 'gauge'],
      ['agentd_queue_depth', 'gauge'],
      ['agentd_queue_oldest_runnable_age_seconds', 'gauge'],
      ['agentd_sessions', 'gauge'],
      ['agentd_budget_spent_usd', 'gauge'],
      ['agentd_budget_cap_usd', 'gauge'],
      ['agentd_budget_used_ratio', 'gauge'],
      ['agentd_tasks_enqueued_total', 'counter'],
      ['agentd_task_wait_seconds', 'histogram'],
      ['agentd_task_run_seconds', 'histogram'],
      ['agentd_task_leases_recovered_total', 'counter'],
      ['agentd_agent_attempts_total', 'counter'],
      ['agentd_agent_circuit_state', 'gauge'],
      ['agentd_schedule_fires_total', 'counter'],
      ['agentd_schedule_missed_slots_total', 'counter'],
      ['agentd_channel_messages_received_total', 'counter'],
      ['agentd_channel_replies_sent_total', 'counter'],
      ['agentd_channel_send_failures_total', 'counter'],
      ['agentd_channel_rate_limited_total', 'counter'],
      ['agentd_webhook_deliveries_total', 'counter'],
      ['agentd_http_request_duration_seconds', 'histogram'],
      ['agentd_alerts_total', 'counter'],
      ['agentd_process_cpu_seconds_total', 'counter'],
      ['agentd_process_resident_memory_bytes', 'gauge'],
      ['agentd_nodejs_heap_size_used_bytes', 'gauge'],
      ['agentd_nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['agentd_nodejs_gc_duration_seconds', 'histogram'],
    ];
    for (const [name, type] of families) expect(first.types.get(name), name).toBe(type);
    const s0 = first.samples;
    expect(s0.get('agentd_budget_cap_usd{period="day"}')).toBe(2);
    expect(s0.get('agentd_budget_spent_usd{period="day"}')).toBe(0);
    expect(s0.get('agentd_queue_depth{status="pending",priority="normal"}')).toBe(0);
    expect(s0.get('agentd_queue_oldest_runnable_age_seconds')).toBe(0);
    expect(s0.get('agentd_sessions{status="live"}')).toBe(0);
    expect(s0.get('agentd_process_resident_memory_bytes')).toBeGreaterThan(0);

    // Telegram: a message in; its reply first meets a 429 (waited out), then is delivered.
    api.failNext('sendMessage', { status: 429, retryAfter: 1 });
    api.sendText(OWNER, 'hello');
    await api.waitForMessages(1, { chatId: OWNER.id });
    // The next reply fails for good once (the outbox retries it later).
    api.failNext('sendMessage', { status: 400, description: 'Bad Request: chat not found' });
    api.sendText(OWNER, 'again');

    // Webhooks: one signed delivery (202) and one with a bad signature (401).
    const { url } = host.resolve(HttpServerToken).address!;
    const body = JSON.stringify({ action: 'opened' });
    const signed = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const post = (signature: string, id: string) =>
      fetch(`${url}/hooks/gh`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': id,
          'x-hub-signature-256': signature,
        },
        body,
      });
    expect((await post(signed, 'd-1')).status).toBe(202);
    expect((await post('sha256=00', 'd-2')).status).toBe(401);

    // The queue: a slow task holds the only slot, a critical one waits behind it.
    const queue = host.resolve(TaskQueueToken);
    const running = host.events.next('task.started');
    await queue.enqueue({ input: 'block', agent: 'slow' });
    await running;
    await queue.enqueue({ input: 'urgent', agent: 'paid', priority: 0 });
    await queue.enqueue({ input: 'later', agent: 'paid', runAt: Date.now() + 3_600_000 });
    await new Promise((r) => setTimeout(r, 30));

    const { samples: s1 } = await until(
      () => scrape(host),
      ({ samples }) =>
        (samples.get(
          'agentd_channel_send_failures_total{channel="telegram",code="E_TELEGRAM_SEND"}',
        ) ?? 0) >= 1,
    );
    expect(s1.get('agentd_queue_depth{status="running",priority="normal"}')).toBe(1);
    expect(s1.get('agentd_queue_depth{status="pending",priority="critical"}')).toBe(1);
    expect(s1.get('agentd_queue_depth{status="pending",priority="normal"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(s1.get('agentd_queue_oldest_runnable_age_seconds')).toBeGreaterThan(0);
    expect(s1.get('agentd_channel_messages_received_total{channel="telegram"}')).toBe(2);
    expect(s1.get('agentd_channel_replies_sent_total{channel="telegram"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(s1.get('agentd_channel_rate_limited_total{channel="telegram"}')).toBe(1);
    expect(s1.get('agentd_webhook_deliveries_total{route="gh",status="202"}')).toBe(1);
    expect(s1.get('agentd_webhook_deliveries_total{route="gh",status="401"}')).toBe(1);
    expect(
      s1.get(
        'agentd_http_request_duration_seconds_count{method="POST",route="/hooks/gh",status="2xx"}',
      ),
    ).toBe(1);
    expect(
      s1.get(
        'agentd_http_request_duration_seconds_count{method="GET",route="/metrics",status="2xx"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    // Two paid runs (the hello, the again) at $0.50 each, against the $2 daily cap.
    const spent = s1.get('agentd_budget_spent_usd{period="day"}') ?? 0;
    expect(spent).toBeGreaterThanOrEqual(0.5);
    expect(s1.get('agentd_budget_used_ratio{period="day"}')).toBeCloseTo(spent / 2);

    release();
    const { samples: s2 } = await until(
      () => scrape(host),
      ({ samples }) => samples.get('agentd_queue_depth{status="running",priority="normal"}') === 0,
    );
    expect(s2.get('agentd_queue_depth{status="pending",priority="critical"}')).toBe(0);
    expect(s2.get('agentd_tasks{status="pending"}')).toBe(1); // the one due in an hour
    expect(s2.get('agentd_queue_oldest_runnable_age_seconds')).toBe(0);
  });
});
