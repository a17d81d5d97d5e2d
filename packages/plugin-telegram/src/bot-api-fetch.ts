import { Agent } from 'undici';

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
 * A `fetch` for grammY's API client over undici's dispatcher API, on one keep-alive connection
 * pool per client (`connections` at most, default {@link SENDING_CONNECTIONS}). grammY's default
 * on Node is node-fetch over `node:http`, which builds a WHATWG request, headers and body objects
 * for every call: measured on the Telegram bench, that client cost about 170 µs of CPU more per
 * `sendMessage` round trip (with the fake server's share the same in both). Only what grammY uses
 * is implemented: the method, headers and body it builds (a JSON string, or a stream for
 * uploads), its abort signal, and an answer read whole (any status: Telegram's errors come as
 * JSON with `ok: false`). Timeouts stay grammY's (its `timeoutSeconds` aborts the call), so
 * undici's own are switched off.
 *
 * Why `dispatch` rather than undici's `request`: `request` wraps every answer in a readable
 * stream and a handler of its own, and the answer here is always read whole into one string.
 * Measured with 32 calls in flight against a loopback server (a `sendMessage`-sized JSON
 * exchange, 20,000 calls, three alternations): 43-50 µs of CPU per call through `dispatch`
 * against 68-71 µs through `request` (one such call per reply in a chat host).
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
  const fetch = (url: string, init: BotApiRequestInit = {}): Promise<BotApiResponse> =>
    new Promise((resolve, reject) => {
      const { origin, path } = splitUrl(url);
      const signal = init.signal;
      const chunks: Buffer[] = [];
      let status = 0;
      let onAbort: (() => void) | undefined;
      const dropAbortListener = () => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      };
      dispatcher.dispatch(
        {
          origin,
          path,
          method: (init.method ?? 'GET') as 'GET' | 'POST',
          headers: init.headers,
          body: init.body as string | undefined,
        },
        {
          onConnect(abort) {
            // As undici's `request` does with a signal: an aborted call fails with its reason.
            if (!signal) return;
            if (signal.aborted) abort(signal.reason);
            else if (!onAbort) {
              onAbort = () => abort(signal.reason);
              signal.addEventListener('abort', onAbort, { once: true });
            }
          },
          onHeaders(statusCode) {
            status = statusCode;
            return true;
          },
          onData(chunk) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            dropAbortListener();
            const text = (
              chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
            ).toString('utf8');
            resolve({
              ok: status >= 200 && status < 300,
              status,
              json: async () => JSON.parse(text) as unknown,
              text: async () => text,
            });
          },
          onError(error) {
            dropAbortListener();
            reject(error);
          },
        },
      );
    });
  return Object.assign(fetch, { close: () => dispatcher.close() });
}

/**
 * The origin and the path of a Bot API URL (`https://api.telegram.org/bot<token>/sendMessage`):
 * grammY builds every call's URL from the same API root, so a split at the first slash after the
 * scheme is enough, and cheaper than parsing a `URL` per call.
 */
function splitUrl(url: string): { origin: string; path: string } {
  const afterScheme = url.indexOf('//') + 2;
  const slash = url.indexOf('/', afterScheme);
  return slash === -1
    ? { origin: url, path: '/' }
    : { origin: url.slice(0, slash), path: url.slice(slash) };
}
