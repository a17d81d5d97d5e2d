import {
  type Alert,
  HostInfoToken,
  HttpError,
  HttpServerToken,
  type JsonValue,
  NotifierToken,
  type Plugin,
  type PluginContext,
  SessionStoreToken,
  type StateStore,
  StateStoreToken,
  TaskStoreToken,
} from '@agentd/core';
import { BudgetGuardToken } from '@agentd/core/failover';
import { SchedulerToken } from '@agentd/core/scheduler';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { MetricsHistoryToken } from '../history.js';
import { MetricsRegistryToken, metricsRouteAuth } from '../metrics.js';
import { buildReport, type DailyReport, type JournalEntry } from './report-data.js';
import { reportText } from './report-text.js';

/** The plugin's name in a host, the notification's `source`, and the journal's namespace. */
export const REPORT_PLUGIN_NAME = 'report';
/** Where `GET /api/report?since=24h` is served. */
export const REPORT_PATH = '/api/report';
const DAY_MS = 86_400_000;
const MAX_SINCE_MS = 90 * DAY_MS;
/** Journal entries kept per host (alerts, boots, schedule fires), for 8 days. */
const JOURNAL_LIMIT = 2000;
const JOURNAL_TTL_MS = 8 * DAY_MS;

const missedSchema = z.union([
  z.enum(['skip', 'latest']),
  z.object({ policy: z.literal('all'), windowMs: z.number().int().positive() }).strict(),
]);

/**
 * The report plugin's options schema (zod).
 *
 * @example
 * ```ts
 * reportOptionsSchema.parse({}).cron; // '0 8 * * *'
 * ```
 */
export const reportOptionsSchema = z
  .object({
    /** When the report is sent (cron, read in `timezone`); default 08:00 every day. */
    cron: z.string().min(1).default('0 8 * * *'),
    /** IANA time zone of `cron` (default: the scheduler's, i.e. the host's). */
    timezone: z.string().optional(),
    /** Missed-run policy when the host was down at the slot (default `latest`: sent once late). */
    missed: missedSchema.default('latest'),
    /** The schedule's name (`agentd schedules` lists it). */
    schedule: z.string().min(1).default('daily-report'),
    /** The window a scheduled report covers, as a duration (default `24h`). */
    since: z
      .string()
      .refine((s) => (parseDuration(s) ?? 0) > 0, 'a duration such as 24h')
      .default('24h'),
    /** Send the report on schedule (default true); false keeps only the API route. */
    send: z.boolean().default(true),
    /** Who may read `GET /api/report`: as for `/metrics` (auto: open on loopback only). */
    auth: z.enum(['auto', 'bearer', 'none']).default('auto'),
  })
  .strict();

export type ReportOptions = z.input<typeof reportOptionsSchema>;
export type ResolvedReportOptions = z.output<typeof reportOptionsSchema>;

/**
 * Remembers what the store does not keep (alerts raised and resolved, boots, schedule fires)
 * in the state store, one bounded key per host, written one at a time.
 */
class Journal {
  entries: JournalEntry[] = [];
  #writing: Promise<void> = Promise.resolve();
  constructor(
    private readonly state: StateStore | undefined,
    private readonly key: string,
  ) {}

  async load(): Promise<void> {
    const stored = await this.state?.get<JournalEntry[]>(REPORT_PLUGIN_NAME, this.key);
    if (Array.isArray(stored)) this.entries = stored;
  }

  add(entry: JournalEntry, onError: (err: unknown) => void): void {
    this.entries.push(entry);
    if (this.entries.length > JOURNAL_LIMIT)
      this.entries.splice(0, this.entries.length - JOURNAL_LIMIT);
    const state = this.state;
    if (!state) return;
    this.#writing = this.#writing
      .then(() =>
        state.set(REPORT_PLUGIN_NAME, this.key, this.entries as unknown as JsonValue, {
          ttlMs: JOURNAL_TTL_MS,
        }),
      )
      .catch(onError);
  }

  flush(): Promise<void> {
    return this.#writing;
  }
}

/** Whether an alert announces a recovery (the rule engine's and the notifier's convention). */
const isResolved = (a: Alert) =>
  a.dedupeKey?.endsWith(':resolved') === true || /\bresolved\b|recovered/i.test(a.title);

/**
 * The daily report: at 08:00 (any cron, in the host's time zone or `timezone`) a schedule like
 * the others (its missed-run policy applies; one host sends each slot) gathers the last 24
 * hours (tasks by status and agent, the top failures and their causes, wait and run time
 * percentiles, schedules fired and missed, alerts raised and resolved, sessions, cost against
 * the budget, system peaks, uptime and boots) and sends it as one `info` notification with
 * source `report` through the host's notifier, as plain text. Also served as JSON at
 * `GET /api/report?since=24h` (what `agentd report` prints). Works best beside `metrics()`
 * (percentile peaks and system peaks come from its history).
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 * import { metrics, monitor, report } from '@agentd/plugin-monitor';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), webhook({ port: 8787 }), monitor(), metrics(), report({ cron: '0 8 * * *', timezone: 'Europe/Berlin' })],
 * });
 * ```
 */
