import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  AgentdError,
  type AgentdEvents,
  type HttpAddress,
  HttpError,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type HttpServer,
  type JsonValue,
  type Logger,
  type RouteDefinition,
  type RouteHandler,
} from '@agentd/core';
import { Router } from './router.js';
import { sendStream } from './stream.js';

/** How the server listens and what it tolerates. */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Largest body accepted (413 beyond it). */
  bodyLimitBytes: number;
  /** Time allowed for the request line and headers (slow-loris defence). */
  headersTimeoutMs: number;
  /** Time allowed for the whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Refuse connections beyond this many (default: no limit). */
  maxConnections?: number;
  /** The bearer token of `auth: 'bearer'` routes; without it those routes refuse everyone. */
  apiToken?: string;
  /** Masks the host's secrets in every text answer (the host's `SecretMasker`). */
  mask?: (text: string) => string;
  /** Hears every answered request (metrics): its route pattern, status and duration. */
  observe?: (request: AgentdEvents['http.request']) => void;
  /**
   * Whether `observe` has anyone to tell, asked per request (default: always). A host without
   * metrics then pays nothing per request for them: no timer, no listener, no event.
   */
  observed?: () => boolean;
}

interface MountedRoute {
  path: string;
  handler: RouteHandler;
  bodyLimitBytes: number;
  bearer: boolean;
  duringDrain: boolean;
}

/**
 * The deepest nesting of arrays and objects accepted in a JSON body (webhooks and the API): a
 * body nested deeper is refused with 400 before it is parsed. Real payloads nest a dozen levels;
 * thousands of levels only serve to overflow the stack of whatever walks the value later.
 *
 * @example
 * ```ts
 * parseJson(Buffer.from('['.repeat(MAX_JSON_DEPTH + 1))); // throws HttpError 400
 * ```
 */
export const MAX_JSON_DEPTH = 100;

/**
 * Most request headers accepted (431 beyond). Node would silently drop the headers past its own
 * count limit, so a signature or token sent late would look missing (401): refuse instead.
 *
 * @example
 * ```ts
 * // a request with 200 short headers gets 431 `too_many_headers`
 * ```
 */
export const MAX_REQUEST_HEADERS = 100;

/**
 * After an early error answer (413, or 401/404 to a request whose body was not read), up to this
 * many body bytes are read and discarded before the connection closes: closing on a client that
 * is still uploading resets the connection, and most clients (fetch, curl) then report the reset
 * instead of the answer.
 */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
/** ...stopping as soon as no byte came for this long (ms). */
export const DRAIN_MAX_MS = 2000;

const EMPTY = Buffer.alloc(0);
/** The mounted path pattern a response answers, for `observe` (a bounded metrics label). */
const routeOf = new WeakMap<ServerResponse, string>();
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BINARY_TYPE = 'application/octet-stream';
const UNAUTHORIZED = new HttpError(401, 'unauthorized', 'missing or invalid credentials', {
  'www-authenticate': 'Bearer realm="agentd"',
});

/**
 * The host's HTTP server on bare `node:http`: a small router, a body cap enforced while reading
 * (413 as soon as the declared or received size passes it), header and request timeouts, bearer
 * auth compared in constant time, and a drain that answers 503 to new requests while those in
 * flight finish. The server is built in `register` (so routes can be mounted early) and listens
 * only in {@link AgentdHttpServer.listen}.
 *
 * @example
 * ```ts
 * const server = new AgentdHttpServer({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20,
 *   headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 }, logger);
 * server.route({ method: 'GET', path: '/hello', handler: () => ({ json: { hello: 'world' } }) });
 * const { url } = await server.listen();
 * ```
 */
export class AgentdHttpServer implements HttpServer {
  readonly #router = new Router<MountedRoute>();
  readonly #options: ServerOptions;
  readonly #logger: Logger;
  readonly #tokenDigest: Buffer | undefined;
  #server: Server | undefined;
  #address: HttpAddress | undefined;
  #inFlight = 0;
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  /** Streamed answers still open (Server-Sent Events): ended when the server drains. */
  readonly #streams = new Set<() => void>();

