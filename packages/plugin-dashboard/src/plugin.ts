import { createRequire } from 'node:module';
import {
  AgentdError,
  AgentRegistryToken,
  AnswersToken,
  ChannelRegistryToken,
  HealthRegistryToken,
  HostInfoToken,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  HttpServerToken,
  InboundRouterToken,
  IntakeGuardToken,
  type Plugin,
  SecretMaskerToken,
  SessionStoreToken,
  type StateStore,
  StateStoreToken,
  StoreToken,
  TaskQueueToken,
  TaskStoreToken,
} from '@agentd/core';
import { BudgetGuardToken, FailoverPolicyToken } from '@agentd/core/failover';
import { MailboxChannel, REDACTED, redactSecrets, SECRET_KEYS } from '@agentd/core/host';
import { SchedulerToken } from '@agentd/core/scheduler';
import { SessionManagerToken } from '@agentd/core/sessions';
import { FailureRing, mountAgentRoutes } from './api-agents.js';
import { AlertLog, mountAlertRoutes } from './api-alerts.js';
import { MetricsHistoryReaderToken, mountChartRoutes } from './api-charts.js';
import { mountChatRoutes, WEB_CHANNEL } from './api-chat.js';
import { mountAuthRoutes, mountHostRoutes } from './api-host.js';
import { mountTaskRoutes } from './api-tasks.js';
import { ClientAssets } from './assets.js';
import { boundToLoopback, DashboardAuth } from './auth.js';
import { loadFirstViewRenderer } from './first-view-render.js';
import { LiveHub } from './live.js';
import {
  type DashboardOptions,
  dashboardOptionsSchema,
  type ResolvedDashboardOptions,
} from './options.js';
import { apiRouter, type DashboardDeps } from './routes.js';

/** The plugin's name in a host. */
export const DASHBOARD_PLUGIN_NAME = 'dashboard';

