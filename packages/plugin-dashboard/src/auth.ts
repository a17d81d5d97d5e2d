import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError, type HttpRequest } from '@agentd/core';

/** The session cookie's name. */
export const SESSION_COOKIE = 'agentd_dashboard';
/** The header a state-changing request must carry, holding the CSRF token from `GET api/me`. */
export const CSRF_HEADER = 'x-agentd-csrf';
/** Failed logins per client address before it must wait. */
const LOGIN_FAILURES_ALLOWED = 5;
const LOGIN_WINDOW_MS = 60_000;
/** Logins kept at once; the oldest is dropped past this. */
const MAX_SESSIONS = 200;

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const newSecret = () => randomBytes(32).toString('base64url');

interface Login {
  csrf: string;
  user: string;
  lastUsedAt: number;
}

/** The dashboard user of open mode (whoever can reach the loopback address). */
export const LOCAL_USER = 'local';
/** The dashboard user of a login that named none. */
export const DEFAULT_LOGIN_USER = 'operator';
/** A dashboard user name: what their chat conversation and sessions are keyed by. */
const USER_NAME = /^[A-Za-z0-9._-]{1,40}$/;

/**
 * Who is asking: the CSRF token to send back and the dashboard user (the name given at login,
 * `local` in open mode), or why not.
 */
export type Caller = { ok: true; csrf: string; user: string; sessionId?: string } | { ok: false };

/**
 * The dashboard's access rules. In `open` mode (loopback, no login) the API answers requests
 * whose Host is a loopback name, so a web page cannot reach it through DNS rebinding; in
 * `login` mode it answers requests with a session cookie set by a login with the token. In both
 * modes a state-changing request needs the CSRF token (a custom header, which a cross-origin
 * form cannot send and a cross-origin script cannot read) and a same-origin `Origin` if any.
 *
 * @example
 * ```ts
 * const auth = new DashboardAuth('login', '/dashboard', token, 12 * 3600_000, () => Date.now());
 * const caller = auth.caller(request); // { ok: false } until a login
 * ```
 */
export class DashboardAuth {
  readonly #sessions = new Map<string, Login>();
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #tokenDigest: Buffer | undefined;
  /** The one CSRF token of open mode: per process, readable only same-origin. */
  readonly #openCsrf = newSecret();

  constructor(
    readonly mode: 'open' | 'login',
    readonly path: string,
    token: string | undefined,
    readonly idleMs: number,
    readonly now: () => number,
  ) {
    this.#tokenDigest = token === undefined ? undefined : sha256(token);
  }

  /** The caller's standing; never throws. */
  caller(request: HttpRequest): Caller {
    if (this.mode === 'open') {
      return loopbackHost(request.header('host'))
        ? { ok: true, csrf: this.#openCsrf, user: LOCAL_USER }
        : { ok: false };
    }
    const id = cookie(request.header('cookie'), SESSION_COOKIE);
    const login = id === undefined ? undefined : this.#sessions.get(id);
    if (!id || !login) return { ok: false };
    const now = this.now();
    if (now - login.lastUsedAt > this.idleMs) {
      this.#sessions.delete(id);
      return { ok: false };
    }
    login.lastUsedAt = now;
    return { ok: true, csrf: login.csrf, user: login.user, sessionId: id };
  }

  /** Throws 401 unless the caller may read; 403 unless it may also change things (`write`). */
  check(request: HttpRequest, write: boolean): Caller & { ok: true } {
    const caller = this.caller(request);
    if (!caller.ok) {
      throw this.mode === 'open'
        ? new HttpError(403, 'forbidden', 'the dashboard answers loopback host names only')
        : new HttpError(401, 'unauthorized', 'log in first');
    }
    if (write) checkSameOrigin(request, caller.csrf);
    return caller;
  }

  /**
   * Checks a submitted token; returns the Set-Cookie header of a new login as `user` (a name of
   * 1-40 letters, digits and `._-`; default `operator`). Everyone with the token may log in as
   * any name: the name keeps people's chats and sessions apart, it is not a permission.
   */
  login(request: HttpRequest, token: unknown, secure: boolean, user: unknown = undefined): string {
    checkSameOrigin(request, undefined);
    if (user !== undefined && (typeof user !== 'string' || !USER_NAME.test(user))) {
      throw new HttpError(
        400,
        'bad_request',
        'user must be 1-40 letters, digits and ._- characters',
      );
    }
    const address = request.remoteAddress ?? 'unknown';
    const now = this.now();
    const failures = this.#failures.get(address);
    if (
      failures &&
      now - failures.since < LOGIN_WINDOW_MS &&
      failures.count >= LOGIN_FAILURES_ALLOWED
    ) {
      throw new HttpError(429, 'too_many_requests', 'too many failed logins; wait a minute', {
        'retry-after': String(Math.ceil((failures.since + LOGIN_WINDOW_MS - now) / 1000)),
      });
    }
    const ok =
      this.#tokenDigest !== undefined &&
      typeof token === 'string' &&
      timingSafeEqual(sha256(token), this.#tokenDigest);
    if (!ok) {
      const fresh = !failures || now - failures.since >= LOGIN_WINDOW_MS;
      this.#failures.set(
        address,
        fresh ? { count: 1, since: now } : { ...failures, count: failures.count + 1 },
      );
      if (this.#failures.size > 10_000) this.#failures.clear();
      throw new HttpError(401, 'unauthorized', 'wrong token');
    }
    this.#failures.delete(address);
    const id = newSecret();
    this.#sessions.set(id, {
      csrf: newSecret(),
      user: typeof user === 'string' ? user : DEFAULT_LOGIN_USER,
      lastUsedAt: now,
    });
    while (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    return this.#cookie(id, Math.floor(this.idleMs / 1000), secure);
  }

  /** Ends the caller's login; returns the Set-Cookie header that clears the cookie. */
  logout(request: HttpRequest, secure: boolean): string {
    const caller = this.check(request, true);
    if (caller.sessionId) this.#sessions.delete(caller.sessionId);
    return this.#cookie('', 0, secure);
  }

  #cookie(value: string, maxAge: number, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=${this.path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}

/**
 * Refuses (403) a request from another origin: an `Origin` header not naming this host, or a
 * missing or wrong CSRF header (`csrf` undefined: the header is not checked, for the login).
 */
function checkSameOrigin(request: HttpRequest, csrf: string | undefined): void {
  const origin = request.header('origin');
  const host = request.header('host');
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || originHost !== host) {
      throw new HttpError(403, 'forbidden', 'cross-origin request refused');
    }
  }
  if (csrf === undefined) return;
  const sent = request.header(CSRF_HEADER);
  if (sent === undefined || !timingSafeEqual(sha256(sent), sha256(csrf))) {
    throw new HttpError(403, 'forbidden', `missing or wrong ${CSRF_HEADER} header`);
  }
}

/** A cookie's value from a Cookie header. */
function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name)
      return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Whether a Host header names a loopback host (DNS rebinding sends the attacker's name). */
export function loopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Whether the server's bound address is loopback only (127.0.0.0/8, ::1). Unknown counts as
 * exposed.
 *
 * @example
 * ```ts
 * boundToLoopback('127.0.0.1'); // true
 * boundToLoopback('0.0.0.0'); // false
 * ```
 */
export function boundToLoopback(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
