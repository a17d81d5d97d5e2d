import type { Clock, HealthRegistry, Logger } from '@agentd/core';
import type { HealthReport, TimerHandle } from '@agentd/core/host';
import { z } from 'zod';
import { durationSchema, formatDuration } from './duration.js';

/**
 * The dead man's switch options: where to ping and how often.
 *
 * @example
 * ```ts
 * heartbeatOptionsSchema.parse({ url: 'https://hc-ping.com/0f1e...' }).everyMs; // 300_000
 * ```
 */
export const heartbeatOptionsSchema = z
  .object({
    /** The check's ping URL (a secret: whoever has it can ping). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'the heartbeat URL must be http:// or https://'),
    /** How often to ping (default `'5m'`); set the receiver's period to this, plus some grace. */
    every: durationSchema({ minMs: 1000, maxMs: 7 * 86_400_000 }).prefault('5m'),
    /**
     * `healthchecks` (default): `<url>` to ping, `<url>/start` at boot, `<url>/fail` with the
     * reason as body (healthchecks.io, Better Stack, and the self-hosted ones that copy them);
     * `uptime-kuma`: `<url>?status=up|down&msg=...` (an Uptime Kuma push monitor).
     */
    style: z.enum(['healthchecks', 'uptime-kuma']).default('healthchecks'),
    /** Send `<url>/start` at boot (healthchecks style; Better Stack has no `/start`: set false). */
    start: z.boolean().default(true),
    /** The plain ping's method; `/fail` is always a POST with a body. */
    method: z.enum(['GET', 'POST']).default('GET'),
    /** A ping gives up after this long (default 10 s): a receiver that hangs never holds the host. */
    timeoutSeconds: z.number().min(1).max(60).default(10),
  })
  .strict()
  .transform(({ every, ...rest }) => ({ ...rest, everyMs: every }));

/** Heartbeat options as written in a config. */
export type HeartbeatOptions = z.input<typeof heartbeatOptionsSchema>;
/** Heartbeat options after validation. */
export type ResolvedHeartbeatOptions = z.output<typeof heartbeatOptionsSchema>;

/** What one ping said. */
export type HeartbeatKind = 'start' | 'ping' | 'fail';

/** The longest reason sent with `/fail` (receivers keep a few kB; a reason needs a few lines). */
const MAX_REASON = 1000;

/**
 * The reason `/fail` carries: the failing checks of a health report, one per line.
 *
 * @example
 * ```ts
 * failReason({ status: 'fail', checks: { store: { status: 'fail', output: 'disk I/O error' } } });
 * // 'store: disk I/O error'
 * ```
 */
export function failReason(report: HealthReport): string {
  const lines = Object.entries(report.checks)
    .filter(([, c]) => c.status === 'fail')
    .map(([name, c]) => `${name}: ${c.output ?? 'fail'}`);
  const text = lines.join('\n') || 'health failing';
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * An outbound heartbeat: pings the receiver every `everyMs` from the host's own event loop, so a
 * host that dies or hangs goes quiet and the receiver raises the alarm. Each ping first runs the
 * host's health checks: while `/health` fails it sends `/fail` with the failing checks (secrets
 * masked) instead. A ping still in flight when the next is due makes that one skip (no pile-up
 * against a receiver that hangs); a timer that fires late after a stall sends one ping, never the
 * missed ones. Failures to reach the receiver are logged once per streak, never thrown.
 *
 * @example
 * ```ts
 * const beat = new Heartbeat(options, { clock, logger, health: () => registry, mask: (t) => masker.mask(t) });
 * beat.start();
 * // ... on stop:
 * beat.stop();
 * ```
 */
export class Heartbeat {
  #timer: TimerHandle | undefined;
  #inFlight = false;
  #stopped = false;
  #failing = false;
  /** The `/start` ping: the first ping waits for it, so the receiver sees them in order. */
  #starting: Promise<void> = Promise.resolve();
  readonly #abort = new AbortController();