  constructor(options: ServerOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    // Digests have a fixed length, so comparing them is constant-time whatever the token's length.
    this.#tokenDigest = options.apiToken ? sha256(options.apiToken) : undefined;
  }

  get address(): HttpAddress | undefined {
    return this.#address;
  }
  get draining(): boolean {
    return this.#draining;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get listening(): boolean {
    return this.#server?.listening === true;
  }

  route(definition: RouteDefinition): () => void {
    const methods: readonly HttpMethod[] =
      typeof definition.method === 'string' ? [definition.method] : definition.method;
    if (typeof definition.handler !== 'function') {
      throw new AgentdError('E_ROUTE', `route ${definition.path} needs a handler function`);
    }
    const limit = definition.bodyLimitBytes ?? this.#options.bodyLimitBytes;
    const mounted: MountedRoute = {
      path: definition.path,
      handler: definition.handler,
      bodyLimitBytes: Math.min(limit, this.#options.bodyLimitBytes),
      bearer: definition.auth === 'bearer',
      duringDrain: definition.duringDrain === true,
    };
    if (mounted.bearer && !this.#tokenDigest) {
      this.#logger.warn(
        { path: definition.path },
        `route ${definition.path} requires the API token, but none is configured (api.token): it will refuse every request`,
      );
    }
    return this.#router.add(methods, definition.path, mounted);
  }

