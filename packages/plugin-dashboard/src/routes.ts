import {
  AgentdError,
  type AgentRegistry,
  type Clock,
  type HealthRegistry,
  type HostInfo,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  type HttpServer,
  type IntakeGuard,
  type JsonValue,
  type Logger,
  type SessionStore,
  type TaskQueue,
  type TaskStore,
} from '@agentd/core';
import type { Scheduler } from '@agentd/core/scheduler';
import type { SessionManager } from '@agentd/core/sessions';
import { SECURITY_HEADERS } from './assets.js';
import type { DashboardAuth } from './auth.js';
import type { LiveHub } from './live.js';

/** What the dashboard's API reads and changes; every part but the auth is optional. */
export interface DashboardDeps {
  auth: DashboardAuth;
  live: LiveHub;
  clock: Clock;
  logger: Logger;
  info: HostInfo;
  version: string;
  health: HealthRegistry;
  agents: AgentRegistry | undefined;
  tasks: TaskStore | undefined;
  queue: TaskQueue | undefined;
  sessions: SessionStore | undefined;
  /** Archives sessions (closing their agent's resource); absent in hosts without sessions. */
  sessionManager: SessionManager | undefined;
  scheduler: Scheduler | undefined;
  guard: IntakeGuard | undefined;
  storeDescription: string | undefined;
  /** Masks secrets in everything the API answers (the host's SecretMasker, or shapes only). */
  mask: <T>(value: T) => T;
  /** The most open streams. */
  maxStreams: number;
}

/** A JSON answer, masked, never cached, with the dashboard's security headers. */
export function answer(deps: DashboardDeps, value: unknown, status = 200): HttpResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'cache-control': 'no-store' },
    json: deps.mask(value) as JsonValue,
  };
}

/** A 400 answer. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'bad_request', message);
}

/** The service, or a 503 naming what the host lacks. */
export function need<T>(service: T | undefined, what: string): T {
  if (service === undefined) throw new HttpError(503, 'unavailable', `this host has no ${what}`);
  return service;
}

/** A store error the caller caused (a bad query) as a 400; anything else unchanged. */
export function callerError(error: unknown, codes: readonly string[]): unknown {
  if (error instanceof AgentdError && codes.includes(error.code)) return badRequest(error.message);
  return error;
}

/** Mounts one API route: every API route checks the caller, and `POST`s its CSRF token too. */
export type ApiRoute = (
  method: 'GET' | 'POST',
  path: string,
  handler: (request: HttpRequest) => Promise<HttpResponse> | HttpResponse,
  options?: {
    open?: boolean;
    bodyLimitBytes?: number;
    /** An answer of its own per request (the event stream): never shared. */
    stream?: boolean;
  },
) => void;

/**
 * A function that mounts API routes under `${base}/api` on `server`, each checking the caller
 * (and, for `POST`, the CSRF token) before its handler runs; `open` routes (the login) check
 * themselves. The removers are pushed to `offs`. Plain `GET` routes (no `:param`, no stream) are
 * also put in `reads`, with the same caller check, for the page to embed their first answers.
 *
 * @example
 * ```ts
 * const route = apiRouter(server, '/dashboard', deps, offs);
 * route('GET', '/tasks', (request) => answer(deps, { tasks: [] }));
 * ```
 */
export function apiRouter(
  server: HttpServer,
  base: string,
  deps: DashboardDeps,
  offs: (() => void)[],
  reads?: Map<string, (request: HttpRequest) => Promise<HttpResponse> | HttpResponse>,
): ApiRoute {
  // Reads of the same URL that arrive while one is being answered share its answer: every open
  // tab re-reads its page about 500 ms after the same live event, so twenty tabs on the overview
  // cost the host one read, not twenty. The shared answer was started after the request's cause
  // (the event), and a later event makes each tab read again, so no tab is left stale.
  const inFlight = new Map<string, Promise<HttpResponse>>();
  const shared = (request: HttpRequest, read: () => Promise<HttpResponse> | HttpResponse) => {
    const key = `${request.method} ${request.path}?${request.query.toString()}`;
    const running = inFlight.get(key);
    if (running) return running;
    const answer = Promise.resolve()
      .then(read)
      .finally(() => inFlight.delete(key));
    inFlight.set(key, answer);
    return answer;
  };
  return (method, path, handler, options = {}) => {
    if (reads && method === 'GET' && !options.stream && !path.includes(':')) {
      // The same caller check as over HTTP, without the sharing (keyed by the request's path).
      reads.set(path, (request) => {
        if (!options.open) deps.auth.check(request, false);
        return handler(request);
      });
    }
    offs.push(
      server.route({
        method,
        path: `${base}/api${path}`,
        bodyLimitBytes: options.bodyLimitBytes ?? 256 * 1024,
        handler: (request) => {
          if (!options.open) deps.auth.check(request, method === 'POST');
          if (method === 'GET' && !options.open && !options.stream) {
            return shared(request, () => handler(request));
          }
          return handler(request);
        },
      }),
    );
  };
}

/** A whole number query parameter within bounds (400 otherwise). */
export function intParam(
  request: HttpRequest,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A comma-separated list of allowed values (400 on an unknown one). */
export function listParam<T extends string>(
  request: HttpRequest,
  name: string,
  allowed: readonly T[],
): T[] | undefined {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return undefined;
  const values = raw.split(',').map((s) => s.trim());
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw badRequest(`unknown ${name} "${value.slice(0, 40)}" (use ${allowed.join(', ')})`);
    }
  }
  return values as T[];
}

/** A string query parameter of at most `max` characters, without control characters. */
export function textParam(request: HttpRequest, name: string, max: number): string | undefined {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw.length > max) throw badRequest(`${name} is longer than ${max} characters`);
  if (/\p{Cc}/u.test(raw)) throw badRequest(`${name} must not contain control characters`);
  return raw;
}
