import { AgentdError } from '@agentd/core';

interface DynamicRoute<T> {
  /** Literal segments, `null` for a `:param`; a trailing `*` is kept in `rest`. */
  segments: (string | null)[];
  names: string[];
  rest: boolean;
  /** Normalised pattern (param names erased), to find conflicts. */
  shape: string;
  methods: Map<string, T>;
}

/** What {@link Router.match} found. */
export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Readonly<Record<string, string>> }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

/** The params of an exact path: one frozen object shared by every match. */
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** A found match of an exact path, made once when the route is added and returned as is. */
type Found<T> = Extract<RouteMatch<T>, { kind: 'found' }>;

/**
 * A small method-and-path router: exact paths in a map (the common case, one lookup), `:param`
 * and trailing `/*` patterns tried in insertion order. Routes can be added and removed at any
 * time, which routers that compile their table on first match (Hono's) do not allow, and other
 * plugins mount routes after the server started listening.
 *
 * @example
 * ```ts
 * const r = new Router<string>();
 * r.add(['GET'], '/tasks/:id', 'task');
 * r.match('GET', '/tasks/42'); // { kind: 'found', value: 'task', params: { id: '42' } }
 * ```
 */
export class Router<T> {
  /** Exact paths: method to the match itself, so a hit allocates nothing (probes, webhooks). */
  readonly #static = new Map<string, Map<string, Found<T>>>();
  readonly #dynamic: DynamicRoute<T>[] = [];

  /** Adds `value` for each method at `pattern`; returns a remover. Throws on a taken method+path. */
  add(methods: readonly string[], pattern: string, value: T): () => void {
    if (!pattern.startsWith('/') || /[?#\s]/.test(pattern)) {
      throw new AgentdError(
        'E_ROUTE',
        `route path "${pattern}" must start with "/" and hold no "?", "#" or spaces`,
      );
    }
    const table = this.#tableFor(pattern);
    for (const m of methods) {
      if (table.map.has(m)) {
        throw new AgentdError('E_ROUTE', `route ${m} ${pattern} is already mounted`);
      }
    }
    if (table.kind === 'static') {
      const found: Found<T> = { kind: 'found', value, params: NO_PARAMS };
      for (const m of methods) table.map.set(m, found);
      return () => {
        for (const m of methods) if (table.map.get(m) === found) table.map.delete(m);
      };
    }
    for (const m of methods) table.map.set(m, value);
    return () => {
      for (const m of methods) if (table.map.get(m) === value) table.map.delete(m);
    };
  }

  match(method: string, path: string): RouteMatch<T> {
    const exact = this.#static.get(path);
    if (exact && exact.size > 0) {
      return lookup(exact, method) ?? notAllowed(exact);
    }
    if (this.#dynamic.length === 0) return { kind: 'none' };
    const parts = path.split('/');
    for (const route of this.#dynamic) {
      if (route.methods.size === 0) continue;
      const params = matchDynamic(route, parts);
      if (params) return pick(route.methods, method, params);
    }
    return { kind: 'none' };
  }

  #tableFor(
    pattern: string,
  ): { kind: 'static'; map: Map<string, Found<T>> } | { kind: 'dynamic'; map: Map<string, T> } {
    const raw = pattern.split('/');
    const rest = raw.at(-1) === '*';
    if (rest) raw.pop();
    if (raw.some((s) => s.includes('*'))) {
      throw new AgentdError(
        'E_ROUTE',
        `route path "${pattern}": "*" is allowed only as the last segment`,
      );
    }
    const dynamic = rest || raw.some((s) => s.startsWith(':'));
    if (!dynamic) {
      let table = this.#static.get(pattern);
      if (!table) {
        table = new Map();
        this.#static.set(pattern, table);
      }
      return { kind: 'static', map: table };
    }
    const names: string[] = [];
    const segments = raw.map((s) => {
      if (!s.startsWith(':')) return s;
      if (s.length < 2)
        throw new AgentdError('E_ROUTE', `route path "${pattern}" has an empty :param`);
      names.push(s.slice(1));
      return null;
    });
    const shape = `${segments.map((s) => s ?? ':').join('/')}${rest ? '/*' : ''}`;
    let route = this.#dynamic.find((r) => r.shape === shape);
    if (!route) {
      route = { segments, names, rest, shape, methods: new Map() };
      this.#dynamic.push(route);
    }
    return { kind: 'dynamic', map: route.methods };
  }
}

function matchDynamic<T>(
  route: DynamicRoute<T>,
  parts: string[],
): Record<string, string> | undefined {
  const { segments } = route;
  if (route.rest ? parts.length <= segments.length : parts.length !== segments.length) return;
  const params: Record<string, string> = {};
  let n = 0;
  for (let i = 0; i < segments.length; i++) {
    const want = segments[i];
    const got = parts[i]!;
    if (want === null) {
      if (got === '') return;
      params[route.names[n++]!] = decode(got);
    } else if (want !== got) {
      return;
    }
  }
  if (route.rest) params['*'] = parts.slice(segments.length).join('/');
  return params;
}

function pick<T>(
  table: Map<string, T>,
  method: string,
  params: Record<string, string>,
): RouteMatch<T> {
  const value = lookup(table, method);
  if (value !== undefined) return { kind: 'found', value, params };
  return notAllowed(table);
}

/** The entry for `method`; a HEAD falls back to the GET's. */
function lookup<V>(table: Map<string, V>, method: string): V | undefined {
  return table.get(method) ?? (method === 'HEAD' ? table.get('GET') : undefined);
}

function notAllowed(table: Map<string, unknown>): RouteMatch<never> {
  const allowed = [...table.keys()];
  if (table.has('GET') && !table.has('HEAD')) allowed.push('HEAD');
  return { kind: 'method', allowed };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is not worth a 500: keep it raw, it simply matches no id.
    return segment;
  }
}
