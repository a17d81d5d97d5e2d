import { Agent, request } from 'undici';

/** What grammY passes to its `fetch` for one Bot API call (JSON, or a multipart upload stream). */
interface BotApiRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | NodeJS.ReadableStream;
  signal?: AbortSignal;
}

/** The part of a fetch `Response` grammY reads: it parses every answer, error or not, as JSON. */
interface BotApiResponse {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/** A `fetch` for grammY's API client, and the end of its connections. */
export interface BotApiFetch {
  (url: string, init?: BotApiRequestInit): Promise<BotApiResponse>;
  /**
   * Closes the pool's connections once the calls in flight have answered; a call after it
   * fails. The plugin's stop calls it, so a stopped host leaves no socket to Telegram open.
   */
  close(): Promise<void>;
}

/**
 * Connections of a sending pool: replies to many chats go out side by side, one chat's one at a
 * time (the channel's per-chat order). 64 kept the Telegram bench's event loop busier (0.96-0.98
 * of a burst against 0.86-0.90) but cost more CPU per update (more sockets, fewer answers per
 * read) and did not raise the rate on a shared 2-core machine; Telegram limits messages per
 * second, not connections.
 */
export const SENDING_CONNECTIONS = 32;

/**
 * A `fetch` for grammY's API client over undici's `request`, on one keep-alive connection pool
 * per client (`connections` at most, default {@link SENDING_CONNECTIONS}). grammY's default on
 * Node is node-fetch over `node:http`, which builds a WHATWG
 * request, headers and body objects for every call: measured on the Telegram bench, that client
 * cost about 170 µs of CPU more per `sendMessage` round trip (with the fake server's share the
 * same in both). Only what grammY uses is implemented: the method, headers and body it builds
 * (a JSON string, or a stream for uploads), its abort signal, and an answer read whole (any
 * status: Telegram's errors come as JSON with `ok: false`). Timeouts stay grammY's (its
 * `timeoutSeconds` aborts the call), so undici's own are switched off.
 *
 * @example
 * ```ts
 * const fetch = botApiFetch();
 * const api = new Api(token, { apiRoot, fetch: fetch as never });
 * // at stop
 * await fetch.close();
 * ```
 */
export function botApiFetch(connections = SENDING_CONNECTIONS): BotApiFetch {
  const dispatcher = new Agent({
    // Long polls hold a request open for the poll's timeout; grammY aborts one that overstays.
    headersTimeout: 0,
    bodyTimeout: 0,
    // A call beyond them waits in the pool's queue, behind every call queued before it.
    connections,
  });
  const fetch = async (url: string, init: BotApiRequestInit = {}): Promise<BotApiResponse> => {
    const response = await request(url, {
      method: (init.method ?? 'GET') as 'GET' | 'POST',
      ...(init.headers && { headers: init.headers }),
      ...(init.body !== undefined && { body: init.body as string }),
      ...(init.signal && { signal: init.signal }),
      dispatcher,
    });
    const text = await response.body.text();
    const status = response.statusCode;
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => JSON.parse(text) as unknown,
      text: async () => text,
    };
  };
  return Object.assign(fetch, { close: () => dispatcher.close() });
}
