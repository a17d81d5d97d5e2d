/**
 * The HTTP route contract: what a plugin that mounts routes (a Telegram webhook, a metrics page,
 * a dashboard) and a plugin that serves them (`@agentd/plugin-webhook` today) agree on. It lives
 * in core so both sides depend on core only, and a second server implementation can stand in
 * for the first without its users changing an import.
 *
 * `HttpError` is part of the contract, not of core's error catalogue: its `code` is a wire code
 * (snake_case, in the JSON error body) that any server implementing {@link HttpServer} must send.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createToken, type Token } from '../kernel/token.js';
import type { JsonValue } from './json.js';
import { isTaskStateRefusal } from './task.js';

/** Methods a route may answer. `HEAD` is served by `GET` routes automatically. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/**
 * A request as a route handler sees it: the body is already read (within the route's cap) as
 * the exact bytes received, so signatures can be verified over them.
 *
 * @example
 * ```ts
 * const handler: RouteHandler = (req) => ({ json: { id: req.params.id, q: req.query.get('q') } });
 * ```
 */
export interface HttpRequest {
  /** Upper-case method as received (`HEAD` for a `GET` route answered without a body). */
  readonly method: string;
  /** The path without the query string, as received (not percent-decoded). */
  readonly path: string;
  /** `:name` segments of the route pattern, percent-decoded; `*` holds a wildcard tail. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Node's lower-cased headers. */
  readonly headers: IncomingHttpHeaders;
  /** The raw body; empty when there was none. */
  readonly body: Buffer;
  readonly remoteAddress: string | undefined;
  /** Aborted when the client goes away before the answer is sent. */
  readonly signal: AbortSignal;
  /** One header's value (the first, if repeated), or undefined when absent or empty. */
  header(name: string): string | undefined;
  /** The body parsed as JSON (a leading BOM is ignored); throws a 400 {@link HttpError} if it is not. */
  json(): JsonValue;
}

/**
 * What a handler answers. Give `json` (sent as `application/json` unless a content-type header
 * says otherwise) or `body` (a string or bytes), or neither for an empty answer.
 *
 * @example
 * ```ts
 * return { status: 201, json: { id: '42' } };
 * return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: metrics };
 * ```
 */
export interface HttpResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string | number | string[]>;
  json?: JsonValue;
  body?: string | Uint8Array;
  /**
   * A body written as it is produced (Server-Sent Events, a long export): each chunk is sent as
   * it comes, without a content-length, and the answer ends when the iterable ends. The server
   * stops iterating (calls its `return`) when the client goes away or the server drains, so a
   * producer that waits should also watch {@link HttpRequest.signal}. Takes precedence over
   * `json` and `body`.
   *
   * @example
   * ```ts
   * async function* ticks() { yield 'data: 1\n\n'; yield 'data: 2\n\n'; }
   * return { headers: { 'content-type': 'text/event-stream' }, stream: ticks() };
   * ```
   */
  stream?: AsyncIterable<string | Uint8Array>;
}

/** Answers one request. Throw an {@link HttpError} for an error answer with the stable JSON shape. */
export type RouteHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/**
 * A route to mount on the host's HTTP server.
 *
 * @example
 * ```ts
 * http.route({ method: 'GET', path: '/metrics', auth: 'bearer', handler: () => ({ body: text }) });
 * ```
 */
export interface RouteDefinition {
  method: HttpMethod | readonly HttpMethod[];
  /**
   * `/exact/path`, with `:name` segments (`/tasks/:id`), or ending in `/*` for everything under
   * a prefix. Matching is exact: no trailing-slash or case folding.
   */
  path: string;
  handler: RouteHandler;
  /** Body cap in bytes for this route; at most the server's `bodyLimitBytes` (its default). */
  bodyLimitBytes?: number;
  /**
   * `bearer`: the API token is required (`Authorization: Bearer <token>`); without a configured
   * token every request is refused. Default `none`.
   */
  auth?: 'none' | 'bearer';
  /** Keep answering while the server drains (probes). Other routes get 503 then. */
  duringDrain?: boolean;
}

/** Where the server listens, once started. */
export interface HttpAddress {
  host: string;
  port: number;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  url: string;
}

/**
 * The host's HTTP server, for other plugins: mount routes (a Telegram webhook, a metrics page)
 * from `register` or `start`, and list {@link HttpServerToken} in `dependsOn`. A server plugin
 * implements it and provides it under {@link HttpServerToken}.
 *
 * @example
 * ```ts
 * import { HttpServerToken, type Plugin } from '@agentd/core';
 *
 * const metrics: Plugin = {
 *   name: 'metrics',
 *   dependsOn: [HttpServerToken],
 *   register(ctx) {
 *     ctx.resolve(HttpServerToken).route({
 *       method: 'GET',
 *       path: '/metrics',
 *       handler: () => ({ headers: { 'content-type': 'text/plain' }, body: 'up 1\n' }),
 *     });
 *   },
 * };
 * ```
 */
export interface HttpServer {
  /** Adds a route; returns a function that removes it. Throws if the method and path are taken. */
  route(definition: RouteDefinition): () => void;
  /** Undefined until the server listens, and after it closed. */
  readonly address: HttpAddress | undefined;
  /** True from the start of the drain: new requests get 503. */
  readonly draining: boolean;
  /** Requests being answered now. */
  readonly inFlight: number;
}

/**
 * The host's {@link HttpServer}, provided by an HTTP server plugin (`@agentd/plugin-webhook`).
 * Import it from `@agentd/core`; do not re-create it from its name.
 *
 * @example
 * ```ts
 * const plugin: Plugin = { name: 'mine', dependsOn: [HttpServerToken], register(ctx) {
 *   ctx.resolve(HttpServerToken).route({ method: 'GET', path: '/mine', handler: () => ({ json: 'hi' }) });
 * } };
 * ```
 */
export const HttpServerToken: Token<HttpServer> = createToken<HttpServer>('agentd.http');

/** The stable JSON error shape of every error answer. */
export interface ErrorBody {
  error: {
    /** Stable, snake_case: `unauthorized`, `not_found`, `payload_too_large`, ... */
    code: string;
    message: string;
  };
}

/**
 * An error answer. Thrown by handlers (or the server) and sent as `{ error: { code, message } }`.
 *
 * @example
 * ```ts
 * throw new HttpError(404, 'not_found', `no task with id ${id}`);
 * ```
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The JSON body sent for this error. */
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }

  /**
   * What a route throws for an error of a task action (hold, release): 409 `conflict` with the
   * store's message when the task is not in the state the action needs (`E_TASK_NOT_HOLDABLE`,
   * `E_TASK_NOT_HELD`), any other error as it is. One mapping for every API that steers tasks.
   *
   * @example
   * ```ts
   * try {
   *   return { json: { task: await queue.hold(id) } };
   * } catch (error) {
   *   throw HttpError.forTaskAction(error);
   * }
   * ```
   */
  static forTaskAction(error: unknown): unknown {
    return isTaskStateRefusal(error) ? new HttpError(409, 'conflict', error.message) : error;
  }
}