  constructor(
    private readonly options: ResolvedHeartbeatOptions,
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      health: () => HealthRegistry | undefined;
      /** Masks secrets in the reason sent and in log lines (the URL is one). */
      mask: (text: string) => string;
      /** Told of every ping sent, with whether the receiver took it. */
      onPing?: (kind: HeartbeatKind, ok: boolean) => void;
    },
  ) {}

  /** Sends `/start` (healthchecks style, unless `start: false`): the host is booting. */
  start(): void {
    if (this.options.style === 'healthchecks' && this.options.start) {
      this.#starting = this.#send('start');
    }
  }

  /** Sends the first ping now (or `/fail`), then one every `everyMs`. */
  begin(): void {
    if (this.#timer || this.#stopped) return;
    void this.#tick();
    this.deps.logger.info(
      { every: formatDuration(this.options.everyMs), style: this.options.style },
      `heartbeat to ${this.deps.mask(this.options.url)} every ${formatDuration(this.options.everyMs)}`,
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#abort.abort(new Error('host stopping'));
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    // Scheduled before the ping: a slow receiver does not stretch the period. A late timer (the
    // loop was blocked) fires once: the missed pings are gone, which is the point.
    this.#timer = this.deps.clock.setTimeout(() => void this.#tick(), this.options.everyMs);
    if (this.#inFlight) {
      this.deps.logger.debug('heartbeat: the previous ping is still in flight; skipping one');
      return;
    }
    this.#inFlight = true;
    try {
      await this.#starting;
      const report = await this.#health();
      if (report && report.status === 'fail') await this.#send('fail', failReason(report));
      else await this.#send('ping');
    } finally {
      this.#inFlight = false;
    }
  }

  async #health(): Promise<HealthReport | undefined> {
    const registry = this.deps.health();
    if (!registry) return undefined;
    try {
      return await registry.run();
    } catch (err) {
      return {
        status: 'fail',
        checks: { health: { status: 'fail', output: `could not run the checks: ${String(err)}` } },
      };
    }
  }

  #request(kind: HeartbeatKind, reason: string | undefined): { url: string; init: RequestInit } {
    const { url, style, method } = this.options;
    if (style === 'uptime-kuma') {
      const target = new URL(url);
      target.searchParams.set('status', kind === 'fail' ? 'down' : 'up');
      target.searchParams.set('msg', kind === 'fail' ? (reason ?? 'fail').slice(0, 250) : 'OK');
      target.searchParams.set('ping', '');
      return { url: target.toString(), init: { method: 'GET' } };
    }
    const base = url.replace(/\/+$/, '');
    if (kind === 'ping') return { url: base, init: { method } };
    if (kind === 'start') return { url: `${base}/start`, init: { method } };
    return {
      url: `${base}/fail`,
      init: {
        method: 'POST',
        body: reason ?? '',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      },
    };
  }

  async #send(kind: HeartbeatKind, reason?: string): Promise<void> {
    if (this.#stopped) return;
    const { url, init } = this.#request(
      kind,
      reason === undefined ? undefined : this.deps.mask(reason),
    );
    const signal = AbortSignal.any([
      this.#abort.signal,
      AbortSignal.timeout(this.options.timeoutSeconds * 1000),
    ]);
    let ok = false;
    let problem = '';
    try {
      const response = await fetch(url, { ...init, signal, redirect: 'follow' });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      ok = response.ok;
      if (!ok) problem = `the receiver answered ${response.status}`;
    } catch (err) {
      if (this.#stopped) return;
      problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    this.deps.onPing?.(kind, ok);
    if (!ok && !this.#failing) {
      this.#failing = true;
      this.deps.logger.warn(
        { kind, problem: this.deps.mask(problem) },
        `heartbeat: could not reach ${this.deps.mask(this.options.url)} (${this.deps.mask(problem)}); trying again in ${formatDuration(this.options.everyMs)}`,
      );
    } else if (ok && this.#failing) {
      this.#failing = false;
      this.deps.logger.info(`heartbeat: reaching ${this.deps.mask(this.options.url)} again`);
    }
  }
}