const coreVersion = (): string => {
  try {
    return (createRequire(import.meta.url)('@agentd/core/package.json') as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
};

/**
 * A web dashboard served by the host's own HTTP server (`webhook()`) at `/dashboard`: tasks
 * (filter, page, detail, cancel, retry, enqueue), schedules (run now, pause, resume), dead letters (retry,
 * discard), sessions (suspend, resume, archive), agents (chains, circuits, failures, spend), alerts (acknowledge) and an
 * overview (health, uptime, version, throughput, charts of plugin-monitor's history), live by
 * Server-Sent Events from the event bus, and a chat with the host's agents through the `web`
 * channel (one conversation per dashboard user; commands, sessions and budgets apply as on any
 * channel). The browser client ships prebuilt in the package.
 *
 * Open without login while the server listens on loopback only; beyond loopback (or with
 * `auth: 'login'`) a login form asks for `token` and sets an HttpOnly, SameSite=Strict cookie.
 * Every change needs a CSRF token header; everything shown is masked for secrets.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 * import { dashboard } from '@agentd/plugin-dashboard';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), webhook({ port: 8787 }), dashboard({ token: '${AGENTD_API_TOKEN}' })],
 * });
 * ```
 */
export function dashboard(options: DashboardOptions = {}): Plugin<ResolvedDashboardOptions> {
  const offs: (() => void)[] = [];
  let live: LiveHub | undefined;
  let failures: FailureRing | undefined;
  let alerts: AlertLog | undefined;
  let chat: MailboxChannel | undefined;
  let state: StateStore | undefined;
  return {
    name: DASHBOARD_PLUGIN_NAME,
    dependsOn: [HttpServerToken],
    // Optional partners, started first when present so the API can read them.
    after: [
      TaskStoreToken,
      StateStoreToken,
      SessionStoreToken,
      TaskQueueToken,
      SchedulerToken,
      SessionManagerToken,
    ],
    optionsSchema: dashboardOptionsSchema,
    options,
    secretOptions: ['token'],

    register(ctx) {
      // Registered before any plugin starts, so a reply owed to the web channel from before a
      // restart finds it. Its messages go to the StateStore once the store has started.
      chat = new MailboxChannel({ name: WEB_CHANNEL, state: () => state, clock: ctx.clock });
      ctx.resolve(ChannelRegistryToken).add(chat);
      // A waiting read must not hold the drain up.
      ctx.events.on('host.stopping', () => chat?.wakeAll());
    },

    start(ctx) {
      const o = ctx.options;
      const http = ctx.resolve(HttpServerToken);
      const loopback = boundToLoopback(http.address?.host);
      const mode = o.auth === 'login' || !loopback ? 'login' : 'open';
      if (mode === 'login' && o.token === undefined) {
        throw new AgentdError(
          'E_DASHBOARD_TOKEN',
          `the dashboard needs a token to check logins (dashboard({ token: '\${AGENTD_API_TOKEN}' })): ${loopback ? 'auth is "login"' : `the HTTP server listens beyond loopback (${http.address?.host ?? 'unknown address'})`}`,
        );
      }
      const assets = ClientAssets.load();
      // Loaded while the host finishes starting; the first page waits for it if it comes sooner.
      const renderFirstView = loadFirstViewRenderer(assets.directory, ctx.logger);
      const masker = ctx.tryResolve(SecretMaskerToken);
      const maskText = (text: string) => (masker ? masker.mask(text) : redactSecrets(text));
      live = new LiveHub(ctx.events, () => ctx.clock.now(), maskText);
      const deps: DashboardDeps = {
        auth: new DashboardAuth(mode, o.path, o.token, o.sessionIdleMs, () => ctx.clock.now()),
        live,
        clock: ctx.clock,
        logger: ctx.logger,
        info: ctx.resolve(HostInfoToken),
        version: coreVersion(),
        health: ctx.resolve(HealthRegistryToken),
        agents: ctx.tryResolve(AgentRegistryToken),
        tasks: ctx.tryResolve(TaskStoreToken),
        queue: ctx.tryResolve(TaskQueueToken),
        sessions: ctx.tryResolve(SessionStoreToken),
        sessionManager: ctx.tryResolve(SessionManagerToken),
        scheduler: ctx.tryResolve(SchedulerToken),
        guard: ctx.tryResolve(IntakeGuardToken),
        storeDescription: ctx.tryResolve(StoreToken)?.description,
        mask: <T>(value: T) => maskJson(value, maskText) as T,
        maxStreams: o.maxStreams,
      };
      const reads = new Map<
        string,
        (request: HttpRequest) => Promise<HttpResponse> | HttpResponse
      >();
      const route = apiRouter(http, o.path, deps, offs, reads);
      mountAuthRoutes(route, deps);
      mountTaskRoutes(route, deps);
      mountHostRoutes(route, deps);
      // Read per request: plugin-monitor's history, when the host has one (no dependency on it).
      mountChartRoutes(route, deps, () => ctx.tryResolve(MetricsHistoryReaderToken));
      failures = new FailureRing(ctx.events, maskText);
      mountAgentRoutes(route, deps, {
        policy: () => ctx.tryResolve(FailoverPolicyToken),
        budgets: () => ctx.tryResolve(BudgetGuardToken),
        failures,
      });
      // The chat's mailbox and the alerts' log both keep to the StateStore, when there is one.
      state = ctx.tryResolve(StateStoreToken);
      alerts =
        state && new AlertLog(ctx.events, state, maskText, () => ctx.clock.now(), ctx.logger);
      mountAlertRoutes(route, deps, alerts);
      if (chat) {
        mountChatRoutes(route, deps, {
          channel: chat,
          router: ctx.resolve(InboundRouterToken),
          answers: () => ctx.tryResolve(AnswersToken),
        });
      }
      // The page itself: `/dashboard` sends the browser to `/dashboard/`, so the client's
      // relative asset paths work under any mount path.
      offs.push(
        http.route({
          method: 'GET',
          path: o.path,
          handler: () => ({ status: 308, headers: { location: `${o.path}/` } }),
        }),
        http.route({
          method: 'GET',
          path: `${o.path}/`,
          handler: async (request) =>
            assets.page(
              request,
              await firstView(reads, request, live?.position ?? 0),
              await renderFirstView,
            ) ?? {
              status: 404,
            },
        }),
        http.route({
          method: 'GET',
          path: `${o.path}/assets/*`,
          handler: (request) => {
            const found = assets.answer(`assets/${request.params['*'] ?? ''}`, request);
            if (!found) throw notFound();
            return found;
          },
        }),
      );
      ctx.logger.info(
        { path: o.path, auth: mode },
        `serving the dashboard at ${http.address?.url ?? ''}${o.path}/${mode === 'login' ? ' (login with the token)' : ''}`,
      );
    },

    stop() {
      live?.close();
      live = undefined;
      failures?.close();
      failures = undefined;
      alerts?.close();
      alerts = undefined;
      for (const off of offs.splice(0).reverse()) off();
    },
  };
}

/**
 * What the overview (the page a dashboard opens on) reads first: who the caller is (with the CSRF
 * token), the overview, and the alerts count. The route is in the URL's hash, which the server
 * never sees, so it is always these.
 */
const FIRST_VIEW_READS = ['/me', '/overview', '/alerts'];
/** How long the page waits for them; a read still running is left to the client to ask for. */
const FIRST_VIEW_BUDGET_MS = 100;

/**
 * The first view's API answers for the page, through the API's own handlers: the same caller
 * check (an API read the caller may not make is left out, so the client asks and gets the same
 * 401 or 403) and the same masking of secrets. Answers other than 200 are left out.
 */
async function firstView(
  reads: ReadonlyMap<string, (request: HttpRequest) => Promise<HttpResponse> | HttpResponse>,
  request: HttpRequest,
  livePosition: number,
): Promise<Record<string, unknown>> {
  const first: Record<string, unknown> = {};
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FIRST_VIEW_BUDGET_MS);
  });
  await Promise.race([
    Promise.all(
      FIRST_VIEW_READS.map(async (path) => {
        const read = reads.get(path);
        if (!read) return;
        try {
          const answer = await read(request);
          if ((answer.status ?? 200) === 200 && answer.json !== undefined)
            first[path] = answer.json;
        } catch {
          // Not for this caller, or failing: the client asks, and shows what the API answers.
        }
      }),
    ),
    late,
  ]);
  clearTimeout(timer);
  // Where the page's live stream starts (`/events?since=`), taken before the reads: events
  // published while they ran make the stream ask the page to re-read, none is missed. Only with
  // the data it goes with.
  if (first['/overview'] !== undefined) first['/events'] = { since: livePosition };
  // A copy: reads that finish after the budget must not change the page being sent.
  return { ...first };
}

function notFound() {
  return new HttpError(404, 'not_found', 'no such dashboard file');
}

/** Every string of a JSON-like value masked; secret-named keys hidden. */
function maskJson(value: unknown, mask: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => maskJson(v, mask, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : maskJson(v, mask, depth + 1);
  }
  return out;
}
