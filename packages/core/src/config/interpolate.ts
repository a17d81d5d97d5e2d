import { issueLine, joinPath } from './issues.js';

const PLACEHOLDER = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string of `value` with environment
 * variables; `$$` is a literal `$`. Unset variables are collected as `path: message` issues that
 * name the variable, never its value.
 *
 * @example
 * ```ts
 * interpolateEnv({ token: '${TELEGRAM_TOKEN}' }, { TELEGRAM_TOKEN: 'abc' }, 'plugins[0]', issues);
 * // { token: 'abc' }
 * ```
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  issues: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (match, name: string | undefined, fallback?: string) => {
      if (match === '$$') return '$';
      const found = env[name!];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push(issueLine(path, `environment variable ${name} is not set`));
      return '';
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => interpolateEnv(v, env, joinPath(path, `[${i}]`), issues));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = interpolateEnv(v, env, joinPath(path, k), issues);
    return out;
  }
  return value;
}

/** True for `{}` literals and JSON objects, false for class instances, functions and arrays. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
