import { issueLine, joinPath } from './issues.js';

const PLACEHOLDER = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * What interpolation found across a whole config: the values it filled in from the environment
 * (secrets for the host's masker) and the variables that were unset, each with every place that
 * uses it, so one unset variable is reported once.
 *
 * @example
 * ```ts
 * const found = new EnvInterpolation();
 * interpolateEnv({ token: '${TELEGRAM_TOKEN}' }, process.env, 'plugins[0]', found);
 * if (found.unset.size) throw new ConfigError('invalid config', found.issues());
 * ```
 */
export class EnvInterpolation {
  /** Values filled in from environment variables (not `:-` defaults). */
  readonly secrets = new Set<string>();
  /** Unset variable name → config paths that use it, in order of appearance. */
  readonly unset = new Map<string, string[]>();

  /** One `environment variable X is not set (used at a, b)` line per unset variable. */
  issues(): string[] {
    return [...this.unset].map(([name, paths]) => {
      const where = paths.filter(Boolean);
      return issueLine(
        '',
        `environment variable ${name} is not set${where.length ? ` (used at ${where.join(', ')})` : ''}`,
      );
    });
  }
}

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string of `value` with environment
 * variables; `$$` is a literal `$`. Values filled in from the environment are added to
 * `found.secrets`; unset variables to `found.unset` with the path that uses them, never a value.
 * Walks plain objects and arrays; class instances and functions are left as they are.
 *
 * @example
 * ```ts
 * interpolateEnv({ token: '${TELEGRAM_TOKEN}' }, { TELEGRAM_TOKEN: 'abc' }, 'plugins[0]', found);
 * // { token: 'abc' }
 * ```
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  found: EnvInterpolation,
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    return value.replace(PLACEHOLDER, (match, name: string | undefined, fallback?: string) => {
      if (match === '$$') return '$';
      const value = env[name!];
      if (value !== undefined && value !== '') {
        found.secrets.add(value);
        return value;
      }
      if (fallback !== undefined) return fallback;
      const paths = found.unset.get(name!) ?? [];
      if (!paths.includes(path)) paths.push(path);
      found.unset.set(name!, paths);
      return '';
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => interpolateEnv(v, env, joinPath(path, `[${i}]`), found));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = interpolateEnv(v, env, joinPath(path, k), found);
    return out;
  }
  return value;
}

/** Whether a string holds a `${NAME}` placeholder. */
export function hasPlaceholder(value: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/.test(value);
}

/** True for `{}` literals and JSON objects, false for class instances, functions and arrays. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
