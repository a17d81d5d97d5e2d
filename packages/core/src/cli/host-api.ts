import { AgentdError } from '../kernel/errors.js';
import { findApi } from './commands/status.js';
import { loadCheckedConfig } from './host-config.js';
import { cliSecrets } from './output.js';

/** Where `ask` and `chat` find the host when the environment says so (no config needed). */
export const API_URL_ENV = 'AGENTD_API_URL';
/** The API token when given by the environment (it wins over the config's). */
export const API_TOKEN_ENV = 'AGENTD_API_TOKEN';

/** An answer of the host's API: status and parsed JSON body. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/**
 * A client of the running host's HTTP API, for the commands that talk to the host rather than
 * to its store. The token is only ever put in the Authorization header: it is added to the CLI's
 * masker, so even an error that echoed it would print `***`.
 */
export class HostApi {
  readonly url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.url = url.replace(/\/+$/, '');
    this.#token = token;
    cliSecrets.add(token);
  }

  /** Sends a request; rejects with `E_NO_API` when no host answers, or the token is refused. */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<ApiAnswer<T>> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        ...(options.signal && { signal: options.signal }),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new AgentdError(
        'E_NO_API',
        `no host answers at ${this.url} (${cause ?? (error as Error).message}); is it running (agentd start)?`,
      );
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw new AgentdError('E_NO_API', `the host at ${this.url} refused the API token (401)`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new AgentdError(
        'E_NO_API',
        `the host at ${this.url} answered ${response.status} with something other than JSON`,
      );
    }
    return { status: response.status, body: body as T };
  }
}

/** The message of an API error body (`{ error: { code, message } }`). */
export function apiErrorMessage(body: unknown, status: number): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.message === 'string'
    ? `${error.message}${typeof error.code === 'string' ? ` (${error.code})` : ''}`
    : `the host answered ${status}`;
}

/**
 * Finds the running host's API: `AGENTD_API_URL` (with `AGENTD_API_TOKEN`) when set, otherwise
 * the webhook plugin's `host`, `port` and `api.token` in the config (`AGENTD_API_TOKEN` still
 * wins for the token).
 *
 * @example
 * ```ts
 * const api = await connectToHost({ cwd: process.cwd() });
 * const { body } = await api.request('GET', '/api/v1/status');
 * ```
 */
export async function connectToHost(options: {
  cwd: string;
  config?: string;
  envFile?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<HostApi> {
  const env = options.env ?? process.env;
  const envUrl = env[API_URL_ENV];
  const envToken = env[API_TOKEN_ENV];
  if (envUrl) {
    if (!envToken) {
      throw new AgentdError('E_NO_API', `${API_URL_ENV} is set, so ${API_TOKEN_ENV} must be too`);
    }
    return new HostApi(envUrl, envToken);
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const found = await findApi(checked);
  if (!('url' in found))
    throw new AgentdError('E_NO_API', `cannot reach the host: ${found.reason}`);
  const token = env[API_TOKEN_ENV] || found.token;
  if (!token) {
    throw new AgentdError(
      'E_NO_API',
      'the webhook plugin has no api.token, so the HTTP API is off (set one, or AGENTD_API_TOKEN)',
    );
  }
  return new HostApi(found.url, token);
}
