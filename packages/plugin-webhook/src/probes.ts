import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HealthCheck, HealthRegistry, HostInfo, HttpResponse } from '@agentd/core';
import type { HealthReport, HealthStatus, IntakeGate } from '@agentd/core/host';
import type { AgentdHttpServer } from './server.js';

/**
 * `application/health+json` (the IETF health-check response format draft).
 *
 * @example
 * ```ts
 * (await fetch(`${url}/health`)).headers.get('content-type') === HEALTH_CONTENT_TYPE; // true
 * ```
 */
export const HEALTH_CONTENT_TYPE = 'application/health+json';

/** One entry of `/health`'s `checks`, after the draft: a list per check, with the time it ran. */
export interface HealthCheckEntry {
  status: HealthStatus;
  time: string;
  output?: string;
  observedValue?: number | string | boolean;
  observedUnit?: string;
}

/** The body of `/health`. */
export interface HealthBody {
  status: HealthStatus;
  serviceId: string;
  description: string;
  checks: Record<string, HealthCheckEntry[]>;
}

/** What the probes read. */
export interface ProbeDeps {
  gate: IntakeGate;
  server: AgentdHttpServer;
  health: HealthRegistry;
  info: HostInfo;
  /**
   * `/health` answers from a report at most this old (ms; 0: run the checks for every request).
   * Unauthenticated and often polled, /health must not let callers run the checks (a store
   * query among them) as often as they like.
   */
  cacheMs?: number;
  /** Epoch ms (the host clock); the cache's age is measured with it. */
  now?: () => number;
}

/**
 * `/live`, `/ready` and `/health`. `/live` proves only that the process and its event loop
 * answer; `/ready` is 503 until the readiness barrier opens and again from the start of the stop;
 * `/health` runs every registered check (runs that overlap share one; an answer is reused for
 * `cacheMs`), 503 when one fails. Each check's `time` says when it ran.
 *
 * @example
 * ```ts
 * const probes = createProbes({ gate, server, health, info, cacheMs: 1000 });
 * server.route({ method: 'GET', path: '/live', duringDrain: true, handler: probes.live });
 * ```
 */
export function createProbes(deps: ProbeDeps): {
  live: () => HttpResponse;
  ready: () => HttpResponse;
  health: () => Promise<HttpResponse>;
  report: () => Promise<HealthReport>;
} {
  const headers = { 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store' };
  const liveBody = JSON.stringify({ status: 'pass' });
  const cacheMs = deps.cacheMs ?? 0;
  const now = deps.now ?? Date.now;
  let running: Promise<HealthReport> | undefined;
  let cached: { at: number; response: HttpResponse } | undefined;
  const report = (): Promise<HealthReport> => {
    // Probes under load arrive together: one run of the checks answers all that overlap it.
    running ??= deps.health.run({ timeoutMs: 1000 }).finally(() => {
      running = undefined;
    });
    return running;
  };
  const healthResponse = async (): Promise<HttpResponse> => {
    const result = await report();
    const at = now();
    const time = new Date(at).toISOString();
    const checks: Record<string, HealthCheckEntry[]> = {};
    for (const [name, r] of Object.entries(result.checks)) checks[name] = [{ ...r, time }];
    const body: HealthBody = {
      status: result.status,
      serviceId: deps.info.instanceId,
      description: `agentd host "${deps.info.name}"`,
      checks,
    };
    const response: HttpResponse = {
      status: result.status === 'fail' ? 503 : 200,
      headers,
      body: JSON.stringify(body),
    };
    if (cacheMs > 0) cached = { at, response };
    return response;
  };
  return {
    live: () => ({ headers, body: liveBody }),
    ready: (): HttpResponse => {
      const state = deps.server.draining ? 'closed' : deps.gate.state;
      if (state === 'open') return { headers, json: { status: 'pass' } };
      return {
        status: 503,
        headers,
        json: { status: 'fail', output: state === 'waiting' ? 'starting' : 'draining' },
      };
    },
    report,
    health: () =>
      cached && now() - cached.at < cacheMs ? Promise.resolve(cached.response) : healthResponse(),
  };
}

/**
 * The server's own check: listening, requests in flight, warn while draining.
 *
 * @example
 * ```ts
 * health.add(httpCheck(server));
 * ```
 */
export function httpCheck(server: AgentdHttpServer): HealthCheck {
  return {
    name: 'http',
    check: () => {
      if (!server.listening) return { status: 'fail', output: 'not listening' };
      return {
        status: server.draining ? 'warn' : 'pass',
        ...(server.draining ? { output: 'draining' } : {}),
        observedValue: server.inFlight,
        observedUnit: 'requests in flight',
      };
    },
  };
}

/**
 * Event-loop delay (p99 since the previous check): a loop blocked for long answers nothing in
 * time, though `/live` may still pass between the stalls. Warn past 200 ms, fail past 2 s.
 *
 * @example
 * ```ts
 * const loop = eventLoopCheck();
 * health.add(loop.check);
 * // in stop(): loop.dispose();
 * ```
 */
export function eventLoopCheck(): { check: HealthCheck; dispose: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    check: {
      name: 'event-loop',
      check: () => {
        const p99 = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
        histogram.reset();
        const status: HealthStatus = p99 > 2000 ? 'fail' : p99 > 200 ? 'warn' : 'pass';
        return {
          status,
          ...(status === 'pass'
            ? {}
            : { output: `event loop delayed by up to ${Math.round(p99)} ms` }),
          observedValue: Math.round(p99 * 10) / 10,
          observedUnit: 'ms p99 delay',
        };
      },
    },
    dispose: () => histogram.disable(),
  };
}
