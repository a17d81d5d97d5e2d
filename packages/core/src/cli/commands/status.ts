import { connect } from 'node:net';
import type { HealthReport } from '../../contracts/health.js';
import { StoreToken } from '../../contracts/store.js';
import { TASK_STATUSES, type TaskStatus } from '../../contracts/task.js';
import { ConfigError } from '../../kernel/errors.js';
import type { Plugin, PluginOption } from '../../kernel/plugin.js';
import { flattenPlugins } from '../../kernel/plugin-graph.js';
import { validateConfig } from '../../preset/host.js';
import { formatTime } from '../format.js';
import { type CheckedConfig, loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { READ_ONLY, withStore } from '../store-access.js';
import { rolesLineFromHealth, rolesLineFromStore } from './status-roles.js';

/** Name of the plugin whose options say where the host's HTTP API listens. */
const HTTP_PLUGIN = 'webhook';

/**
 * Exit code when no running host answered and the figures come from the store (as LSB `status`).
 *
 * @example
 * ```ts
 * if ((await statusCommand(io, { cwd })) === STATUS_NOT_RUNNING) console.log('host is down');
 * ```
 */
export const STATUS_NOT_RUNNING = 3;

/** Where a running host's HTTP API is, as read from the config. */
export interface ApiEndpoint {
  url: string;
  /** The bearer token, or undefined when the config gives none (the API is then off). */
  token: string | undefined;
}

/** What `GET /api/v1/status` answers (the fields this command prints). */
interface StatusBody {
  host: {
    name: string;
    pid: number;
    state: string;
    readyAt: number | null;
    uptimeMs: number | null;
    plugins: string[];
  };
  intake: { state: string; inFlight: number };
  http: { url: string | null };
  store: string | null;
  tasks: Record<TaskStatus, number> | null;
  /** Absent when the host runs a version that did not report it. */
  replies?: { owed: number } | null;
  health: HealthReport;
}

/**
 * Finds the HTTP API in the config: the `webhook` plugin's validated options `host`, `port` and
 * `api.token`. A wildcard bind address is reached through loopback; port 0 (a random port)
 * cannot be found from outside.
 *
 * @example
 * ```ts
 * apiEndpoint(await loadCheckedConfig(cwd)); // { url: 'http://127.0.0.1:8787', token: '…' }
 * ```
 */
export function apiEndpoint(checked: CheckedConfig): ApiEndpoint | undefined {
  const entry = checked.resolved.plugins.find((p) => p.plugin.name === HTTP_PLUGIN);
  if (!entry) return undefined;
  const options = (entry.options ?? {}) as {
    host?: unknown;
    port?: unknown;
    api?: { token?: unknown };
  };
  const port = typeof options.port === 'number' ? options.port : 8787;
  if (port === 0) return undefined;
  let host = typeof options.host === 'string' ? options.host : '127.0.0.1';
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const token = typeof options.api?.token === 'string' ? options.api.token : undefined;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, token };
}

/**
 * The HTTP API of a store-only load: only the webhook plugin's options are checked here, so a
 * secret that only another plugin needs is not demanded, and an unset API token is a reason to
 * read the store instead of an error.
 *
 * @example
 * ```ts
 * const found = await findApi(await loadCheckedConfig(cwd, undefined, { storeOnly: true }));
 * if ('url' in found) console.log(found.url);
 * ```
 */
export async function findApi(checked: CheckedConfig): Promise<ApiEndpoint | { reason: string }> {
  const noApi = { reason: 'the config has no webhook plugin, so no HTTP API to ask' };
  const plugin = flattenPlugins(checked.config.plugins ?? [])
    .map((p) => p.plugin)
    .find((p) => (p as Plugin | null)?.name === HTTP_PLUGIN) as Plugin | undefined;
  if (!plugin) return noApi;
  try {
    // The other plugins stand aside as `false` (skipped), so a problem is named at the plugin's
    // own place in the config (`plugins[3].api.token`), not at its place in a list of one.
    const resolved = await validateConfig(
      { plugins: onlyPlugin(checked.config.plugins ?? [], plugin) },
      { baseDir: checked.baseDir },
    );
    return apiEndpoint({ ...checked, resolved }) ?? noApi;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      reason: `the webhook plugin's options are incomplete here: ${error.issues.join('; ')}`,
    };
  }
}

