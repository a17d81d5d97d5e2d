import type { PluginContext, Task, TaskStore } from '@agentd/core';
import type { Registry } from 'prom-client';
import {
  type CounterSeries,
  type HistogramSeries,
  type LeanCounter,
  leanCounter,
  leanHistogram,
} from './lean-metrics.js';
import type { ResolvedMetricsOptions } from './metrics-options.js';
import { promClient } from './prom-client.js';

/** Every metric name starts with this, the process metrics included. */
export const METRICS_PREFIX = 'agentd_';

/** Seconds to answer an HTTP request: 1 ms (a probe) to 30 s (a slow upload). */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Distinct values a free-form label (task type, alert source) may take before `other`. */
const LABEL_VALUES_LIMIT = 50;

/**
 * Keeps a label's values bounded: the first `limit` distinct values pass, later ones read
 * `other`. Task types come from API callers, so they cannot be trusted to stay few.
 */
export function bounded(limit = LABEL_VALUES_LIMIT): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= limit) return 'other';
    seen.add(value);
    return value;
  };
}

/** A finished attempt's agent: tasks always name one once enqueued through the queue. */
const agentOf = (task: Task) => task.agent ?? 'default';

/** The task counters, by what happened to the task. */
type TaskEvent = 'enqueued' | 'started' | 'completed' | 'failed' | 'retried' | 'dead' | 'cancelled';

/**
 * The series one (agent, type) pair's task events add to, each resolved on its first event and
 * kept: a task event then costs a map lookup or two and an add, with no label object or key
 * built per event (those, and the garbage they left, were most of the handlers' cost).
 */
class TaskSeries {
  readonly labels: { agent: string; type: string };
  readonly agent: AgentSeries;
  enqueued: CounterSeries | undefined = undefined;
  started: CounterSeries | undefined = undefined;
  completed: CounterSeries | undefined = undefined;
  failed: CounterSeries | undefined = undefined;
  retried: CounterSeries | undefined = undefined;
  dead: CounterSeries | undefined = undefined;
  cancelled: CounterSeries | undefined = undefined;

  constructor(agent: AgentSeries, type: string) {
    this.agent = agent;
    this.labels = { agent: agent.labels.agent, type };
  }
}

/** The per-agent series of the task and attempt events, resolved on first use and kept. */
class AgentSeries {
  readonly labels: { agent: string };
  /** By the task's type, bounded (at most `LABEL_VALUES_LIMIT` and `other`). */
  readonly byType = new Map<string, TaskSeries>();
  wait: HistogramSeries | undefined = undefined;
  runCompleted: HistogramSeries | undefined = undefined;
  runFailed: HistogramSeries | undefined = undefined;
  /** `agentd_agent_attempts_total` for a success, the usual outcome. */
  attemptSucceeded: CounterSeries | undefined = undefined;
  /** The same for a failure, by the error's class. */
  readonly attemptFailed = new Map<string, CounterSeries>();

  constructor(agent: string) {
    this.labels = { agent };
  }
}

/**
 * Counters and histograms fed by the event bus (an event costs a map lookup and an add);
 * returns the unsubscribe functions.
 *
 * @example
 * ```ts
 * offs.push(...countEvents(ctx, registry, store));
 * ```
 */