export function report(options: ReportOptions = {}): Plugin<ResolvedReportOptions> {
  const offs: (() => void)[] = [];
  let journal: Journal | undefined;
  let startedAt = 0;
  return {
    name: REPORT_PLUGIN_NAME,
    dependsOn: [TaskStoreToken],
    after: [StateStoreToken, SchedulerToken, MetricsRegistryToken, HttpServerToken, NotifierToken],
    optionsSchema: reportOptionsSchema,
    options,

    register(ctx) {
      const host = ctx.resolve(HostInfoToken).name;
      journal = new Journal(ctx.tryResolve(StateStoreToken), `journal:${host}`);
      const j = journal;
      const warn = (err: unknown) => ctx.logger.warn({ err }, 'report: could not keep the journal');
      offs.push(
        ctx.events.on('alert', (a) => {
          if (a.source === REPORT_PLUGIN_NAME) return;
          j.add(
            {
              kind: 'alert',
              at: a.at ?? ctx.clock.now(),
              severity: a.severity,
              title: a.title.slice(0, 200),
              resolved: isResolved(a),
            },
            warn,
          );
        }),
        ctx.events.on('schedule.fired', (f) =>
          j.add({ kind: 'fired', at: ctx.clock.now(), schedule: f.schedule }, warn),
        ),
      );
    },

    async start(ctx) {
      startedAt = ctx.clock.now();
      const j = journal as Journal;
      await j.load();
      j.add({ kind: 'boot', at: startedAt }, () => {});
      const make = (sinceMs: number) => gather(ctx, j, startedAt, sinceMs);
      const scheduler = ctx.tryResolve(SchedulerToken);
      if (ctx.options.send && scheduler) {
        const sinceMs = parseDuration(ctx.options.since) as number;
        scheduler.add({
          name: ctx.options.schedule,
          cron: ctx.options.cron,
          ...(ctx.options.timezone ? { timezone: ctx.options.timezone } : {}),
          missed: ctx.options.missed,
          overlap: 'skip',
          handler: async () => {
            const r = await make(sinceMs);
            await ctx.tryResolve(NotifierToken)?.notify({
              severity: 'info',
              source: REPORT_PLUGIN_NAME,
              title: `Daily report: ${r.host}`,
              message: reportText(r),
              dedupeKey: `${REPORT_PLUGIN_NAME}:${r.host}:${r.to}`,
              at: r.to,
            });
          },
        });
        offs.push(() => void scheduler.remove(ctx.options.schedule));
      } else if (ctx.options.send) {
        ctx.logger.warn('report: the host has no scheduler, so the daily report is not sent');
      }
      const http = ctx.tryResolve(HttpServerToken);
      if (!http) return;
      offs.push(
        http.route({
          method: 'GET',
          path: REPORT_PATH,
          auth: metricsRouteAuth(ctx.options.auth, http.address),
          handler: async (request) => {
            const text = request.query.get('since') ?? '24h';
            const sinceMs = parseDuration(text);
            if (!sinceMs || sinceMs > MAX_SINCE_MS) {
              throw new HttpError(
                400,
                'invalid_query',
                'since must be a duration up to 90d, like 24h or 7d',
              );
            }
            const r = await make(sinceMs);
            const json = { ...r, text: reportText(r) };
            return { json: json as unknown as JsonValue };
          },
        }),
      );
    },

    async stop() {
      for (const off of offs.splice(0).reverse()) off();
      await journal?.flush();
    },
  };
}

function gather(
  ctx: PluginContext<ResolvedReportOptions>,
  journal: Journal,
  startedAt: number,
  sinceMs: number,
): Promise<DailyReport> {
  const to = ctx.clock.now();
  const scheduler = ctx.tryResolve(SchedulerToken);
  const sessions = ctx.tryResolve(SessionStoreToken);
  const budget = ctx.tryResolve(BudgetGuardToken);
  return buildReport(
    {
      host: ctx.resolve(HostInfoToken).name,
      tasks: ctx.resolve(TaskStoreToken),
      journal: journal.entries,
      startedAt,
      history: ctx.tryResolve(MetricsHistoryToken),
      ...(scheduler ? { schedules: () => scheduler.list() } : {}),
      ...(sessions ? { sessions: () => sessions.listByStatus(['live', 'idle', 'suspended']) } : {}),
      ...(budget
        ? {
            budget: () => {
              const b = budget.report(to);
              return {
                dayUsd: b.dayUsd,
                monthUsd: b.monthUsd,
                ...(b.dailyCapUsd === undefined ? {} : { dailyCapUsd: b.dailyCapUsd }),
                ...(b.monthlyCapUsd === undefined ? {} : { monthlyCapUsd: b.monthlyCapUsd }),
              };
            },
          }
        : {}),
    },
    to - sinceMs,
    to,
  );
}
