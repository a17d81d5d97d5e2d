// The dashboard's calls to its own API: same origin, the session cookie sent by the browser,
// and the CSRF token (from /api/me) on every change.

import { takeFirst } from './first-view';

let csrf: string | undefined;

/** An API error answer, with the server's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where the API lives: beside the page (`/dashboard/` → `/dashboard/api`). Read by the browser
 * only; the server's first-view rendering makes no call.
 */
export const apiBase =
  typeof document === 'undefined'
    ? ''
    : new URL('api', document.baseURI.replace(/[?#].*$/, '')).pathname;

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-agentd-csrf'] = csrf;
  const response = await fetch(`${apiBase}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  const data = (await response.json().catch(() => ({}))) as {
    error?: { code: string; message: string };
  };
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event('agentd:logged-out'));
    throw new ApiError(
      response.status,
      data.error?.code ?? 'error',
      data.error?.message ?? response.statusText,
    );
  }
  return data as T;
}

export const get = <T>(path: string, signal?: AbortSignal) =>
  call<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown = {}) => call<T>('POST', path, body);

export interface Me {
  auth: 'open' | 'login';
  authenticated: boolean;
  csrf?: string;
  /** The dashboard user (`local` in open mode, the login's name otherwise). */
  user?: string;
}

/** Who the API thinks we are; keeps the CSRF token for later changes. */
export async function whoAmI(): Promise<Me> {
  const me = await get<Me>('/me');
  csrf = me.csrf;
  return me;
}

/** The page's own /api/me answer (first-view.ts), once, keeping its CSRF token; or undefined. */
export function pageMe(): Me | undefined {
  const me = takeFirst<Me>('/me');
  if (me) csrf = me.csrf;
  return me;
}

/** A query string from the values that are set. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') search.set(k, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