  /** Binds and starts accepting connections. */
  async listen(): Promise<HttpAddress> {
    if (this.#server) throw new AgentdError('E_HTTP_STATE', 'the HTTP server is already listening');
    const o = this.#options;
    const server = createServer(
      {
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        // Checked in #handle instead, after the header count: node's own check answers a bare
        // 400, and a Host header dropped by the count limit would look missing.
        requireHostHeader: false,
        // Node checks the two timeouts on this interval (default 30 s): a coarse interval would
        // let a slow client hold a socket for up to that much longer than configured.
        connectionsCheckingInterval: Math.max(
          50,
          Math.min(1000, Math.floor(Math.min(o.headersTimeoutMs, o.requestTimeoutMs) / 4)),
        ),
      },
      this.#onRequest,
    );
    if (o.maxConnections !== undefined) server.maxConnections = o.maxConnections;
    // One more than accepted, so a request over the limit is seen (node truncates silently).
    server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
    server.on('clientError', onClientError);
    // With a listener, node leaves `Expect: 100-continue` to us: the go-ahead is sent only once
    // the request passed every check, so a refused upload is never sent at all.
    server.on('checkContinue', this.#onRequest);
    server.on('connect', onConnect);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          new AgentdError(
            'E_HTTP_LISTEN',
            `cannot listen on ${o.host}:${o.port}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}`,
            { cause: error },
          ),
        );
      };
      server.once('error', onError);
      server.listen(o.port, o.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'HTTP server error'));
    this.#server = server;
    const info = server.address() as AddressInfo;
    const host = info.address;
    this.#address = {
      host,
      port: info.port,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
    };
    return this.#address;
  }

  /**
   * Stops taking work: new requests get 503 (routes marked `duringDrain` still answer) and
   * keep-alive connections close after their current answer. Resolves when no request is in
   * flight, or when `signal` aborts.
   */
  async drain(signal?: AbortSignal): Promise<void> {
    this.#draining = true;
    this.#server?.closeIdleConnections();
    for (const stop of [...this.#streams]) stop();
    if (this.#inFlight === 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#idleWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops listening and closes every connection, in flight or not. Idempotent. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#address = undefined;
    this.#draining = true;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.#inFlight++;
    const { observe, observed } = this.#options;
    const timed = observe !== undefined && (observed === undefined || observed());
    if (timed) {
      const started = performance.now();
      res.once('finish', () =>
        observe({
          method: req.method ?? 'GET',
          route: routeOf.get(res) ?? 'unmatched',
          status: res.statusCode,
          durationMs: performance.now() - started,
        }),
      );
    }
    try {
      this.#handle(req, res, timed);
    } catch (error) {
      this.#sendError(res, error);
    }
    // Answered within this call (probes, early refusals) with every byte already handed to the
    // socket: nothing of it is left in flight, so it needs no 'close' listener of its own. Any
    // other request (a body to read, an async handler, a slow socket) is in flight until its
    // response closes.
    if (res.writableEnded && res.writableLength === 0) this.#onSettled();
    else res.once('close', this.#onSettled);
  };

  readonly #onSettled = (): void => {
    this.#inFlight--;
    if (this.#inFlight !== 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  };

  /**
   * Synchronous up to the first thing that must wait (a body, an async handler), so probes and
   * other body-less, synchronous routes are answered without allocating a promise.
   */
  #handle(req: IncomingMessage, res: ServerResponse, timed: boolean): void {
    if (req.rawHeaders.length > MAX_REQUEST_HEADERS * 2) throw tooManyHeaders();
    // llhttp accepts an HTTP/0.9-style request line (`GET /`); answer it rather than route it.
    if (req.httpVersionMajor !== 1) throw versionNotSupported();
    if (req.httpVersionMinor === 1 && req.headers.host === undefined) throw missingHost();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const found = this.#router.match(method, path);
    if (found.kind === 'none') {
      if (this.#draining) throw draining();
      throw new HttpError(404, 'not_found', `no route for ${clip(path)}`);
    }
    if (found.kind === 'method') {
      if (this.#draining) throw draining();
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${clip(path)}`, {
        allow: found.allowed.join(', '),
      });
    }
    const route = found.value;
    if (timed) routeOf.set(res, route.path);
    if (this.#draining && !route.duringDrain) throw draining();
    if (route.bearer && !this.#authorized(req.headers.authorization)) throw UNAUTHORIZED;
    const search = q === -1 ? '' : url.slice(q + 1);
    if (!hasBody(req.headers)) {
      this.#respond(new Request(req, res, method, path, search, found.params, EMPTY), route);
      return;
    }
    readBody(
      req,
      res,
      route.bodyLimitBytes,
      (body) => {
        try {
          this.#respond(new Request(req, res, method, path, search, found.params, body), route);
        } catch (error) {
          this.#sendError(res, error);
        }
      },
      (error: unknown) => this.#sendError(res, error),
    );
  }

  #respond(request: Request, route: MountedRoute): void {
    const res = request.res;
    const answer = route.handler(request);
    if (isThenable(answer)) {
      answer.then(
        (a) => this.#send(res, a),
        (error: unknown) => this.#sendError(res, error),
      );
    } else {
      this.#send(res, answer);
    }
  }

  #authorized(header: string | undefined): boolean {
    if (!this.#tokenDigest || !header) return false;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) return false;
    return timingSafeEqual(sha256(match[1]!), this.#tokenDigest);
  }

  #send(res: ServerResponse, answer: HttpResponse): void {
    if (res.headersSent || res.destroyed) return;
    if (answer.stream !== undefined) {
      const headers: Record<string, string | number | string[]> = answer.headers
        ? { ...answer.headers }
        : {};
      if (this.#draining) headers.connection = 'close';
      const stop = sendStream(
        res,
        { ...answer, stream: answer.stream },
        headers,
        this.#options.mask,
      );
      this.#streams.add(stop);
      res.once('close', () => this.#streams.delete(stop));
      return;
    }
    let payload: string | Uint8Array | undefined;
    let type: string | undefined;
    if (answer.json !== undefined) {
      payload = JSON.stringify(answer.json);
      type = JSON_TYPE;
    } else if (answer.body !== undefined) {
      payload = answer.body;
      type = typeof payload === 'string' ? TEXT_TYPE : BINARY_TYPE;
    }
    // Nothing secret leaves in an answer: task errors, health details, echoed input.
    if (typeof payload === 'string' && this.#options.mask) payload = this.#options.mask(payload);
    const length =
      payload === undefined
        ? 0
        : typeof payload === 'string'
          ? Buffer.byteLength(payload)
          : payload.byteLength;
    res.writeHead(answer.status ?? 200, headerList(answer.headers, type, length, this.#draining));
    res.end(payload);
  }

  #sendError(res: ServerResponse, error: unknown): void {
    let http: HttpError;
    if (error instanceof HttpError) {
      http = error;
    } else if (error instanceof ClientGone) {
      return;
    } else if (error instanceof AgentdError && error.code === 'E_INTAKE_CLOSED') {
      http = draining();
    } else if (error instanceof AgentdError && error.code === 'E_STORE_UNAVAILABLE') {
      // The database is gone for now (a restart, a cut): nothing was stored, the caller retries.
      this.#logger.warn({ err: error.message }, 'answered 503: the store cannot be reached');
      http = new HttpError(
        503,
        'store_unavailable',
        'the store cannot be reached just now; nothing was stored, retry later',
      );
    } else {
      this.#logger.error({ err: error }, 'HTTP handler failed');
      http = new HttpError(500, 'internal', 'internal error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = { ...http.headers };
    if (http.status === 503 && !headers['retry-after']) headers['retry-after'] = '5';
    const req = res.req;
    if (res.destroyed || !hasBody(req.headers) || req.complete) {
      this.#send(res, {
        status: http.status,
        headers,
        json: http.toBody() as unknown as JsonValue,
      });
      return;
    }
    answerAndDrain(req, res, http.status, headers, JSON.stringify(http.toBody()));
  }
}

/**
 * Answers a request whose body is still arriving (413, or an error found before the body was
 * read), then reads and discards up to {@link DRAIN_MAX_BYTES} of the rest, until it ends or
 * pauses for {@link DRAIN_MAX_MS}, before closing. The whole answer (it has a Content-Length) is on the wire
 * first; closing while the client still uploads would reset the connection, and clients report
 * the reset rather than the answer already received.
 */
function answerAndDrain(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  payload: string,
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(payload),
    connection: 'close',
  });
  const declared = Number(req.headers['content-length']);
  if (declared > DRAIN_MAX_BYTES || (expectsContinue(req) && !continued.has(req))) {
    // Refused before the go-ahead of `Expect: 100-continue`: the client sends no body.
    // Otherwise not worth reading: the client gets the answer if it reads before it finishes.
    res.end(payload);
    return;
  }
  res.write(payload);
  let left = DRAIN_MAX_BYTES;
  const finish = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', finish);
    req.off('error', finish);
    res.off('close', finish);
    // With `connection: close`, ending the answer closes the connection.
    if (!res.writableEnded) res.end();
  };
  const onData = (chunk: Buffer): void => {
    left -= chunk.length;
    if (left < 0) finish();
    // An idle limit, not a total one: a loaded machine may take seconds to take in a few MiB.
    // The byte cap and requestTimeout bound the whole.
    else timer.refresh();
  };
  const timer = setTimeout(finish, DRAIN_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.on('end', finish);
  req.on('error', finish);
  res.on('close', finish);
  req.resume();
}

/** Requests told to go ahead (`100 Continue`): their body is on its way. */
const continued = new WeakSet<IncomingMessage>();

function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && expect.toLowerCase() === '100-continue';
}

/** Sockets already answered after a parse error: llhttp reports the same error again on more data. */
const answeredSockets = new WeakSet<Socket>();

/**
 * Requests node:http cannot parse (malformed request line or headers, headers over 16 KiB, a
 * request that took longer than `requestTimeout`, an HTTP/2 preface) get an answer in the JSON
 * error shape, instead of node's bare one, and the connection closes after a short grace period
 * in which further bytes are read and dropped, so the client can read the answer.
 */
function onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (answeredSockets.has(socket)) return;
  answeredSockets.add(socket);
  // Same guard as node's own handler: never write into an answer already under way.
  const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const http = clientErrorAnswer(error);
  writeRawAnswer(socket, http);
}

/** CONNECT asks for a tunnel: this is not a proxy. */
function onConnect(_req: IncomingMessage, socket: Socket): void {
  writeRawAnswer(
    socket,
    new HttpError(
      405,
      'method_not_allowed',
      'CONNECT is not supported: this server is not a proxy',
    ),
  );
}

function writeRawAnswer(socket: Socket, http: HttpError): void {
  const body = JSON.stringify(http.toBody());
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${http.status} ${STATUS_CODES[http.status]}\r\ncontent-type: ${JSON_TYPE}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Keep reading (and dropping) what the client still sends for a moment, then close.
  socket.resume();
  setTimeout(() => socket.destroy(), DRAIN_MAX_MS).unref();
}

function clientErrorAnswer(error: NodeJS.ErrnoException): HttpError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(408, 'request_timeout', 'the request took too long to arrive');
    case 'HPE_HEADER_OVERFLOW':
      // Node 22 and later stop at the header count limit with this same code (Node 20 drops the
      // extra headers, caught in the request handler): a parse that stopped short of the size
      // limit stopped at the count.
      if (parsedBytes(error) < NODE_MAX_HEADER_BYTES) return tooManyHeaders();
      return new HttpError(
        431,
        'headers_too_large',
        'the request line and headers exceed 16 KiB together',
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new HttpError(413, 'payload_too_large', 'the chunk extensions are too large');
    case 'HPE_PAUSED_H2_UPGRADE':
      return versionNotSupported();
    default: {
      // llhttp's reasons are fixed texts ("Invalid header value char"), never request bytes.
      const reason = (error as { reason?: unknown }).reason;
      return new HttpError(
        400,
        'bad_request',
        `malformed HTTP request${typeof reason === 'string' && reason ? `: ${reason}` : ''}`,
      );
    }
  }
}

/** Node's default `--max-http-header-size`: what the `headers_too_large` answer names. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;

function parsedBytes(error: NodeJS.ErrnoException): number {
  const parsed = (error as { bytesParsed?: unknown }).bytesParsed;
  return typeof parsed === 'number' ? parsed : Number.POSITIVE_INFINITY;
}

function tooManyHeaders(): HttpError {
  return new HttpError(
    431,
    'too_many_headers',
    `the request has more than ${MAX_REQUEST_HEADERS} headers`,
  );
}

function missingHost(): HttpError {
  return new HttpError(400, 'bad_request', 'an HTTP/1.1 request needs a Host header', {
    connection: 'close',
  });
}

function versionNotSupported(): HttpError {
  return new HttpError(505, 'http_version_not_supported', 'only HTTP/1.0 and HTTP/1.1 are served', {
    connection: 'close',
  });
}

/** Request text echoed in a message is cut short: a 16 KiB path is no help to anyone. */
function clip(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`;
}

function draining(): HttpError {
  return new HttpError(503, 'unavailable', 'the host is shutting down; retry later');
}

function isThenable(value: unknown): value is PromiseLike<HttpResponse> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * The headers of an answer as the flat `[name, value, name, value]` list `writeHead` takes
 * without walking an object: the handler's own, then a content type when it set none, the
 * content length (always the server's: the payload's real size), and `connection: close` while
 * draining (in place of any the handler set). Built in one pass over the handler's headers, with
 * no copy of them; names are compared without case, as HTTP does.
 */
function headerList(
  given: HttpResponse['headers'],
  type: string | undefined,
  length: number,
  draining: boolean,
): (string | number | string[])[] {
  const list: (string | number | string[])[] = [];
  let typed = type === undefined;
  if (given !== undefined) {
    for (const name in given) {
      if (!Object.hasOwn(given, name)) continue;
      // Only names of these lengths need a look (12 content-type, 14 content-length, 10 connection).
      const n = name.length;
      if (n === 12 || n === 14 || n === 10) {
        const lower = name.toLowerCase();
        if (lower === 'content-length' || (draining && lower === 'connection')) continue;
        if (lower === 'content-type') typed = true;
      }
      list.push(name, given[name]!);
    }
  }
  if (!typed) list.push('content-type', type!);
  list.push('content-length', length);
  if (draining) list.push('connection', 'close');
  return list;
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The client went away before its body arrived: nobody to answer. */
class ClientGone extends Error {}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the body exceeds ${limit} bytes`);
}

/**
 * Reads the body up to `limit` bytes, then calls `done` with it, or `fail` with the reason it
 * was not read. A declared length past the cap is refused before reading a byte; a chunked body
 * is counted as it arrives and refused the moment it passes the cap, so no more than `limit`
 * bytes are ever held. Callbacks rather than a promise: the body is read once per request, and a
 * promise added an allocation and a turn of the microtask queue to each.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  done: (body: Buffer) => void,
  fail: (error: unknown) => void,
): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    fail(tooLarge(limit));
    return;
  }
  if (expectsContinue(req)) {
    continued.add(req);
    res.writeContinue();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Once the body is read (or refused) the listeners only return: taking them off cost four
  // removeListener calls per request, one of which schedules a tick. The request and response
  // they hang on are dropped with them once answered.
  let settled = false;
  const onData = (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limit) {
      settled = true;
      chunks.length = 0;
      req.off('data', onData); // nothing more is held: the rest is read by the drain, if at all
      req.pause();
      fail(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    if (settled) return;
    settled = true;
    done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  };
  // A request error, or the response closed before the body arrived: nobody to answer.
  const onError = () => {
    if (settled) return;
    settled = true;
    fail(new ClientGone());
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  res.on('close', onError);
}

class Request implements HttpRequest {
  #query: URLSearchParams | undefined;
  #abort: AbortController | undefined;
  readonly headers: IncomingHttpHeaders;

  constructor(
    private readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    readonly path: string,
    private readonly search: string,
    readonly params: Readonly<Record<string, string>>,
    readonly body: Buffer,
  ) {
    this.headers = req.headers;
  }

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.search);
    return this.#query;
  }

  get remoteAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      const abort = new AbortController();
      this.#abort = abort;
      if (this.res.destroyed) abort.abort();
      else
        this.res.once('close', () => {
          if (!this.res.writableFinished) abort.abort();
        });
    }
    return this.#abort.signal;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined || first === '' ? undefined : first;
  }

  json(): JsonValue {
    return parseJson(this.body, this.headers);
  }
}

/**
 * Parses a JSON body; a leading UTF-8 BOM is ignored (RFC 8259 allows parsers to). Refused with
 * 400: an empty body, bytes that are not UTF-8, nesting deeper than {@link MAX_JSON_DEPTH}, and
 * anything JSON.parse refuses (the message then names a declared non-JSON content type or a
 * content encoding, the usual reasons).
 */
export function parseJson(body: Buffer, headers?: IncomingHttpHeaders): JsonValue {
  const start =
    body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  const text = textOf(body, start, headers, true);
  if (text.trim() === '')
    throw new HttpError(400, 'bad_request', 'the body must be JSON, and is empty');
  if (body.length - start > MAX_JSON_DEPTH && nestedDeeperThan(body, start, MAX_JSON_DEPTH)) {
    throw new HttpError(
      400,
      'bad_request',
      `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects (the limit)`,
    );
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new HttpError(400, 'bad_request', `the body is not valid JSON${bodyHint(headers, true)}`);
  }
}

/**
 * The body as text, refusing bytes that are not UTF-8 (400): decoding would silently replace
 * them with U+FFFD, storing something other than what was sent.
 */
export function textOf(
  body: Buffer,
  start = 0,
  headers?: IncomingHttpHeaders,
  json = false,
): string {
  if (!isUtf8(start === 0 ? body : body.subarray(start))) {
    throw new HttpError(
      400,
      'bad_request',
      `the body is not valid UTF-8 text${bodyHint(headers, json)}`,
    );
  }
  return body.toString('utf8', start);
}

/** Why a body may not be JSON (or text), from its headers (only read once parsing failed). */
function bodyHint(headers: IncomingHttpHeaders | undefined, json: boolean): string {
  const encoding = headers?.['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    return ` (it was sent with Content-Encoding: ${clip(encoding)}; compressed bodies are not decoded)`;
  }
  const type = headers?.['content-type'];
  if (json && type && !isJsonType(type)) {
    return ` (it was sent as ${clip(type)}; send application/json)`;
  }
  return '';
}

/**
 * `application/json`, or any `+json` type, with or without parameters.
 *
 * @example
 * ```ts
 * isJsonType('application/json; charset=utf-8'); // true
 * isJsonType('application/x-www-form-urlencoded'); // false
 * ```
 */
export function isJsonType(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * True when brackets nest deeper than `max` outside strings. A linear scan of the bytes, with no
 * recursion and no allocation: UTF-8 continuation bytes never equal an ASCII bracket or quote.
 */
function nestedDeeperThan(bytes: Buffer, start: number, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) {
        i++; // a backslash escapes the next byte
      } else if (b === 0x22) {
        inString = false;
      }
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
  return false;
}