/** `list` with every plugin but `keep` replaced by `false`, nested lists kept where they are. */
function onlyPlugin(list: readonly PluginOption[], keep: Plugin): PluginOption[] {
  return list.map((entry) =>
    Array.isArray(entry) ? onlyPlugin(entry, keep) : entry === keep ? entry : false,
  );
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function countsLine(counts: Record<TaskStatus, number>): string {
  return TASK_STATUSES.map((s) => `${counts[s] ?? 0} ${s}`).join(', ');
}

function repliesLine(owed: number): string {
  return owed === 0
    ? 'replies: none owed'
    : `replies: ${owed} owed (results not yet delivered to their channels; retried with backoff)`;
}

/**
 * Why a TCP connection to `url`'s host and port fails (`ECONNREFUSED`, `no answer within … ms`),
 * or undefined when it opens (it is closed at once).
 */
function connectionError(url: string, timeoutMs: number): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) || 80 });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Asks the running host; resolves with its status, or with why it could not. */
async function askHost(
  endpoint: ApiEndpoint,
  timeoutMs: number,
): Promise<{ body: StatusBody } | { reason: string }> {
  if (!endpoint.token) {
    return { reason: 'the webhook plugin has no api.token, so the HTTP API is off' };
  }
  // A refused connection is the common answer (no host running), and finding it out with a bare
  // socket spares loading fetch's HTTP client (undici), about 100 ms of a read command.
  const refused = await connectionError(endpoint.url, timeoutMs);
  if (refused) return { reason: `no host answers at ${endpoint.url} (${refused})` };
  try {
    const response = await fetch(`${endpoint.url}/api/v1/status`, {
      headers: { authorization: `Bearer ${endpoint.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.ok) return { body: (await response.json()) as StatusBody };
    await response.body?.cancel();
    return {
      reason:
        response.status === 401
          ? `the host at ${endpoint.url} refused the API token (401)`
          : `the host at ${endpoint.url} answered ${response.status}`,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const timedOut = (error as Error).name === 'TimeoutError';
    return {
      reason: `no host answers at ${endpoint.url} (${timedOut ? `no answer within ${timeoutMs} ms` : (cause ?? (error as Error).message)})`,
    };
  }
}

/**
 * `agentd status [--json]`: the running host's status through its HTTP API (found from the
 * webhook plugin's options in the config), or, when no host answers, task counts read from the
 * store directly. Says which source it used. Exit code 0 when the host answered,
 * {@link STATUS_NOT_RUNNING} (3) when the figures come from the store.
 *
 * @example
 * ```ts
 * const code = await statusCommand(processIO, { cwd: process.cwd() });
 * ```
 */
export async function statusCommand(
  io: CliIO,
  options: { config?: string; cwd: string; json?: boolean; timeoutMs?: number; envFile?: string },
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const found = await findApi(checked);
  const endpoint = 'url' in found ? found : undefined;
  const asked: { body: StatusBody } | { reason: string } = endpoint
    ? await askHost(endpoint, options.timeoutMs ?? 2000)
    : { reason: (found as { reason: string }).reason };

  if ('body' in asked) {
    const s = asked.body;
    if (options.json) {
      io.out(JSON.stringify({ source: 'api', url: endpoint!.url, ...s }, null, 2));
      return 0;
    }
    const since =
      s.host.readyAt === null
        ? s.host.state
        : `${s.host.state} since ${formatTime(s.host.readyAt)} (up ${duration(s.host.uptimeMs ?? 0)})`;
    io.out(`host "${s.host.name}": ${since}, pid ${s.host.pid}`);
    io.out(`  source: the running host's HTTP API at ${endpoint!.url}`);
    io.out(`  intake: ${s.intake.state}, ${s.intake.inFlight} in flight`);
    const failing = Object.entries(s.health.checks).filter(([, r]) => r.status !== 'pass');
    io.out(
      `  health: ${s.health.status} (${Object.keys(s.health.checks).length} checks${failing.length ? `; ${failing.map(([n, r]) => `${n} ${r.status}${r.output ? `: ${r.output}` : ''}`).join('; ')}` : ''})`,
    );
    io.out(`  tasks: ${s.tasks ? countsLine(s.tasks) : 'no task store'}`);
    if (s.replies) io.out(`  ${repliesLine(s.replies.owed)}`);
    const roles = rolesLineFromHealth(s.health);
    if (roles) io.out(`  ${roles}`);
    io.out(`  store: ${s.store ?? 'none'}`);
    io.out(`  plugins: ${s.host.plugins.join(', ')}`);
    return 0;
  }

  const hasStore = checked.resolved.plugins.some((p) =>
    p.plugin.provides?.some((t) => t.key === StoreToken.key),
  );
  if (!hasStore) {
    if (options.json) {
      io.out(
        JSON.stringify(
          { source: 'none', reason: asked.reason, host: { name: checked.resolved.name } },
          null,
          2,
        ),
      );
    } else {
      io.out(`host "${checked.resolved.name}": no running host answered (${asked.reason})`);
      io.out('  and the config has no store plugin to read instead');
    }
    return STATUS_NOT_RUNNING;
  }
  return withStore(
    checked,
    async (store) => {
      const counts = await store.tasks.counts();
      const owed = await store.tasks.countOwedReplies();
      const roles = await rolesLineFromStore(store.state, Date.now());
      if (options.json) {
        io.out(
          JSON.stringify(
            {
              source: 'store',
              reason: asked.reason,
              host: { name: checked.resolved.name },
              store: store.description,
              tasks: counts,
              replies: { owed },
            },
            null,
            2,
          ),
        );
      } else {
        io.out(`host "${checked.resolved.name}": no running host answered`);
        io.out(`  source: the store, read directly (${asked.reason})`);
        io.out(`  tasks: ${countsLine(counts)}`);
        io.out(`  ${repliesLine(owed)}`);
        if (roles) io.out(`  ${roles}`);
        io.out(`  store: ${store.description}`);
      }
      return STATUS_NOT_RUNNING;
    },
    READ_ONLY,
  );
}