export function countEvents(
  ctx: PluginContext<ResolvedMetricsOptions>,
  registry: Registry,
  store: { tasks?: TaskStore },
): (() => void)[] {
  const registers = [registry];
  const taskCounter = (name: string, help: string) =>
    leanCounter(registry, `${METRICS_PREFIX}tasks_${name}_total`, help, ['agent', 'type'] as const);
  const enqueued = taskCounter('enqueued', 'Tasks enqueued (created, not idempotent repeats).');
  const started = taskCounter('started', 'Task attempts started (a retry starts again).');
  const completed = taskCounter('completed', 'Tasks completed.');
  const failed = taskCounter('failed', 'Task attempts that failed, retried or not.');
  const retried = taskCounter('retried', 'Failed attempts whose task goes back to pending.');
  const dead = taskCounter(
    'dead',
    'Tasks that ended failed for good: attempts exhausted, or a lease expired on the last one.',
  );
  const cancelled = taskCounter('cancelled', 'Tasks cancelled.');
  const recovered = leanCounter(
    registry,
    `${METRICS_PREFIX}task_leases_recovered_total`,
    'Running tasks whose lease expired (a crash, a kill), by what became of them.',
    ['outcome'] as const,
  );
  const wait = leanHistogram(
    registry,
    `${METRICS_PREFIX}task_wait_seconds`,
    'Seconds from a task becoming runnable (enqueued, or its retry or run-at time) to its attempt starting.',
    ['agent'] as const,
    ctx.options.buckets.wait,
  );
  const run = leanHistogram(
    registry,
    `${METRICS_PREFIX}task_run_seconds`,
    'Seconds one task attempt ran, by how it ended.',
    ['agent', 'outcome'] as const,
    ctx.options.buckets.run,
  );
  const attempts = leanCounter(
    registry,
    `${METRICS_PREFIX}agent_attempts_total`,
    "Agent attempts recorded by failover, by agent and outcome (success or the error's class).",
    ['agent', 'outcome'] as const,
  );
  const circuit = new (promClient().Gauge)({
    name: `${METRICS_PREFIX}agent_circuit_state`,
    help: "1 for an agent's current circuit-breaker state, 0 for the others (agents whose circuit changed).",
    labelNames: ['agent', 'state'] as const,
    registers,
  });
  const messages = leanCounter(
    registry,
    `${METRICS_PREFIX}channel_messages_received_total`,
    'Messages received, by channel.',
    ['channel'] as const,
  );
  const alerts = leanCounter(
    registry,
    `${METRICS_PREFIX}alerts_total`,
    'Alerts raised, by severity and source.',
    ['severity', 'source'] as const,
  );
  const fires = leanCounter(
    registry,
    `${METRICS_PREFIX}schedule_fires_total`,
    'Schedule slots fired here, by schedule and whether late (catch-up after downtime).',
    ['schedule', 'late'] as const,
  );
  const missed = leanCounter(
    registry,
    `${METRICS_PREFIX}schedule_missed_slots_total`,
    'Schedule slots that did not fire, by schedule and reason (downtime, overlap).',
    ['schedule', 'reason'] as const,
  );
  const refused = leanCounter(
    registry,
    `${METRICS_PREFIX}budget_exceeded_total`,
    'Work refused by a rate limit or a cost cap, by limit.',
    ['limit'] as const,
  );
  const sent = leanCounter(
    registry,
    `${METRICS_PREFIX}channel_replies_sent_total`,
    'Outbound messages (replies, alerts) a channel delivered, by channel.',
    ['channel'] as const,
  );
  const sendFailures = leanCounter(
    registry,
    `${METRICS_PREFIX}channel_send_failures_total`,
    'Outbound messages a channel could not deliver (the outbox retries them), by channel and error code.',
    ['channel', 'code'] as const,
  );
  const rateLimited = leanCounter(
    registry,
    `${METRICS_PREFIX}channel_rate_limited_total`,
    "Times a channel's service asked it to slow down (HTTP 429), by channel.",
    ['channel'] as const,
  );
  const deliveries = leanCounter(
    registry,
    `${METRICS_PREFIX}webhook_deliveries_total`,
    'Webhook deliveries answered, by configured route and HTTP status.',
    ['route', 'status'] as const,
  );
  const requests = leanHistogram(
    registry,
    `${METRICS_PREFIX}http_request_duration_seconds`,
    'Seconds from a request arriving to its answer being sent, by method, route pattern and status class.',
    ['method', 'route', 'status'] as const,
    HTTP_BUCKETS,
  );

  const type = bounded();
  const source = bounded();
  const channel = bounded();
  const schedule = bounded();
  const limit = bounded();
  const route = bounded();
  const code = bounded();
  const counters: Record<TaskEvent, LeanCounter<'agent' | 'type'>> = {
    enqueued,
    started,
    completed,
    failed,
    retried,
    dead,
    cancelled,
  };
  const agents = new Map<string, AgentSeries>();
  const agentSeries = (agent: string): AgentSeries => {
    let a = agents.get(agent);
    if (!a) {
      a = new AgentSeries(agent);
      agents.set(agent, a);
    }
    return a;
  };
  // The last (agent, type) seen and its series: a host runs one agent and type after another
  // more often than not, and the same pair needs no lookup. Safe to key by the raw type: once
  // `type` has answered for a value it always answers the same.
  let lastAgent: string | undefined;
  let lastType: string | undefined;
  let lastSeries: TaskSeries | undefined;
  const taskSeries = (task: Task): TaskSeries => {
    const agent = agentOf(task);
    const rawType = task.type;
    if (lastSeries !== undefined && agent === lastAgent && rawType === lastType) return lastSeries;
    const a = agentSeries(agent);
    const t = type(rawType);
    let s = a.byType.get(t);
    if (!s) {
      s = new TaskSeries(a, t);
      a.byType.set(t, s);
    }
    lastAgent = agent;
    lastType = rawType;
    lastSeries = s;
    return s;
  };
  const count = (s: TaskSeries, event: TaskEvent) => {
    let c = s[event];
    if (c === undefined) {
      c = counters[event].series(s.labels);
      s[event] = c;
    }
    c.value++;
  };
  const seconds = (ms: number) => Math.max(0, ms) / 1000;
  const observeWait = (a: AgentSeries, task: Task) => {
    if (task.startedAt === null) return;
    let series = a.wait;
    if (series === undefined) {
      series = wait.series(a.labels);
      a.wait = series;
    }
    series.observe(seconds(task.startedAt - task.runAt));
  };
  const observeRun = (a: AgentSeries, outcome: 'completed' | 'failed', task: Task) => {
    if (task.startedAt === null) return;
    const end = task.finishedAt ?? ctx.clock.now();
    let series = outcome === 'completed' ? a.runCompleted : a.runFailed;
    if (series === undefined) {
      series = run.series({ agent: a.labels.agent, outcome });
      if (outcome === 'completed') a.runCompleted = series;
      else a.runFailed = series;
    }
    series.observe(seconds(end - task.startedAt));
  };
  let lastAttemptAgent: AgentSeries | undefined;
  const attemptAgent = (agent: string): AgentSeries => {
    if (lastAttemptAgent !== undefined && lastAttemptAgent.labels.agent === agent) {
      return lastAttemptAgent;
    }
    lastAttemptAgent = agentSeries(agent);
    return lastAttemptAgent;
  };
  const { events } = ctx;
  return [
    events.on('task.enqueued', ({ task }) => count(taskSeries(task), 'enqueued')),
    events.on('task.started', ({ task }) => {
      const s = taskSeries(task);
      count(s, 'started');
      observeWait(s.agent, task);
    }),
    events.on('task.completed', ({ task }) => {
      const s = taskSeries(task);
      count(s, 'completed');
      observeRun(s.agent, 'completed', task);
    }),
    events.on('task.failed', ({ task, willRetry }) => {
      const s = taskSeries(task);
      count(s, 'failed');
      count(s, willRetry ? 'retried' : 'dead');
      observeRun(s.agent, 'failed', task);
    }),
    events.on('task.cancelled', ({ task }) => count(taskSeries(task), 'cancelled')),
    events.on('task.recovered', ({ requeued, failed: lost }) => {
      if (requeued.length > 0) recovered({ outcome: 'requeued' }, requeued.length);
      if (lost.length > 0) recovered({ outcome: 'failed' }, lost.length);
      // Rare (a crash): the event carries ids only, so the dead tasks' agents are looked up.
      for (const id of lost) {
        void store.tasks
          ?.get(id)
          .then((task) =>
            task ? count(taskSeries(task), 'dead') : dead({ agent: 'unknown', type: 'unknown' }),
          )
          .catch((err: unknown) => ctx.logger.debug({ err, id }, 'could not read a lost task'));
      }
    }),
    events.on('agent.attempt', ({ attempt }) => {
      const a = attemptAgent(attempt.agent);
      let c: CounterSeries | undefined;
      if (attempt.outcome === 'success') {
        c = a.attemptSucceeded;
        if (c === undefined) {
          c = attempts.series({ agent: a.labels.agent, outcome: 'success' });
          a.attemptSucceeded = c;
        }
      } else {
        const outcome = attempt.outcome.class;
        c = a.attemptFailed.get(outcome);
        if (c === undefined) {
          c = attempts.series({ agent: a.labels.agent, outcome });
          a.attemptFailed.set(outcome, c);
        }
      }
      c.value++;
    }),
    events.on('circuit.changed', ({ agent, state }) => {
      for (const s of ['closed', 'open', 'half-open', 'isolated'] as const) {
        circuit.set({ agent, state: s }, s === state ? 1 : 0);
      }
    }),
    events.on('message.received', ({ message }) =>
      messages({ channel: channel(message.from.channel) }),
    ),
    events.on('alert', (alert) =>
      alerts({ severity: alert.severity, source: source(alert.source) }),
    ),
    events.on('schedule.fired', (fire) =>
      fires({ schedule: schedule(fire.schedule), late: String(fire.late) }),
    ),
    events.on('schedule.missed', (m) =>
      missed({ schedule: schedule(m.schedule), reason: m.reason }, m.count),
    ),
    events.on('budget.exceeded', (b) => refused({ limit: limit(b.limit) })),
    events.on('channel.sent', (s) => sent({ channel: channel(s.channel) })),
    events.on('channel.send_failed', (f) =>
      sendFailures({ channel: channel(f.channel), code: code(f.code) }),
    ),
    events.on('channel.rate_limited', (r) => rateLimited({ channel: channel(r.channel) })),
    events.on('webhook.delivery', (d) =>
      deliveries({ route: route(d.route), status: String(d.status) }),
    ),
    events.on('http.request', (r) =>
      requests.observe(
        { method: r.method, route: route(r.route), status: `${Math.floor(r.status / 100)}xx` },
        r.durationMs / 1000,
      ),
    ),
  ];
}
