import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { findApi, STATUS_NOT_RUNNING } from './status.js';

// Core cannot import @agentd/plugin-monitor: this command asks the running host's HTTP API
// (`GET /api/report`, served by its `report()` plugin, JSON documented in docs/monitor.md)
// and prints the text the host rendered, or the JSON as it came.

const REPORT_PATH = '/api/report';

/**
 * `agentd report [--since 24h] [--json]`: the running host's report over the last `since`
 * (tasks by status and agent, top failures, latencies, schedules, alerts, sessions, cost,
 * system peaks, uptime), asked of its HTTP API like `agentd metrics` (address and token from
 * the webhook plugin's options). No host answering: a clear message and exit code 3.
 *
 * @example
 * ```ts
 * const code = await reportCommand(processIO, { cwd: process.cwd(), since: '7d' });
 * ```
 */
export async function reportCommand(
  io: CliIO,
  options: {
    config?: string;
    cwd: string;
    since?: string;
    json?: boolean;
    timeoutMs?: number;
    envFile?: string;
  },
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const name = checked.resolved.name;
  const found = await findApi(checked);
  const fail = (reason: string) => {
    if (options.json) io.out(JSON.stringify({ host: name, source: 'none', reason }, null, 2));
    else io.out(`host "${name}": no report (${reason})`);
    return STATUS_NOT_RUNNING;
  };
  if (!('url' in found)) return fail(found.reason);
  const since = encodeURIComponent(options.since ?? '24h');
  let response: Response;
  try {
    response = await fetch(`${found.url}${REPORT_PATH}?since=${since}`, {
      headers: {
        accept: 'application/json',
        ...(found.token ? { authorization: `Bearer ${found.token}` } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return fail(`no host answers at ${found.url} (${cause ?? (error as Error).message})`);
  }
  if (response.status === 400) {
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    io.err(`agentd report: ${body.error?.message ?? 'the host refused --since'}`);
    return 2;
  }
  if (!response.ok) {
    await response.body?.cancel();
    return fail(
      response.status === 404
        ? `the host at ${found.url} has no report() plugin (404)`
        : response.status === 401
          ? `the host at ${found.url} refused the API token (401)`
          : `the host at ${found.url} answered ${response.status}`,
    );
  }
  const body = (await response.json()) as { text?: string };
  if (options.json) io.out(JSON.stringify(body, null, 2));
  else io.out(body.text ?? JSON.stringify(body, null, 2));
  return 0;
}
